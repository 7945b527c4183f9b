// Planning a panel: included and skipped symbols, schema unification and projection, the time
// column, the output schema, and the cross-sectional filters' first pass.
#include "tickforge/panel/plan_internal.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tickforge/panel/selection_internal.h"
#include "tickforge/panel/test_util_internal.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/util/random.h"

namespace tickforge::panel {
namespace {

using Sources = std::map<std::string, std::shared_ptr<Source>>;

// An in-memory source whose schema is known, as AddTable leaves it.
std::shared_ptr<Source> InMemory(const std::string& symbol, const std::shared_ptr<arrow::Table>& table) {
  auto source = std::make_shared<Source>();
  source->symbol = symbol;
  source->in_memory = true;
  source->table = table;
  source->schema = table->schema();
  return source;
}

std::shared_ptr<arrow::Table> Times(const std::vector<std::pair<std::string, std::shared_ptr<arrow::DataType>>>& fields) {
  arrow::FieldVector f;
  arrow::ArrayVector columns;
  for (const auto& [name, type] : fields) {
    f.push_back(arrow::field(name, type));
    columns.push_back(*arrow::MakeArrayOfNull(type, 1));
  }
  return arrow::Table::Make(arrow::schema(f), columns, 1);
}

TEST(PanelTest, SkipsSymbolsWithoutTargetAndReportsThem) {
  PanelOptions options;
  options.target_column = "target";
  PanelBuilder builder(options);
  ASSERT_TRUE(builder.AddTable("AAPL", MakeTable({{1}, {0.1}})).ok());
  ASSERT_TRUE(builder.AddTable("GOOGL", MakeTable({{1}, {0.1}}, false)).ok());
  auto report = builder.Describe();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->symbols, std::vector<std::string>{"AAPL"});
  ASSERT_EQ(report->skipped.size(), 1u);
  EXPECT_EQ(report->skipped[0].symbol, "GOOGL");
  EXPECT_EQ(Strings(Collect(builder), "symbol"), std::vector<std::string>{"AAPL"});
}

TEST(PanelTest, ATargetNoSymbolHasIsAnErrorNotAnEmptyPanel) {
  PanelOptions options;
  options.target_column = "nosuch";
  PanelBuilder builder(options);
  ASSERT_TRUE(builder.AddTable("AAPL", MakeTable({{1}, {0.1}})).ok());
  auto report = builder.Describe();
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.status().message().find("no input has the target column 'nosuch' (1 symbols); the columns of "
                                           "symbol 'AAPL' (in memory) are: "),
            std::string::npos)
      << report.status();
}

