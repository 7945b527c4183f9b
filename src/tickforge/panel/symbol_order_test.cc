// The symbol order's readers: reading ahead on worker threads gives the rows of reading each
// symbol in turn, whichever symbols are held whole and which are streamed; an error in one
// symbol reaches the consumer; a reader dropped half-way stops its threads.
#include "tickforge/panel/symbol_order_internal.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include "tickforge/panel/test_util_internal.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::panel {
namespace {

// The plan of every NAME.parquet in `dir`, footers read.
std::shared_ptr<const Plan> PlanOf(const std::filesystem::path& dir, PanelOptions options = {}) {
  std::map<std::string, std::shared_ptr<Source>> sources;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto source = std::make_shared<Source>();
    source->symbol = entry.path().stem().string();
    source->paths = {entry.path().string()};
    sources[source->symbol] = source;
  }
  auto plan = BuildPlan(options, sources);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : nullptr;
}

TEST(PanelSymbolOrderTest, ReadAheadGivesTheRowsInSymbolOrder) {
  const auto dir = TempDir("read_ahead");
  const auto data = RaggedData(11, 29);
  for (const auto& [symbol, rows] : data) WriteParquet(MakeTable(rows), dir / (symbol + ".parquet"), 17);
  PanelOptions options;
  options.batch_rows = 13;
  auto plan = PlanOf(dir, options);
  ASSERT_TRUE(plan);
  ASSERT_OK_AND_ASSIGN(auto expected, MakeSymbolOrderReader(plan, false)->ToTable());
  EXPECT_EQ(Strings(expected, "symbol").front(), "S0");
  EXPECT_EQ(Strings(expected, "symbol").back(), "S9");  // "S10" sorts before "S2"
  std::vector<int64_t> sizes;
  for (const auto& source : plan->sources) sizes.push_back(source->bytes);
  std::sort(sizes.begin(), sizes.end());
  // All held whole, none (each streamed by the consumer), and half of each.
  for (int64_t symbol_bytes : {int64_t{1} << 40, int64_t{0}, sizes[sizes.size() / 2]}) {
    for (int workers : {1, 3}) {
      SCOPED_TRACE(::testing::Message() << "symbol_bytes=" << symbol_bytes << " workers=" << workers);
      ASSERT_OK_AND_ASSIGN(auto table, MakeReadAheadReader(plan, workers, symbol_bytes)->ToTable());
      EXPECT_TRUE(SameRows(*table, *expected));
    }
  }
}

TEST(PanelSymbolOrderTest, AnErrorInOneSymbolReachesTheConsumer) {
  const auto dir = TempDir("read_ahead_error");
  WriteParquet(MakeTable({{1, 2}, {0.1, 0.2}}), dir / "A.parquet");
  // B's rows say they are X's.
  WriteParquet(arrow::Table::Make(arrow::schema({arrow::field("ts", arrow::int64()), arrow::field("symbol", arrow::utf8())}),
                                  {MakeArray<arrow::Int64Builder, int64_t>({1}),
                                   MakeArray<arrow::StringBuilder, std::string>({"X"})}),
               dir / "B.parquet");
  WriteParquet(MakeTable({{1}, {0.1}}), dir / "C.parquet");
  auto plan = PlanOf(dir);
  ASSERT_TRUE(plan);
  for (bool ahead : {false, true}) {
    auto reader = ahead ? MakeReadAheadReader(plan, 2, int64_t{1} << 40) : MakeSymbolOrderReader(plan, false);
    std::shared_ptr<arrow::RecordBatch> batch;
    ASSERT_OK(reader->ReadNext(&batch));  // A
    ASSERT_TRUE(batch);
    EXPECT_EQ(batch->num_rows(), 2);
    Status status = reader->ReadNext(&batch);
    ASSERT_FALSE(status.ok()) << "ahead=" << ahead;
    EXPECT_NE(status.message().find("B.parquet: row 0: column 'symbol' holds 'X' but the input is for symbol 'B'"),
              std::string::npos)
        << status.message();
  }
}

TEST(PanelSymbolOrderTest, DroppingTheReaderHalfWayStopsItsWorkers) {
  const auto dir = TempDir("read_ahead_drop");
  const auto data = RaggedData(20, 31);
  for (const auto& [symbol, rows] : data) WriteParquet(MakeTable(rows), dir / (symbol + ".parquet"));
  auto plan = PlanOf(dir);
  ASSERT_TRUE(plan);
  for (int round = 0; round < 5; ++round) {
    auto reader = MakeReadAheadReader(plan, 4, int64_t{1} << 40);
    std::shared_ptr<arrow::RecordBatch> batch;
    ASSERT_OK(reader->ReadNext(&batch));
    ASSERT_TRUE(batch);
    reader.reset();  // joins the workers; a hang here fails the test by its timeout
  }
  // The plan is still whole: a new reader reads every row.
  ASSERT_OK_AND_ASSIGN(auto table, MakeReadAheadReader(plan, 2, int64_t{1} << 40)->ToTable());
  int64_t rows = 0;
  for (const auto& [symbol, r] : data) rows += static_cast<int64_t>(r.ts.size());
  EXPECT_EQ(table->num_rows(), rows);
}

}  // namespace
}  // namespace tickforge::panel
