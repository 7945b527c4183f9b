// The loader's zscore normalization (DESIGN.md §3.8): per feature plane, the mean and standard
// deviation of the raw (unscaled) combined cumulative grid over the training split's samples,
// fit once, stored beside the datasets and reused by every loader of those datasets and
// image options, so a validation or test loader never computes its own.
//
// What is fit: the training split (split_fractions; all ranks; no sample_fraction) at stride
// ticks_per_bin, at most normalization_samples of its samples, evenly spaced in index order
// (symbol, then row): sample floor(i·n/N) for i < N. Each plane's mean and population standard
// deviation (ddof 0) over every pixel of those images, accumulated in float64 (each image's
// sum and squared deviations, merged across images by Chan's formula).
// Where: <parquet_dir>/tickforge_zscore_<key>.json, key = Fnv1a64 over the datasets' file names,
// sizes and modification times and the image options and split fractions; written atomically.
// Applied: z = float((double(raw) - mean) / std), with std 0 taken as 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tickforge/loader/index_internal.h"
#include "tickforge/loader/loader.h"
#include "tickforge/util/status.h"

namespace tickforge::loader::internal {

/// One feature plane's statistics.
struct PlaneStats {
  std::string feature;
  double mean = 0;
  double std = 1;
};

struct ZScoreStats {
  std::vector<PlaneStats> planes;  ///< in the images' stacking order
  int64_t samples = 0;             ///< training images they were fit on
  std::string path;                ///< the file read or written
  bool fitted = false;             ///< fit by this loader (not read from a file)
};

/// Return where the statistics of `index`'s datasets under `options` are stored by default.
[[nodiscard]] Result<std::string> DefaultStatsPath(const SampleIndex& index, const LoaderOptions& options);

/// Return the zscore statistics a loader of `options` uses: read from normalization_stats (or
/// the default path) when that file exists; otherwise, for split "train" or "" (all), fit on
/// the training split and written there; for "val" and "test" an error saying to build the
/// training loader first or pass normalization_stats.
[[nodiscard]] Result<ZScoreStats> ResolveZScore(const SampleIndex& index, const LoaderOptions& options);

/// Fit the statistics on the training split of `index`'s datasets (nothing stored).
[[nodiscard]] Result<ZScoreStats> FitZScore(const SampleIndex& index, const LoaderOptions& options);

/// Read statistics from `path`, checking they are for `options`' features and image sizes.
[[nodiscard]] Result<ZScoreStats> ReadZScore(const std::string& path, const LoaderOptions& options);

/// Write `stats` to `path` atomically, with what identifies the datasets and options.
[[nodiscard]] Status WriteZScore(const ZScoreStats& stats, const SampleIndex& index, const LoaderOptions& options,
                                 const std::string& path);

/// Turn a raw image (planes × plane_floats floats) into z-scores in place.
void ApplyZScore(const ZScoreStats& stats, int64_t plane_floats, float* image);

}  // namespace tickforge::loader::internal