TEST(PanelTest, DirectoryUnifiesSchemasAndProjects) {
  const auto dir = TempDir("dir");
  auto a = arrow::Table::Make(arrow::schema({arrow::field("ts", arrow::int64()), arrow::field("v", arrow::int32()),
                                             arrow::field("only_a", arrow::float64())}),
                              {MakeArray<arrow::Int64Builder, int64_t>({1, 2}),
                               MakeArray<arrow::Int32Builder, int32_t>({10, 20}),
                               MakeArray<arrow::DoubleBuilder, double>({1.5, 2.5})});
  auto b = arrow::Table::Make(arrow::schema({arrow::field("ts", arrow::int64()), arrow::field("v", arrow::int64())}),
                              {MakeArray<arrow::Int64Builder, int64_t>({3}), MakeArray<arrow::Int64Builder, int64_t>({30})});
  WriteParquet(b, dir / "B.parquet");
  std::filesystem::create_directories(dir / "symbol=A");
  WriteParquet(a->Slice(0, 1), dir / "symbol=A" / "part-0.parquet");
  WriteParquet(a->Slice(1, 1), dir / "symbol=A" / "part-1.parquet");
  std::ofstream(dir / "_ignored.parquet") << "not parquet";

  PanelBuilder builder(PanelOptions{});
  ASSERT_TRUE(builder.AddDirectory(dir).ok());
  auto table = Collect(builder);
  ASSERT_TRUE(table);
  EXPECT_EQ(table->schema()->ToString(), "ts: int64 not null\nv: int64 not null\nonly_a: float\nsymbol: string not null");
  EXPECT_EQ(Ints(table, "v"), (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(table->GetColumnByName("only_a")->null_count(), 1);
  EXPECT_EQ(Strings(table, "symbol"), (std::vector<std::string>{"A", "A", "B"}));

  PanelOptions projected;
  projected.columns = {"v"};
  PanelBuilder p(projected);
  ASSERT_TRUE(p.AddDirectory(dir).ok());
  EXPECT_EQ(Collect(p)->schema()->ToString(), "v: int64 not null\nsymbol: string not null");
}

TEST(PanelTest, SelectionDoesNotDependOnOtherTimestamps) {
  // Dropping every other timestamp must not change which symbols are chosen at the rest.
  auto data = RaggedData(8, 5);
  const auto full = Reference(data, 0, 2, 1, false);
  PanelOptions options;
  options.target_column = "target";
  options.max_cs_samples = 2;
  options.seed = 1;
  PanelBuilder builder(options);
  for (auto& [symbol, rows] : data) {
    Rows even;
    for (size_t i = 0; i < rows.ts.size(); ++i) {
      if (*rows.ts[i] % 2 == 0) {
        even.ts.push_back(rows.ts[i]);
        even.target.push_back(rows.target[i]);
      }
    }
    ASSERT_TRUE(builder.AddTable(symbol, MakeTable(even)).ok());
  }
  std::set<std::pair<std::string, int64_t>> chosen_full, chosen_even;
  for (const auto& e : full) {
    if (e.ts % 2 == 0) chosen_full.insert({e.symbol, e.ts});
  }
  auto table = Collect(builder);
  const auto symbols = Strings(table, "symbol");
  const auto ts = Ints(table, "ts");
  for (size_t i = 0; i < symbols.size(); ++i) chosen_even.insert({symbols[i], ts[i]});
  EXPECT_EQ(chosen_full, chosen_even);
}

TEST(PanelPlanTest, TimeColumnIsNamedOrFound) {
  const auto ts = arrow::timestamp(arrow::TimeUnit::NANO);
  const auto plan_of = [](const std::shared_ptr<arrow::Table>& table, PanelOptions options) {
    return BuildPlan(options, Sources{{"A", InMemory("A", table)}});
  };
  PanelOptions time_order;
  time_order.order = Order::kTime;
  // ts before timestamp, timestamp before a timestamp-typed column, which is found alone.
  ASSERT_OK_AND_ASSIGN(auto plan, plan_of(Times({{"timestamp", ts}, {"ts", arrow::int64()}}), time_order));
  EXPECT_EQ(plan->time_column, "ts");
  ASSERT_OK_AND_ASSIGN(plan, plan_of(Times({{"when", ts}, {"timestamp", arrow::int64()}}), time_order));
  EXPECT_EQ(plan->time_column, "timestamp");
  ASSERT_OK_AND_ASSIGN(plan, plan_of(Times({{"v", arrow::int64()}, {"when", ts}}), time_order));
  EXPECT_EQ(plan->time_column, "when");
  EXPECT_EQ(plan->report.time_column, "when");
  PanelOptions named = time_order;
  named.time_column = "v";
  ASSERT_OK_AND_ASSIGN(plan, plan_of(Times({{"v", arrow::int64()}, {"when", ts}}), named));
  EXPECT_EQ(plan->time_column, "v");

  // Two timestamp columns: an error only where a time column is needed.
  const auto two = Times({{"a", ts}, {"b", ts}});
  auto status = plan_of(two, time_order).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("several timestamp columns (a, b)"), std::string::npos) << status.message();
  ASSERT_OK_AND_ASSIGN(plan, plan_of(two, PanelOptions{}));
  EXPECT_EQ(plan->time_column, "");

  // None at all, or one that is not a time.
  status = plan_of(Times({{"v", arrow::float64()}}), time_order).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("order='time' needs a time column"), std::string::npos) << status.message();
  PanelOptions filtered;
  filtered.min_cs = 1;
  filtered.time_column = "v";
  status = plan_of(Times({{"v", arrow::float64()}}), filtered).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("time column 'v' has type double"), std::string::npos) << status.message();
}

