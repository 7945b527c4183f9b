#include "tickforge/panel/panel.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <gtest/gtest.h>
#include <parquet/arrow/writer.h>

#include <fstream>
#include <map>
#include <random>
#include <set>

#include "tickforge/util/random.h"
#include "tickforge/panel/config.h"

namespace tickforge::panel {
namespace {

std::filesystem::path TempDir(const std::string& name) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("panel_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

template <typename Builder, typename T>
std::shared_ptr<arrow::Array> MakeArray(const std::vector<std::optional<T>>& values) {
  Builder builder;
  for (const auto& v : values) {
    if (v) {
      EXPECT_TRUE(builder.Append(*v).ok());
    } else {
      EXPECT_TRUE(builder.AppendNull().ok());
    }
  }
  return builder.Finish().ValueOrDie();
}

// One symbol's rows: ts (int64), row (int64 id), target (float64 with nulls), x (float64).
struct Rows {
  std::vector<std::optional<int64_t>> ts;
  std::vector<std::optional<double>> target;
};

std::shared_ptr<arrow::Table> MakeTable(const Rows& rows, bool with_target = true) {
  std::vector<std::optional<int64_t>> ids;
  std::vector<std::optional<double>> x;
  for (size_t i = 0; i < rows.ts.size(); ++i) {
    ids.push_back(static_cast<int64_t>(i));
    x.push_back(static_cast<double>(i) * 0.5);
  }
  std::vector<std::shared_ptr<arrow::Field>> fields = {arrow::field("ts", arrow::int64()),
                                                       arrow::field("row", arrow::int64())};
  std::vector<std::shared_ptr<arrow::Array>> columns = {MakeArray<arrow::Int64Builder>(rows.ts),
                                                        MakeArray<arrow::Int64Builder>(ids)};
  if (with_target) {
    fields.push_back(arrow::field("target", arrow::float64()));
    columns.push_back(MakeArray<arrow::DoubleBuilder>(rows.target));
  }
  fields.push_back(arrow::field("x", arrow::float64()));
  columns.push_back(MakeArray<arrow::DoubleBuilder>(x));
  return arrow::Table::Make(arrow::schema(fields), columns);
}

void WriteParquet(const std::shared_ptr<arrow::Table>& table, const std::filesystem::path& path,
                  int64_t row_group = 1000) {
  auto file = arrow::io::FileOutputStream::Open(path.string()).ValueOrDie();
  ASSERT_TRUE(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), file, row_group).ok());
  ASSERT_TRUE(file->Close().ok());
}

std::shared_ptr<arrow::Table> Collect(PanelBuilder& builder) {
  auto table = builder.Collect();
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return table.ok() ? (*table)->CombineChunks().ValueOrDie() : nullptr;
}

std::vector<std::string> Strings(const std::shared_ptr<arrow::Table>& table, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& chunk : table->GetColumnByName(name)->chunks()) {
    const auto& a = static_cast<const arrow::StringArray&>(*chunk);
    for (int64_t i = 0; i < a.length(); ++i) out.emplace_back(a.GetView(i));
  }
  return out;
}

std::vector<int64_t> Ints(const std::shared_ptr<arrow::Table>& table, const std::string& name) {
  std::vector<int64_t> out;
  for (const auto& chunk : table->GetColumnByName(name)->chunks()) {
    const auto& a = static_cast<const arrow::Int64Array&>(*chunk);
    for (int64_t i = 0; i < a.length(); ++i) out.push_back(a.IsNull(i) ? -1 : a.Value(i));
  }
  return out;
}

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

// ---------------------------------------------------------------------------------------------
// The cross-sectional filters against a direct implementation of docs/panel.md.

struct Expected {
  std::string symbol;
  int64_t row;
  int64_t ts;
};

