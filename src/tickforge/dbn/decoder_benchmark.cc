// Decoder and Arrow conversion throughput on generated MBP-10 data (Google Benchmark).
#include <benchmark/benchmark.h>

#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/to_arrow.h"
#include "tickforge/synth/synth.h"

namespace tickforge::dbn {
namespace {

const std::string& SampleFile() {
  static const std::string path = [] {
    synth::SynthOptions options;
    options.days = 1;
    options.rows_per_day = 500'000;
    auto files = synth::WriteMbp10Days(std::filesystem::temp_directory_path() / "tickforge-bench", options);
    return files.ok() ? files->front().path : std::string();
  }();
  return path;
}

void BM_DecodeRecords(benchmark::State& state) {
  int64_t rows = 0;
  for (auto _ : state) {
    auto decoder = Decoder::Open(SampleFile());
    if (!decoder.ok()) return state.SkipWithError(decoder.status().ToString().c_str());
    while (true) {
      auto record = (*decoder)->Next();
      if (!record.ok() || *record == nullptr) break;
      ++rows;
    }
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_DecodeRecords)->Unit(benchmark::kMillisecond);

void BM_DecodeToArrow(benchmark::State& state) {
  int64_t rows = 0;
  for (auto _ : state) {
    auto reader = OpenDbnReader(SampleFile());
    if (!reader.ok()) return state.SkipWithError(reader.status().ToString().c_str());
    std::shared_ptr<arrow::RecordBatch> batch;
    while ((*reader)->ReadNext(&batch).ok() && batch) rows += batch->num_rows();
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_DecodeToArrow)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tickforge::dbn
