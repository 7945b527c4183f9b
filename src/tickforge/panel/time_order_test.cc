// The time order's k-way merge: ties in symbol order, null times last, unsorted inputs named,
// columns of every kind gathered, and the spill: the same rows as in memory, bounded by small
// merge buffers, its files gone with the reader.
#include "tickforge/panel/time_order_internal.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include "tickforge/panel/test_util_internal.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::panel {
namespace {

TEST(PanelTest, TimeOrderNeedsSortedInputs) {
  PanelOptions options;
  options.order = Order::kTime;
  PanelBuilder builder(options);
  ASSERT_TRUE(builder.AddTable("A", MakeTable({{1, 3, 2}, {0.1, 0.1, 0.1}})).ok());
  auto result = builder.Collect();
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("symbol 'A' (in memory)"), std::string::npos) << result.status().message();
  EXPECT_NE(result.status().message().find("sorted"), std::string::npos);
}

TEST(PanelTimeOrderTest, TiesGoToTheSmallerSymbolAndNullTimesLast) {
  PanelOptions options;
  options.order = Order::kTime;
  options.batch_rows = 3;  // output batches end inside runs of equal times
  PanelBuilder builder(options);
  ASSERT_OK(builder.AddTable("B", MakeTable({{1, 2, 3, std::nullopt}, {0.1, 0.2, 0.3, 0.4}})));
  ASSERT_OK(builder.AddTable("A", MakeTable({{1, 3, 3, std::nullopt}, {0.1, 0.2, 0.3, 0.4}})));
  auto table = Collect(builder);
  ASSERT_TRUE(table);
  EXPECT_EQ(Ints(table, "ts"), (std::vector<int64_t>{1, 1, 2, 3, 3, 3, -1, -1}));
  EXPECT_EQ(Strings(table, "symbol"), (std::vector<std::string>{"A", "B", "B", "A", "A", "B", "A", "B"}));
  EXPECT_EQ(Ints(table, "row"), (std::vector<int64_t>{0, 0, 1, 1, 2, 2, 3, 3}));

  // A null time before a value goes back in time too.
  PanelBuilder unsorted(options);
  ASSERT_OK(unsorted.AddTable("A", MakeTable({{1, std::nullopt, 2}, {0.1, 0.2, 0.3}})));
  auto status = unsorted.Collect().status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("row 2"), std::string::npos) << status.message();
}

TEST(PanelTimeOrderTest, GathersEveryKindOfColumn) {
  const auto make = [](std::vector<std::optional<int64_t>> ts, std::vector<std::optional<std::string>> name,
                       std::vector<std::optional<bool>> flag, std::vector<std::optional<int32_t>> small) {
    return arrow::Table::Make(
        arrow::schema({arrow::field("ts", arrow::int64()), arrow::field("name", arrow::utf8()),
                       arrow::field("flag", arrow::boolean()), arrow::field("small", arrow::int32())}),
        {MakeArray<arrow::Int64Builder>(ts), MakeArray<arrow::StringBuilder>(name),
         MakeArray<arrow::BooleanBuilder>(flag), MakeArray<arrow::Int32Builder>(small)});
  };
  PanelOptions options;
  options.order = Order::kTime;
  PanelBuilder builder(options);
  ASSERT_OK(builder.AddTable("A", make({1, 3, 4}, {"a1", std::nullopt, "a4"}, {true, std::nullopt, false},
                                       {10, std::nullopt, 40})));
  ASSERT_OK(builder.AddTable("B", make({2, 3}, {"b2", "b3"}, {false, true}, {20, 30})));
  auto table = Collect(builder);
  ASSERT_TRUE(table);
  EXPECT_EQ(Strings(table, "symbol"), (std::vector<std::string>{"A", "B", "A", "B", "A"}));
  EXPECT_TRUE(table->GetColumnByName("name")->chunk(0)->Equals(
      *MakeArray<arrow::StringBuilder, std::string>({"a1", "b2", std::nullopt, "b3", "a4"})));
  EXPECT_TRUE(table->GetColumnByName("flag")->chunk(0)->Equals(
      *MakeArray<arrow::BooleanBuilder, bool>({true, false, std::nullopt, true, false})));
  EXPECT_TRUE(table->GetColumnByName("small")->chunk(0)->Equals(
      *MakeArray<arrow::Int32Builder, int32_t>({10, 20, std::nullopt, 30, 40})));
}