std::vector<Expected> Reference(const std::map<std::string, Rows>& data, int64_t min_cs, int64_t max_cs, uint64_t seed,
                                bool time_order) {
  std::map<int64_t, std::set<std::string>> present;  // t -> symbols with a present target
  for (const auto& [symbol, rows] : data) {
    for (size_t i = 0; i < rows.ts.size(); ++i) {
      if (rows.ts[i] && rows.target[i] && !std::isnan(*rows.target[i])) present[*rows.ts[i]].insert(symbol);
    }
  }
  std::map<int64_t, std::set<std::string>> selected;
  for (const auto& [t, symbols] : present) {
    std::vector<std::pair<uint64_t, std::string>> ranked;
    for (const auto& s : symbols) ranked.emplace_back(SelectionHash(seed, t, s), s);
    std::sort(ranked.begin(), ranked.end());
    for (size_t k = 0; k < ranked.size() && (max_cs == 0 || k < static_cast<size_t>(max_cs)); ++k) {
      selected[t].insert(ranked[k].second);
    }
  }
  std::vector<Expected> out;
  for (const auto& [symbol, rows] : data) {
    for (size_t i = 0; i < rows.ts.size(); ++i) {
      if (min_cs == 0 && max_cs == 0) {
        out.push_back({symbol, static_cast<int64_t>(i), rows.ts[i].value_or(-1)});
        continue;
      }
      if (!rows.ts[i]) continue;
      const int64_t t = *rows.ts[i];
      auto it = present.find(t);
      if (it == present.end() || static_cast<int64_t>(it->second.size()) < min_cs) continue;
      if (max_cs > 0) {
        const bool has = rows.target[i] && !std::isnan(*rows.target[i]);
        if (!has || !selected[t].count(symbol)) continue;
      }
      out.push_back({symbol, static_cast<int64_t>(i), t});
    }
  }
  if (time_order) {
    std::stable_sort(out.begin(), out.end(),
                     [](const Expected& a, const Expected& b) { return std::tie(a.ts, a.symbol) < std::tie(b.ts, b.symbol); });
  }
  return out;
}

std::map<std::string, Rows> RaggedData(int symbols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::map<std::string, Rows> data;
  for (int s = 0; s < symbols; ++s) {
    Rows rows;
    int64_t t = static_cast<int64_t>(rng() % 5);
    const int n = 50 + static_cast<int>(rng() % 100);
    for (int i = 0; i < n; ++i) {
      t += static_cast<int64_t>(rng() % 3);  // repeats (0) and gaps
      rows.ts.push_back(t);
      const auto r = rng() % 10;
      rows.target.push_back(r == 0 ? std::nullopt : r == 1 ? std::optional<double>(NAN) : std::optional<double>(0.5));
    }
    data["S" + std::to_string(s * 7 % symbols)] = rows;
  }
  return data;
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

TEST(PanelTest, SelectionHashIsPinned) {
  // The value docs/panel.md documents, so other implementations can check theirs.
  EXPECT_EQ(SelectionHash(0, 0, ""), SplitMix64(SplitMix64(SplitMix64(0)) ^ 0xcbf29ce484222325ULL));
}

TEST(PanelConfigTest, ReadsPipelineYaml) {
  const auto dir = TempDir("config");
  const auto path = dir / "pipeline.yaml";
  std::ofstream(path) << "intelligent_training:\n  lazy_loading:\n    enabled: true\n    use_float32: false\n"
                         "    streaming_collect: false\npanel:\n  min_cs: 3\n  order: time\n";
  PanelOptions options;
  ASSERT_TRUE(ApplyPipelineConfig(path.string(), &options).ok());
  EXPECT_FALSE(options.use_float32);
  EXPECT_FALSE(options.streaming);
  EXPECT_EQ(options.min_cs, 3);
  EXPECT_EQ(options.order, Order::kTime);
  std::ofstream(path) << "panel:\n  min_sc: 3\n";
  auto bad = ApplyPipelineConfig(path.string(), &options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("min_sc"), std::string::npos);
}

}  // namespace
}  // namespace tickforge::panel