TEST(PanelPlanTest, OutputSchemaProjectionAndReadColumns) {
  PanelOptions options;
  options.columns = {"x"};
  options.target_column = "target";
  options.min_cs = 1;
  auto a = InMemory("A", MakeTable({{1, 2}, {0.1, 0.2}}));
  a->null_free = {"x"};
  auto b = InMemory("B", MakeTable({{1}, {0.1}}));
  b->null_free = {"x", "ts"};
  ASSERT_OK_AND_ASSIGN(auto plan, BuildPlan(options, Sources{{"A", a}, {"B", b}}));
  // The asked columns, cast, then the symbol; required where no input has a null.
  EXPECT_EQ(plan->schema->ToString(), "x: float not null\nsymbol: string not null");
  EXPECT_EQ(plan->symbol_field, 1);
  // Read: the output's columns and what the filters and the symbol check need.
  EXPECT_EQ(plan->read_columns, (std::vector<std::string>{"symbol", "target", "ts", "x"}));
  EXPECT_TRUE(plan->filtered);
  EXPECT_EQ(plan->seed_hash, SplitMix64(0));
  EXPECT_EQ(plan->symbol_hashes, (std::vector<uint64_t>{Fnv1a64("A"), Fnv1a64("B")}));

  options.columns = {"x", "nope"};
  auto status = BuildPlan(options, Sources{{"A", a}}).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("column 'nope' is in none of the 1 symbols"), std::string::npos) << status.message();
}

TEST(PanelPlanTest, CrossSectionCountsAndThresholds) {
  // Present targets: t=1 {A}, t=2 {A, B}, t=3 {B} (A's is null, C's NaN), t=4 {C}.
  Sources sources = {{"A", InMemory("A", MakeTable({{1, 2, 3}, {0.1, 0.2, std::nullopt}}))},
                     {"B", InMemory("B", MakeTable({{2, 3}, {0.1, 0.2}}))},
                     {"C", InMemory("C", MakeTable({{3, 4}, {NAN, 0.4}}))}};
  PanelOptions options;
  options.target_column = "target";
  options.min_cs = 2;
  ASSERT_OK_AND_ASSIGN(auto plan, BuildPlan(options, sources));
  EXPECT_EQ(plan->cs_time, (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(plan->cs_keep, (std::vector<uint8_t>{0, 1, 0, 0}));
  EXPECT_TRUE(plan->cs_threshold.empty());
  EXPECT_EQ(plan->report.timestamps, 4);
  EXPECT_EQ(plan->report.timestamps_kept, 1);

  // max_cs_samples = 1: each timestamp's threshold is its smallest selection key; with 2, a
  // timestamp of one candidate keeps all, one of two keeps up to the larger key.
  options.min_cs = 0;
  options.max_cs_samples = 1;
  options.seed = 9;
  ASSERT_OK_AND_ASSIGN(plan, BuildPlan(options, sources));
  const auto key = [&](int64_t t, uint32_t symbol) {
    const char* names[] = {"A", "B", "C"};
    return SelectionKey{SelectionHashOf(SplitMix64(9), t, Fnv1a64(names[symbol])), symbol};
  };
  ASSERT_EQ(plan->cs_threshold.size(), 4u);
  EXPECT_EQ(plan->cs_keep, (std::vector<uint8_t>{1, 1, 1, 1}));
  EXPECT_EQ(plan->cs_threshold[0], key(1, 0));
  EXPECT_EQ(plan->cs_threshold[1], std::min(key(2, 0), key(2, 1)));
  EXPECT_EQ(plan->cs_threshold[2], key(3, 1));
  EXPECT_EQ(plan->cs_threshold[3], key(4, 2));
  options.max_cs_samples = 2;
  ASSERT_OK_AND_ASSIGN(plan, BuildPlan(options, sources));
  EXPECT_EQ(plan->cs_threshold[0], kSelectAll);
  EXPECT_EQ(plan->cs_threshold[1], std::max(key(2, 0), key(2, 1)));
}

}  // namespace
}  // namespace tickforge::panel
