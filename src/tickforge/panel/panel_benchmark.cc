// Panel throughput on generated in-memory symbols (Google Benchmark): symbol order, time order
// and the cross-sectional filters, rows per second. bench/bench_panel.py measures the Parquet
// end to end against pandas and polars.
#include <benchmark/benchmark.h>

#include <arrow/api.h>
#include <fmt/format.h>

#include <random>

#include "tickforge/panel/panel.h"

namespace tickforge::panel {
namespace {

constexpr int kSymbols = 100;
constexpr int64_t kRows = 10'000;
constexpr int kColumns = 20;

// One symbol: ts (int64, ragged minutes), target (float64, 5% null), kColumns float64 columns.
std::shared_ptr<arrow::Table> MakeSymbol(std::mt19937_64& rng) {
  std::vector<std::shared_ptr<arrow::Field>> fields;
  std::vector<std::shared_ptr<arrow::Array>> columns;
  arrow::Int64Builder ts;
  int64_t t = static_cast<int64_t>(rng() % 100);
  for (int64_t i = 0; i < kRows; ++i) {
    t += 1 + static_cast<int64_t>(rng() % 2);
    (void)ts.Append(t);
  }
  fields.push_back(arrow::field("ts", arrow::int64()));
  columns.push_back(ts.Finish().ValueOrDie());
  std::normal_distribution<double> normal;
  for (int c = -1; c < kColumns; ++c) {
    arrow::DoubleBuilder values;
    for (int64_t i = 0; i < kRows; ++i) {
      if (c < 0 && rng() % 20 == 0) {
        (void)values.AppendNull();
      } else {
        (void)values.Append(normal(rng));
      }
    }
    fields.push_back(arrow::field(c < 0 ? std::string("target") : fmt::format("f{:02d}", c), arrow::float64()));
    columns.push_back(values.Finish().ValueOrDie());
  }
  return arrow::Table::Make(arrow::schema(fields), columns);
}

const std::vector<std::shared_ptr<arrow::Table>>& Symbols() {
  static const auto tables = [] {
    std::mt19937_64 rng(1);
    std::vector<std::shared_ptr<arrow::Table>> out;
    for (int s = 0; s < kSymbols; ++s) out.push_back(MakeSymbol(rng));
    return out;
  }();
  return tables;
}

void Run(benchmark::State& state, PanelOptions options) {
  const auto& symbols = Symbols();  // generated once, outside the timing
  int64_t rows = 0;
  for (auto _ : state) {
    PanelBuilder builder(options);
    for (int s = 0; s < kSymbols; ++s) {
      if (!builder.AddTable(fmt::format("S{:03d}", s), symbols[static_cast<size_t>(s)]).ok()) {
        return state.SkipWithError("AddTable failed");
      }
    }
    auto reader = builder.Open();
    if (!reader.ok()) return state.SkipWithError(reader.status().ToString().c_str());
    while (true) {
      std::shared_ptr<arrow::RecordBatch> batch;
      if (!(*reader)->ReadNext(&batch).ok()) return state.SkipWithError("ReadNext failed");
      if (!batch) break;
      rows += batch->num_rows();
    }
  }
  state.SetItemsProcessed(rows);
}

void BM_SymbolOrder(benchmark::State& state) { Run(state, PanelOptions{}); }
BENCHMARK(BM_SymbolOrder)->Unit(benchmark::kMillisecond);

void BM_TimeOrder(benchmark::State& state) {
  PanelOptions options;
  options.order = Order::kTime;
  Run(state, options);
}
BENCHMARK(BM_TimeOrder)->Unit(benchmark::kMillisecond);

void BM_Filters(benchmark::State& state) {
  PanelOptions options;
  options.target_column = "target";
  options.min_cs = 30;
  options.max_cs_samples = 20;
  Run(state, options);
}
BENCHMARK(BM_Filters)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tickforge::panel
