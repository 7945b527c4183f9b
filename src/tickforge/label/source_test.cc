#include "tickforge/label/source.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
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

// A depth book's rows: the same rows with uint64 sizes of 10^-8 units (and a uint64 sequence
// past 32 bits), `tickforge.size_scale` 8 in the file's metadata.
Result<std::shared_ptr<arrow::Table>> Widened(const arrow::Table& rows, uint64_t multiplier) {
  std::shared_ptr<arrow::Table> out = rows.ReplaceSchemaMetadata(nullptr);
  for (int c = 0; c < out->num_columns(); ++c) {
    const std::string name = out->field(c)->name();
    const bool size = name == "size" || name.find("_sz_") != std::string::npos;
    if (!size && name != "sequence") continue;
    ARROW_ASSIGN_OR_RAISE(auto wide, arrow::compute::Cast(out->column(c), arrow::uint64()));
    const uint64_t by = size ? multiplier : 1;
    ARROW_ASSIGN_OR_RAISE(wide, arrow::compute::Multiply(wide, arrow::Datum(std::make_shared<arrow::UInt64Scalar>(by))));
    if (!size) {
      ARROW_ASSIGN_OR_RAISE(wide, arrow::compute::Add(wide, arrow::Datum(std::make_shared<arrow::UInt64Scalar>(uint64_t{5} << 32))));
    }
    ARROW_ASSIGN_OR_RAISE(out, out->SetColumn(c, arrow::field(name, arrow::uint64(), false), wide.chunked_array()));
  }
  return out->ReplaceSchemaMetadata(arrow::KeyValueMetadata::Make({"tickforge.size_scale"}, {"8"}));
}

Status WriteParquet(const arrow::Table& table, const std::filesystem::path& path) {
  ARROW_ASSIGN_OR_RAISE(auto out, arrow::io::FileOutputStream::Open(path.string()));
  auto properties = parquet::ArrowWriterProperties::Builder().store_schema()->build();
  ARROW_RETURN_NOT_OK(parquet::arrow::WriteTable(table, arrow::default_memory_pool(), out, 700,
                                                 parquet::default_writer_properties(), properties));
  return out->Close();
}

TEST(SourceTest, FixedPointSizesComeDownToTheRunsScaleExactly) {
  ASSERT_OK(InitializeCompute());
  ScopedTempDir dir("tickforge_label_wide");
  ASSERT_OK_AND_ASSIGN(auto paths, internal::WriteDays(dir.path() / "raw", 1, 1, 2000));
  ASSERT_OK_AND_ASSIGN(auto files, ListInputs(paths));
  ASSERT_OK_AND_ASSIGN(auto full, ReadAll(files[0], {}, 1000));
  // Sizes in 1e-8 units, padded with seven zeros; one level of 50,000 units (5e12 at scale 8)
  // passes uint32 until the scale comes down to 4.
  ASSERT_OK_AND_ASSIGN(auto wide, Widened(*full, 10'000'000));
  {
    ASSERT_OK_AND_ASSIGN(auto big, arrow::MakeArrayFromScalar(arrow::UInt64Scalar(5'000'000'000'000), wide->num_rows()));
    const int at = wide->schema()->GetFieldIndex("ask_sz_09");
    ASSERT_OK_AND_ASSIGN(wide, wide->SetColumn(at, wide->field(at), std::make_shared<arrow::ChunkedArray>(big)));
  }
  const auto pq = dir.path() / "wide.parquet";
  ASSERT_OK(WriteParquet(*wide, pq));
  InputFile input{pq.string(), "wide.parquet", 0, 0, 0, {ParquetPart{pq.string(), 0, 0, {}}}, {}};
  ASSERT_OK_AND_ASSIGN(const int scale, CommonSizeScale({input}));
  EXPECT_EQ(scale, 4);
  input.size_scale = scale;
  ASSERT_OK_AND_ASSIGN(auto back, ReadAll(input, {}, 500));
  ASSERT_TRUE(back->schema()->Equals(*Mbp10Schema()));
  ASSERT_OK_AND_ASSIGN(back, back->CombineChunks());
  ASSERT_OK_AND_ASSIGN(full, full->CombineChunks());
  for (const auto& field : Mbp10Schema()->fields()) {
    const std::string& name = field->name();
    auto got = back->GetColumnByName(name)->chunk(0);
    if (name == "ask_sz_09") {
      ASSERT_OK_AND_ASSIGN(auto want, arrow::MakeArrayFromScalar(arrow::UInt32Scalar(500'000'000), back->num_rows()));
      EXPECT_TRUE(got->Equals(*want));
    } else if (name == "size" || name.find("_sz_") != std::string::npos) {
      // 10^7 padding at scale 8 is 10^3 at scale 4.
      const auto& in = static_cast<const arrow::UInt32Array&>(*full->GetColumnByName(name)->chunk(0));
      const auto& out = static_cast<const arrow::UInt32Array&>(*got);
      for (int64_t i = 0; i < in.length(); ++i) ASSERT_EQ(out.Value(i), uint64_t{in.Value(i)} * 1000) << name << " row " << i;
    } else {
      // The sequence keeps its low 32 bits; the other columns are the rows' own.
      EXPECT_TRUE(got->Equals(*full->GetColumnByName(name)->chunk(0))) << name;
    }
  }
  // A DBN input among them brings the run to whole units, where this file's sizes are no
  // whole numbers: an error naming the file, the column and the value, never a rounding.
  ASSERT_OK_AND_ASSIGN(const int whole, CommonSizeScale({files[0], input}));
  EXPECT_EQ(whole, 0);
  input.size_scale = whole;
  auto rounded = ReadAll(input, {}, 500);
  ASSERT_FALSE(rounded.ok());
  EXPECT_NE(rounded.status().message().find(pq.string()), std::string::npos) << rounded.status().ToString();
  EXPECT_NE(rounded.status().message().find("is no whole uint32 at scale 0"), std::string::npos)
      << rounded.status().ToString();

  // Sizes of a finer scale stored as uint32 come down as well: 10^-3 units padded with three
  // zeros, read in whole units beside the DBN file, are the rows' own sizes.
  std::shared_ptr<arrow::Table> milli = full->ReplaceSchemaMetadata(arrow::KeyValueMetadata::Make({"tickforge.size_scale"}, {"3"}));
  for (int c = 0; c < milli->num_columns(); ++c) {
    const std::string name = milli->field(c)->name();
    if (name != "size" && name.find("_sz_") == std::string::npos) continue;
    ASSERT_OK_AND_ASSIGN(auto scaled, arrow::compute::Multiply(milli->column(c), arrow::Datum(std::make_shared<arrow::UInt32Scalar>(1000))));
    ASSERT_OK_AND_ASSIGN(milli, milli->SetColumn(c, milli->field(c), scaled.chunked_array()));
  }
  const auto milli_path = dir.path() / "milli.parquet";
  ASSERT_OK(WriteParquet(*milli, milli_path));
  InputFile narrow{milli_path.string(), "milli.parquet", 0, 0, 0, {ParquetPart{milli_path.string(), 0, 0, {}}}, {}};
  ASSERT_OK_AND_ASSIGN(narrow.size_scale, CommonSizeScale({files[0], narrow}));
  EXPECT_EQ(narrow.size_scale, 0);
  ASSERT_OK_AND_ASSIGN(auto whole_units, ReadAll(narrow, {}, 500));
  ASSERT_OK_AND_ASSIGN(whole_units, whole_units->CombineChunks());
  EXPECT_TRUE(whole_units->Equals(*full));
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
