// The loader's "snapshots" representation (DESIGN.md §3.7, docs/loader.md "Book windows"): a
// sample is the last T book rows as a (T, 4·L) float32 matrix, per level 1..L ask price, ask
// size, bid price, bid size, z-scored per column with statistics of the training split only,
// stored beside the datasets. Rows are cached normalized, so a window is a contiguous copy.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tickforge/loader/index_internal.h"
#include "tickforge/loader/loader.h"
#include "tickforge/loader/segment_cache_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::loader::internal {

/// The name of the statistics file in the datasets' folder.
inline constexpr std::string_view kWindowStatsFile = "snapshot_stats.json";

/// Return the 4·levels book columns of a window, in its column order: ask_px_00, ask_sz_00,
/// bid_px_00, bid_sz_00, ask_px_01, ...
[[nodiscard]] std::vector<std::string> WindowColumns(int levels);

/// The days the rolling statistics look back over (DeepLOB's "previous 5 days").
inline constexpr int kRollingDays = 5;

/// One symbol's per-column statistics over its training rows [0, train_rows), or (rolling)
/// for each UTC day of ts_event over the kRollingDays days with rows before it.
struct ColumnStats {
  int64_t rows = 0;        ///< the dataset's rows when computed (a rebuilt dataset recomputes)
  int64_t train_rows = 0;  ///< rows before the first training cut
  std::vector<double> mean;  ///< per column: over its defined values (prices in units, sizes)
  std::vector<double> std;   ///< population standard deviation (ddof 0)
  /// Rolling: the first row of each day present, and that day's mean and std per column
  /// (empty for the first day, which has no past).
  std::vector<int64_t> day_first_row;
  std::vector<std::vector<double>> day_mean, day_std;
};

/// Statistics of every symbol served, by Sample::symbol.
struct WindowStats {
  std::vector<ColumnStats> symbols;
};

/// Return the value of a book cell as a window holds it before normalization: a price in
/// units (fixed point / 1e9), a size as is; nullopt-like NaN for an undefined price.
[[nodiscard]] double CellValue(bool is_price, int64_t raw);

/// Compute the statistics of rows [0, train_rows) of the dataset at `path` (read row group by
/// row group): shifted sums in float64, the shift the first defined value of each column.
[[nodiscard]] Result<ColumnStats> ComputeStats(const std::string& path, int64_t rows, int64_t train_rows, int levels);

/// Compute the rolling statistics of the dataset at `path`: its rows grouped by UTC day, each
/// day's statistics over the kRollingDays days before it that have rows.
[[nodiscard]] Result<ColumnStats> ComputeRollingStats(const std::string& path, int64_t rows, int levels);

/// Return the statistics of each dataset of `index`: read from kWindowStatsFile in
/// options.parquet_dir where it holds them for these levels, training cut and row counts, else
/// computed and written there (atomically, keeping the other symbols' entries).
[[nodiscard]] Result<std::shared_ptr<const WindowStats>> LoadOrComputeStats(const SampleIndex& index,
                                                                            const LoaderOptions& options);

/// Normalize one cell: float32((x - mean) / std) (std 0 counts as 1); an undefined price is 0.
[[nodiscard]] inline float Normalize(double x, double mean, double std, bool zscore) {
  if (x != x) return 0.0f;  // NaN: an undefined price
  if (!zscore) return static_cast<float>(x);
  return static_cast<float>((x - mean) / (std > 0 ? std : 1.0));
}

/// Make a window segment: rows [first, first + n) of the dataset, each 4·levels normalized
/// floats (Segment::window_rows), with the day's statistics where `stats` is rolling.
[[nodiscard]] Result<std::shared_ptr<Segment>> MakeWindowSegment(const std::string& path, int64_t first, int64_t n,
                                                                 int levels, const ColumnStats& stats, bool zscore);

/// Return whether `options` asks for the rolling statistics (normalization "zscore_5d").
[[nodiscard]] inline bool Rolling(const LoaderOptions& options) {
  return options.snapshots() && options.normalization == Normalization::kZScore5d;
}

/// Render the windows of plan[0, batch_size) into `batch` (B × T × 4·levels floats).
[[nodiscard]] Status RenderWindows(const SampleIndex& index, const LoaderOptions& options, SegmentCache& cache,
                                   const uint32_t* plan, Batch& batch);

}  // namespace tickforge::loader::internal
