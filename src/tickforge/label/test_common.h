// What the label/ tests share: synthetic MBP-10 days (synth/) in a temporary folder, a direct
// read of a DBN file's rows, and the series and movements DESIGN.md §3.1-3.2 define, evaluated
// directly from those rows, to check the split, the fit and the build against.
#pragma once

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "tickforge/dbn/to_arrow.h"
#include "tickforge/label/config.h"
#include "tickforge/synth/synth.h"
#include "tickforge/util/status.h"

namespace tickforge::label::internal {

/// One MBP-10 row as the DBN file holds it, placed by its file and position there.
struct DbnRow {
  std::string symbol;
  int64_t ts_event = 0;
  uint32_t sequence = 0;
  int64_t bid = 0;
  int64_t ask = 0;
  int file = 0;
  int64_t index = 0;
};

/// Write `days` synthetic days of `symbols` instruments, `rows` records each; return the paths.
inline Result<std::vector<std::string>> WriteDays(const std::filesystem::path& dir, int days, int symbols,
                                                  int64_t rows, uint64_t seed = 3) {
  synth::SynthOptions options;
  options.days = days;
  options.symbols = symbols;
  options.rows_per_day = rows;
  options.seed = seed;
  ARROW_ASSIGN_OR_RAISE(auto files, synth::WriteMbp10Days(dir, options));
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(f.path);
  return paths;
}

/// Return every row of the DBN file `path` (input file number `file`), in file order.
inline Result<std::vector<DbnRow>> ReadRows(const std::string& path, int file) {
  dbn::ArrowOptions options;
  options.price_type = dbn::PriceType::kFixed;
  ARROW_ASSIGN_OR_RAISE(auto reader, dbn::OpenDbnReader(path, options));
  ARROW_ASSIGN_OR_RAISE(auto table, reader->ToTable());
  ARROW_ASSIGN_OR_RAISE(table, table->CombineChunks());
  const auto& symbol = static_cast<const arrow::StringArray&>(*table->GetColumnByName("symbol")->chunk(0));
  const auto& ts = static_cast<const arrow::TimestampArray&>(*table->GetColumnByName("ts_event")->chunk(0));
  const auto& seq = static_cast<const arrow::UInt32Array&>(*table->GetColumnByName("sequence")->chunk(0));
  const auto& bid = static_cast<const arrow::Int64Array&>(*table->GetColumnByName("bid_px_00")->chunk(0));
  const auto& ask = static_cast<const arrow::Int64Array&>(*table->GetColumnByName("ask_px_00")->chunk(0));
  std::vector<DbnRow> rows;
  for (int64_t i = 0; i < table->num_rows(); ++i) {
    rows.push_back(DbnRow{std::string(symbol.GetView(i)), ts.Value(i), seq.Value(i), bid.Value(i), ask.Value(i),
                          file, i});
  }
  return rows;
}

/// Return whether a row is valid, as docs/labeling.md "Valid rows" states it.
inline bool ValidBySpec(const DbnRow& row, const LabelConfig& config) {
  constexpr int64_t kUndef = std::numeric_limits<int64_t>::max();
  if (row.bid == kUndef || row.ask == kUndef || row.bid <= 0 || row.ask <= 0) return false;
  const __int128 sum = static_cast<__int128>(row.bid) + row.ask;
  if (config.min_price && sum < 2 * static_cast<__int128>(std::llround(*config.min_price * 1e9))) return false;
  if (config.max_price && sum > 2 * static_cast<__int128>(std::llround(*config.max_price * 1e9))) return false;
  return true;
}

/// Return `symbol`'s series over `files` (in file order; only the first `max_files` of them):
/// its valid rows ordered by ts_event, sequence, file, position in the file.
inline Result<std::vector<DbnRow>> SeriesBySpec(const std::vector<std::string>& files, const std::string& symbol,
                                                const LabelConfig& config,
                                                int max_files = std::numeric_limits<int>::max()) {
  std::vector<DbnRow> series;
  for (int f = 0; f < static_cast<int>(files.size()) && f < max_files; ++f) {
    ARROW_ASSIGN_OR_RAISE(auto rows, ReadRows(files[static_cast<size_t>(f)], f));
    for (auto& row : rows) {
      if (row.symbol == symbol && ValidBySpec(row, config)) series.push_back(std::move(row));
    }
  }
  std::sort(series.begin(), series.end(), [](const DbnRow& a, const DbnRow& b) {
    return std::tie(a.ts_event, a.sequence, a.file, a.index) < std::tie(b.ts_event, b.sequence, b.file, b.index);
  });
  return series;
}

/// Return movement(t) of DESIGN.md §3.2 over s_i = bid + ask of `series`, with 128-bit sums.
inline double MovementBySpec(const std::vector<DbnRow>& series, int64_t t, int64_t L, int64_t O, int64_t F) {
  __int128 back = 0, fwd = 0;
  for (int64_t i = t - L; i < t; ++i) back += series[static_cast<size_t>(i)].bid + series[static_cast<size_t>(i)].ask;
  for (int64_t i = t + 1 + O; i < t + 1 + O + F; ++i) {
    fwd += series[static_cast<size_t>(i)].bid + series[static_cast<size_t>(i)].ask;
  }
  const double b = static_cast<double>(static_cast<int64_t>(back)) / static_cast<double>(2 * L);
  const double f = static_cast<double>(static_cast<int64_t>(fwd)) / static_cast<double>(2 * F);
  return (f - b) / b;
}

/// splitmix64 as docs/labeling.md spells it out.
inline uint64_t SplitMix64BySpec(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  uint64_t z = x;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Return a config with small windows, so that a few thousand rows hold many movements.
inline LabelConfig SmallConfig() {
  LabelConfig config;
  config.lookback_rows = 50;
  config.lookforward_offset = 5;
  config.lookforward_input = 40;
  config.jump_size = 7;
  config.nbins = 5;
  config.min_symbol_samples = 10;
  return config;
}

}  // namespace tickforge::label::internal
