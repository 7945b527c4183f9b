#include "tickforge/label/source.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <gtest/gtest.h>
#include <parquet/arrow/writer.h>

#include "tickforge/label/test_common.h"
#include "tickforge/store/store.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"
#include "tickforge/util/files.h"

namespace tickforge::label {
namespace {

using testing::ScopedTempDir;

Result<std::shared_ptr<arrow::Table>> ReadAll(const InputFile& input, const std::vector<std::string>& columns,
                                              int64_t batch_rows) {
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenInput(input, columns, batch_rows));
  arrow::RecordBatchVector batches;
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    ARROW_RETURN_NOT_OK(reader->ReadNext(&batch));
    if (!batch) break;
    if (batch->num_rows() > batch_rows) return Status::Invalid("a batch of ", batch->num_rows(), " rows");
    batches.push_back(batch);
  }
  return arrow::Table::FromRecordBatches(reader->schema(), batches);
}

TEST(SourceTest, DbnParquetAndProjectedReadsGiveTheSameRows) {
  ScopedTempDir dir("tickforge_label_source");
  ASSERT_OK_AND_ASSIGN(auto paths, internal::WriteDays(dir.path() / "raw", 1, 2, 3000));
  ASSERT_OK_AND_ASSIGN(auto files, ListInputs(paths));
  ASSERT_OK_AND_ASSIGN(auto full, ReadAll(files[0], {}, 1000));
  EXPECT_TRUE(full->schema()->Equals(*Mbp10Schema()));
  EXPECT_EQ(full->num_rows(), 3000);

  // Projection keeps the MBP-10 column order, whatever order the caller names them in.
  ASSERT_OK_AND_ASSIGN(auto projected, ReadAll(files[0], {"ask_px_00", "ts_event"}, 1000));
  EXPECT_EQ(projected->schema()->field_names(), (std::vector<std::string>{"ts_event", "ask_px_00"}));
  EXPECT_TRUE(projected->GetColumnByName("ask_px_00")->Equals(*full->GetColumnByName("ask_px_00")));
  EXPECT_FALSE(OpenInput(files[0], {"no_such_column"}).ok());

  // The same rows as a Parquet file without its symbol column, the symbol given as a constant
  // (a store file's partition value), one symbol per file.
  {
    const std::string symbol = "A";
    const auto pq = dir.path() / "rows.parquet";
    ASSERT_OK_AND_ASSIGN(auto without, full->RemoveColumn(full->schema()->GetFieldIndex("symbol")));
    ASSERT_OK_AND_ASSIGN(auto out, arrow::io::FileOutputStream::Open(pq.string()));
    ASSERT_OK(parquet::arrow::WriteTable(*without, arrow::default_memory_pool(), out, 700));
    ASSERT_OK(out->Close());
    InputFile input{pq.string(), "rows.parquet", 0, 0, 0, {ParquetPart{pq.string(), 0, 0, {{"symbol", symbol}}}}, {}};
    ASSERT_OK_AND_ASSIGN(auto back, ReadAll(input, {}, 500));
    ASSERT_TRUE(back->schema()->Equals(*Mbp10Schema()));
    ASSERT_OK_AND_ASSIGN(auto symbols, arrow::MakeArrayFromScalar(arrow::StringScalar(symbol), full->num_rows()));
    ASSERT_OK_AND_ASSIGN(auto want, full->SetColumn(full->schema()->GetFieldIndex("symbol"),
                                                    full->schema()->GetFieldByName("symbol"),
                                                    std::make_shared<arrow::ChunkedArray>(symbols)));
    ASSERT_OK_AND_ASSIGN(auto got, back->CombineChunks());
    ASSERT_OK_AND_ASSIGN(want, want->CombineChunks());
    EXPECT_TRUE(got->Equals(*want));
    // A Parquet file lacking a column with no constant for it is an error naming both.
    input.parquet[0].constants.clear();
    auto missing = ReadAll(input, {}, 500);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.status().message().find("symbol"), std::string::npos);
    EXPECT_NE(missing.status().message().find(pq.string()), std::string::npos);
  }
}

TEST(SourceTest, StoreSelectionsThatDoNotExistNameWhatDoes) {
  ScopedTempDir dir("tickforge_label_source_store");
  auto none = ListStoreInputs({.root = (dir.path() / "nothing").string()});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("nothing"), std::string::npos);

  ASSERT_OK_AND_ASSIGN(auto paths, internal::WriteDays(dir.path() / "raw", 2, 2, 500));
  ASSERT_OK_AND_ASSIGN(auto store, store::Store::Open(dir.path() / "store"));
  ASSERT_OK(store->Ingest(paths).status());
  const std::string root = (dir.path() / "store").string();
  ASSERT_OK_AND_ASSIGN(auto all, ListStoreInputs({.root = root}));
  EXPECT_EQ(all.version, 1);
  ASSERT_EQ(all.files.size(), 2u);  // one input per day, each with both symbols' files
  EXPECT_EQ(all.files[0].parquet.size(), 2u);
  EXPECT_LT(all.files[0].start, all.files[1].start);

  auto dataset = ListStoreInputs({.root = root, .dataset = "mbo"});
  ASSERT_FALSE(dataset.ok());
  EXPECT_NE(dataset.status().message().find("mbp10"), std::string::npos) << dataset.status().message();
  auto version = ListStoreInputs({.root = root, .version = 4});
  ASSERT_FALSE(version.ok());
  EXPECT_NE(version.status().message().find("versions 1 to 1"), std::string::npos) << version.status().message();
  auto symbol = ListStoreInputs({.root = root, .symbols = {"NOPE"}});
  ASSERT_FALSE(symbol.ok());
  EXPECT_NE(symbol.status().message().find("NOPE"), std::string::npos);
  EXPECT_NE(symbol.status().message().find("symbols: "), std::string::npos);
  auto days = ListStoreInputs({.root = root, .start = "2030-01-01"});
  EXPECT_FALSE(days.ok());
}

}  // namespace
}  // namespace tickforge::label
