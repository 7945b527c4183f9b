// The panel builder end to end: inputs added from memory, files and folders, errors that name
// the input, inputs released after one read, the filters against a direct implementation of
// docs/panel.md in both row orders, and the Parquet output.
#include "tickforge/panel/panel.h"

#include <arrow/api.h>
#include <gtest/gtest.h>
#include <parquet/arrow/reader.h>

#include <fstream>

#include "tickforge/panel/test_util_internal.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/util/files.h"

namespace tickforge::panel {
namespace {

TEST(PanelTest, SymbolsSortedFloat32AndSymbolColumnLast) {
  PanelBuilder builder(PanelOptions{});
  ASSERT_TRUE(builder.AddTable("MSFT", MakeTable({{1, 2}, {0.1, 0.2}})).ok());
  ASSERT_TRUE(builder.AddTable("AAPL", MakeTable({{1, 2, 3}, {0.3, std::nullopt, 0.4}})).ok());
  auto table = Collect(builder);
  ASSERT_TRUE(table);
  EXPECT_EQ(table->num_rows(), 5);
  EXPECT_EQ(table->schema()->field(table->num_columns() - 1)->name(), "symbol");
  EXPECT_EQ(Strings(table, "symbol"), (std::vector<std::string>{"AAPL", "AAPL", "AAPL", "MSFT", "MSFT"}));
  EXPECT_EQ(table->GetColumnByName("x")->type()->id(), arrow::Type::FLOAT);
  EXPECT_EQ(table->GetColumnByName("target")->type()->id(), arrow::Type::FLOAT);
  EXPECT_EQ(table->GetColumnByName("ts")->type()->id(), arrow::Type::INT64);
  EXPECT_EQ(table->GetColumnByName("target")->null_count(), 1);

  PanelOptions keep64;
  keep64.use_float32 = false;
  PanelBuilder b64(keep64);
  ASSERT_TRUE(b64.AddTable("A", MakeTable({{1}, {0.1}})).ok());
  EXPECT_EQ(Collect(b64)->GetColumnByName("x")->type()->id(), arrow::Type::DOUBLE);
}

TEST(PanelTest, BadInputErrorsNameTheFile) {
  const auto dir = TempDir("bad");
  std::ofstream(dir / "BAD.parquet") << "this is not a parquet file";
  PanelBuilder builder(PanelOptions{});
  ASSERT_TRUE(builder.AddDirectory(dir).ok());
  auto result = builder.Collect();
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("BAD.parquet"), std::string::npos) << result.status().message();

  // A column that is a float in one symbol and a string in the next.
  const auto dir2 = TempDir("mismatch");
  WriteParquet(MakeTable({{1}, {0.1}}), dir2 / "A.parquet");
  WriteParquet(arrow::Table::Make(arrow::schema({arrow::field("x", arrow::utf8())}),
                                  {MakeArray<arrow::StringBuilder, std::string>({"oops"})}),
               dir2 / "B.parquet");
  PanelBuilder mismatch(PanelOptions{});
  ASSERT_TRUE(mismatch.AddDirectory(dir2).ok());
  auto m = mismatch.Collect();
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("B.parquet"), std::string::npos) << m.status().message();
  EXPECT_NE(m.status().message().find("'x'"), std::string::npos) << m.status().message();

  // A symbol column that disagrees with the symbol, or is null.
  const auto dir3 = TempDir("symbols");
  WriteParquet(arrow::Table::Make(arrow::schema({arrow::field("symbol", arrow::utf8())}),
                                  {MakeArray<arrow::StringBuilder, std::string>({"A", std::nullopt})}),
               dir3 / "A.parquet");
  PanelBuilder nulls(PanelOptions{});
  ASSERT_TRUE(nulls.AddDirectory(dir3).ok());
  auto n = nulls.Collect();
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("A.parquet: row 1: column 'symbol' is null"), std::string::npos)
      << n.status().message();
}

TEST(PanelTest, ReleasedInputsCannotBeReadTwice) {
  PanelOptions options;
  options.release_inputs = true;
  PanelBuilder builder(options);
  ASSERT_TRUE(builder.AddTable("A", MakeTable({{1}, {0.1}})).ok());
  ASSERT_TRUE(builder.Collect().ok());
  auto again = builder.Collect();
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("released"), std::string::npos);
}

void CheckFilters(const std::map<std::string, Rows>& data, bool parquet, Order order, int64_t min_cs, int64_t max_cs,
                  uint64_t seed) {
  SCOPED_TRACE(testing::Message() << "parquet=" << parquet << " order=" << OrderName(order) << " min_cs=" << min_cs
                                  << " max_cs=" << max_cs << " seed=" << seed);
  PanelOptions options;
  options.target_column = "target";
  options.min_cs = min_cs;
  options.max_cs_samples = max_cs;
  options.seed = seed;
  options.order = order;
  options.batch_rows = 37;     // many output batches
  options.merge_memory = 1000;  // tiny merge buffers
  PanelBuilder builder(options);
  const auto dir = TempDir("filters");
  for (const auto& [symbol, rows] : data) {
    if (parquet) {
      WriteParquet(MakeTable(rows), dir / (symbol + ".parquet"), 29);
    } else {
      ASSERT_TRUE(builder.AddTable(symbol, MakeTable(rows)).ok());
    }
  }
  if (parquet) {
    ASSERT_TRUE(builder.AddDirectory(dir).ok());
  }
  auto table = Collect(builder);
  ASSERT_TRUE(table);
  const auto expected = Reference(data, min_cs, max_cs, seed, order == Order::kTime);
  const auto symbols = Strings(table, "symbol");
  const auto ids = Ints(table, "row");
  const auto ts = Ints(table, "ts");
  ASSERT_EQ(symbols.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(symbols[i], expected[i].symbol) << "row " << i;
    ASSERT_EQ(ids[i], expected[i].row) << "row " << i;
    ASSERT_EQ(ts[i], expected[i].ts) << "row " << i;
  }
}

