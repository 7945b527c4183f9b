// Reading one symbol's input: Parquet files in turn, projected, with row numbers for messages;
// tables in memory in batches; footers.
#include "tickforge/panel/source_internal.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include "tickforge/panel/test_util_internal.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::panel {
namespace {

struct Read {
  std::string name;
  int64_t row;
  std::shared_ptr<arrow::RecordBatch> batch;
};

std::vector<Read> ReadAll(RawReader& reader) {
  std::vector<Read> out;
  while (true) {
    auto batch = reader.Next();
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    if (!batch.ok() || !*batch) break;
    out.push_back({reader.current_name(), reader.row(), *batch});
  }
  return out;
}

TEST(PanelSourceTest, ParquetFilesInTurnProjectedInFileOrder) {
  const auto dir = TempDir("source_files");
  WriteParquet(MakeTable({{1, 2, 3, 4, 5}, {0.1, std::nullopt, 0.3, 0.4, 0.5}}), dir / "a.parquet", 2);
  WriteParquet(MakeTable({{6, 7, 8}, {0.6, 0.7, 0.8}}), dir / "b.parquet", 2);
  auto source = std::make_shared<Source>();
  source->symbol = "S";
  source->paths = {(dir / "a.parquet").string(), (dir / "b.parquet").string()};
  // Asked as x, ts (and a column no file has): read in the files' order, ts then x.
  RawReader reader(source, {"x", "ts", "absent"}, 2, false);
  const auto reads = ReadAll(reader);
  ASSERT_FALSE(reads.empty());
  std::vector<int64_t> ts;
  std::map<std::string, int64_t> next_row;  // per file: rows seen, which the next batch's row() must equal
  for (const auto& read : reads) {
    EXPECT_EQ(read.batch->schema()->field_names(), (std::vector<std::string>{"ts", "x"}));
    EXPECT_EQ(read.row, next_row[read.name]) << read.name;
    next_row[read.name] += read.batch->num_rows();
    const auto ts_column = read.batch->column(0);
    const auto& column = static_cast<const arrow::Int64Array&>(*ts_column);
    for (int64_t i = 0; i < column.length(); ++i) ts.push_back(column.Value(i));
  }
  EXPECT_EQ(ts, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(next_row[source->paths[0]], 5);
  EXPECT_EQ(next_row[source->paths[1]], 3);
  EXPECT_EQ(reads.back().name, source->paths[1]);
  // At the end it stays at the end.
  ASSERT_OK_AND_ASSIGN(auto after, reader.Next());
  EXPECT_EQ(after, nullptr);
}

TEST(PanelSourceTest, TableInMemoryInBatchesOnce) {
  auto source = std::make_shared<Source>();
  source->symbol = "M";
  source->in_memory = true;
  source->table = MakeTable({{1, 2, 3, 4, 5}, {0.1, 0.2, 0.3, 0.4, 0.5}});
  RawReader all(source, {}, 2, false);
  const auto reads = ReadAll(all);
  ASSERT_EQ(reads.size(), 3u);  // 2 + 2 + 1 rows
  EXPECT_EQ(reads[2].batch->num_rows(), 1);
  EXPECT_EQ(reads[0].batch->num_columns(), 4);
  EXPECT_EQ(reads[0].name, "symbol 'M' (in memory)");
  EXPECT_EQ(reads[1].row, 2);

  RawReader projected(source, {"target", "nothing"}, 10, false);
  const auto one = ReadAll(projected);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].batch->schema()->field_names(), std::vector<std::string>{"target"});

  // Once released, reading again is an error that says so.
  source->table.reset();
  RawReader released(source, {}, 10, false);
  auto status = released.Next().status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("released"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("symbol 'M'"), std::string::npos) << status.message();
}

TEST(PanelSourceTest, FooterInfoAndDroppedMetadata) {
  const auto dir = TempDir("source_footer");
  auto table = MakeTable({{1, 2, 3}, {0.1, std::nullopt, 0.3}});
  table = table->ReplaceSchemaMetadata(arrow::key_value_metadata({"k"}, {"v"}));
  WriteParquet(table, dir / "a.parquet");
  const std::string path = (dir / "a.parquet").string();
  ASSERT_OK_AND_ASSIGN(auto info, ReadFileInfo(path));
  EXPECT_EQ(info.schema->field_names(), (std::vector<std::string>{"ts", "row", "target", "x"}));
  EXPECT_EQ(info.schema->metadata(), nullptr);
  EXPECT_GT(info.bytes, 0);
  EXPECT_EQ(info.metadata->num_rows(), 3);
  // target holds a null; the others are known null-free from their statistics.
  EXPECT_EQ(info.null_free, (std::set<std::string>{"ts", "row", "x"}));

  // A reader that drops footers once opened leaves the source without them.
  auto source = std::make_shared<Source>();
  source->symbol = "S";
  source->paths = {path};
  source->metadata = {info.metadata};
  RawReader keeping(source, {}, 10, false, false);
  EXPECT_EQ(ReadAll(keeping).size(), 1u);
  EXPECT_NE(source->metadata[0], nullptr);
  RawReader dropping(source, {}, 10, false, true);
  EXPECT_EQ(ReadAll(dropping).size(), 1u);
  EXPECT_EQ(source->metadata[0], nullptr);

  // Errors name the file.
  const std::string missing = (dir / "missing.parquet").string();
  auto status = ReadFileInfo(missing).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find(missing), std::string::npos) << status.message();
}

}  // namespace
}  // namespace tickforge::panel