TEST(PanelTimeOrderTest, SpillGivesTheRowsOfTheInMemoryMerge) {
  const auto dir = TempDir("spill");
  const auto data = RaggedData(7, 23);
  for (const auto& [symbol, rows] : data) WriteParquet(MakeTable(rows), dir / (symbol + ".parquet"), 31);
  const auto spill = TempDir("spill_files");
  std::map<bool, std::shared_ptr<arrow::Table>> tables;
  for (bool streaming : {false, true}) {
    PanelOptions options;
    options.order = Order::kTime;
    options.streaming = streaming;
    options.batch_rows = 41;
    options.merge_memory = 2000;  // a few rows per symbol in memory at once
    options.spill_dir = spill;
    PanelBuilder builder(options);
    ASSERT_OK(builder.AddDirectory(dir));
    ASSERT_OK_AND_ASSIGN(auto reader, builder.Open());
    std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      ASSERT_OK(reader->ReadNext(&batch));
      if (!batch) break;
      EXPECT_LE(batch->num_rows(), 41);
      if (batches.empty()) {
        // The spill files exist while the panel is read.
        const bool any = std::filesystem::directory_iterator(spill) != std::filesystem::directory_iterator();
        EXPECT_EQ(any, streaming);
      }
      batches.push_back(std::move(batch));
    }
    const auto report = reader->report();
    EXPECT_EQ(report.spilled_bytes > 0, streaming);
    ASSERT_OK_AND_ASSIGN(tables[streaming], arrow::Table::FromRecordBatches(reader->schema(), batches));
    EXPECT_EQ(report.rows_out, tables[streaming]->num_rows());
    reader.reset();
    EXPECT_TRUE(std::filesystem::is_empty(spill)) << "spill files left behind";
  }
  EXPECT_TRUE(SameRows(*tables[true], *tables[false]));
  // And both are the reference's rows in time order.
  const auto expected = Reference(data, 0, 0, 0, true);
  const auto symbols = Strings(tables[true], "symbol");
  const auto ids = Ints(tables[true], "row");
  ASSERT_EQ(symbols.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(symbols[i], expected[i].symbol) << "row " << i;
    ASSERT_EQ(ids[i], expected[i].row) << "row " << i;
  }
}

TEST(PanelTimeOrderTest, ReaderOfAPlanMergesAndCountsItsSpill) {
  const auto dir = TempDir("merge_plan");
  WriteParquet(MakeTable({{1, 4}, {0.1, 0.4}}), dir / "A.parquet");
  WriteParquet(MakeTable({{2, 3}, {0.2, 0.3}}), dir / "B.parquet");
  std::map<std::string, std::shared_ptr<Source>> sources;
  for (const std::string symbol : {"A", "B"}) {
    auto source = std::make_shared<Source>();
    source->symbol = symbol;
    source->paths = {(dir / (symbol + ".parquet")).string()};
    sources[symbol] = source;
  }
  PanelOptions options;
  options.order = Order::kTime;
  ASSERT_OK_AND_ASSIGN(auto plan, BuildPlan(options, sources));
  auto reader = MakeTimeOrderReader(plan, false, dir / "spill");
  EXPECT_EQ(reader->spilled_bytes(), 0);  // nothing is spilled before the first read
  ASSERT_OK_AND_ASSIGN(auto table, reader->ToTable());
  EXPECT_EQ(Ints(table, "ts"), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(Strings(table, "symbol"), (std::vector<std::string>{"A", "B", "B", "A"}));
  EXPECT_GT(reader->spilled_bytes(), 0);
}

}  // namespace
}  // namespace tickforge::panel