TEST(PanelTest, FiltersMatchTheReference) {
  const auto data = RaggedData(9, 3);
  for (bool parquet : {false, true}) {
    for (Order order : {Order::kSymbol, Order::kTime}) {
      CheckFilters(data, parquet, order, 0, 0, 0);
      CheckFilters(data, parquet, order, 5, 0, 0);
      CheckFilters(data, parquet, order, 0, 3, 7);
      CheckFilters(data, parquet, order, 4, 2, 11);
    }
  }
}

TEST(PanelBuilderTest, SymbolFoldersSkipHiddenNamesAtEveryLevel) {
  const auto dir = TempDir("hidden");
  std::filesystem::create_directories(dir / "symbol=A" / "date=2" / "_tmp");
  std::filesystem::create_directories(dir / "symbol=A" / ".staging");
  std::filesystem::create_directories(dir / "_symbol=B");
  WriteParquet(MakeTable({{3}, {0.3}}), dir / "symbol=A" / "date=2" / "part-0.parquet");
  WriteParquet(MakeTable({{1, 2}, {0.1, 0.2}}), dir / "symbol=A" / "part-1.parquet");
  // Half-written or internal files, and folders of them: none of it is read.
  std::ofstream(dir / "symbol=A" / "date=2" / "_tmp" / "part-9.parquet") << "partial";
  std::ofstream(dir / "symbol=A" / ".staging" / "part-9.parquet") << "partial";
  std::ofstream(dir / "symbol=A" / ".part-8.parquet") << "partial";
  std::ofstream(dir / "symbol=A" / "notes.txt") << "not parquet";
  WriteParquet(MakeTable({{9}, {0.9}}), dir / "_symbol=B" / "part-0.parquet");
  PanelBuilder builder(PanelOptions{});
  ASSERT_OK(builder.AddDirectory(dir));
  auto table = Collect(builder);
  ASSERT_TRUE(table);
  // Files in path order: date=2/part-0 before part-1.
  EXPECT_EQ(Ints(table, "ts"), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(Strings(table, "symbol"), (std::vector<std::string>{"A", "A", "A"}));

  const auto empty = TempDir("hidden_empty");
  std::filesystem::create_directories(empty / "symbol=C" / "_tmp");
  WriteParquet(MakeTable({{1}, {0.1}}), empty / "symbol=C" / "_tmp" / "part-0.parquet");
  PanelBuilder none(PanelOptions{});
  const Status status = none.AddDirectory(empty);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no Parquet files for symbol 'C'"), std::string::npos) << status.message();
}

TEST(PanelBuilderTest, WriteParquetHoldsWhatCollectReturns) {
  const auto dir = TempDir("write");
  const auto data = RaggedData(5, 17);
  for (Order order : {Order::kSymbol, Order::kTime}) {
    PanelOptions options;
    options.order = order;
    options.batch_rows = 50;
    PanelBuilder collect(options);
    PanelBuilder write(options);
    for (const auto& [symbol, rows] : data) {
      WriteParquet(MakeTable(rows), dir / (symbol + ".parquet"), 40);
      ASSERT_OK(collect.AddParquet(symbol, {(dir / (symbol + ".parquet")).string()}));
      ASSERT_OK(write.AddParquet(symbol, {(dir / (symbol + ".parquet")).string()}));
    }
    const auto expected = Collect(collect);
    ASSERT_TRUE(expected);
    const auto out = dir / "out" / "panel.parquet";
    ParquetWriteOptions parquet;
    parquet.row_group_rows = 64;
    ASSERT_OK_AND_ASSIGN(auto report, write.WriteParquet(out, parquet));
    EXPECT_EQ(report.rows_out, expected->num_rows());
    EXPECT_EQ(report.symbols.size(), data.size());
    // Time order spilled next to the output, and cleaned up after itself.
    EXPECT_EQ(report.spilled_bytes > 0, order == Order::kTime) << OrderName(order);
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(out.parent_path(), ec)) {
      EXPECT_EQ(entry.path(), out) << "left behind: " << entry.path();
    }
    ASSERT_OK_AND_ASSIGN(auto input, OpenReadable(out.string()));
    ASSERT_OK_AND_ASSIGN(auto reader, parquet::arrow::OpenFile(input, arrow::default_memory_pool()));
    EXPECT_EQ(reader->num_row_groups(), (expected->num_rows() + 63) / 64);
    ASSERT_OK_AND_ASSIGN(auto written, reader->ReadTable());
    EXPECT_TRUE(SameRows(*written, *expected)) << OrderName(order);
  }
}

}  // namespace
}  // namespace tickforge::panel
