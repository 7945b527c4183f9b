// Order-book depth images (DESIGN.md §3.4), compatible with the `represent` prototype: per time
// bin and book level an aggregate of the rows, placed on a 402-row price grid around the mid,
// cumulated from the mid outwards per side, ask minus bid, scaled to [-1, 1].
#pragma once

#include <arrow/type_fwd.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tickforge/dbn/schema.h"
#include "tickforge/util/status.h"

namespace tickforge::features {

inline constexpr int kImageRows = 402;
inline constexpr int kLevels = dbn::kMbp10Levels;
inline constexpr int kHalfRange = 200;  ///< price rows on each side of the mid

enum class Feature { kVolume, kVariance, kTradeCounts };

/// Parse "volume", "variance" or "trade_counts".
[[nodiscard]] Result<Feature> FeatureFromName(const std::string& name);
[[nodiscard]] std::string FeatureName(Feature feature);

struct ImageOptions {
  int time_bins = 500;       ///< T
  int ticks_per_bin = 100;   ///< rows per bin
  double micro_pip_size = 1e-5;
  /// Always stacked in the order volume, variance, trade_counts whatever the order given.
  std::vector<Feature> features = {Feature::kVolume};

  [[nodiscard]] int64_t window_rows() const { return int64_t{time_bins} * ticks_per_bin; }
  /// Return the number of floats one sample takes: features × 402 × T.
  [[nodiscard]] int64_t image_floats() const {
    return static_cast<int64_t>(features.size()) * kImageRows * time_bins;
  }
  [[nodiscard]] Status Validate() const;
};

/// An undefined price among micro-pip offsets (Book::micro_pip_prices).
inline constexpr int32_t kNoMicroPips = INT32_MIN;

/// One symbol's book as columns (views into Arrow arrays), rows in series order.
struct Book {
  int64_t rows = 0;
  std::array<const int64_t*, kLevels> bid_px{}, ask_px{};
  /// bid_ct and ask_ct may be null where trade_counts is not among the features aggregated.
  std::array<const uint32_t*, kLevels> bid_sz{}, ask_sz{}, bid_ct{}, ask_ct{};
  /// Prices in bid_mp/ask_mp as micro-pip offsets from micro_pip_base (kNoMicroPips where the
  /// level is empty), not fixed point in bid_px/ask_px: for callers that aggregate many
  /// windows of the same rows, rounded once and half the bytes to read per window.
  bool micro_pip_prices = false;
  int64_t micro_pip_base = 0;
  std::array<const int32_t*, kLevels> bid_mp{}, ask_mp{};
  std::vector<std::shared_ptr<arrow::Array>> keep_alive;
};

/// Widen [lo, hi] to the micro-pip prices (rounded as §3.4 says) of n fixed-point prices.
void MicroPipRange(const int64_t* prices, int64_t n, const ImageOptions& options, int64_t& lo, int64_t& hi);

/// Write n fixed-point prices as micro-pip offsets from `base` (kNoMicroPips where undefined);
/// every offset must fit in an int32 (MicroPipRange tells).
void ToMicroPipOffsets(const int64_t* prices, int64_t n, const ImageOptions& options, int64_t base, int32_t* out);

/// Return views of a labeled dataset's book columns (dbn::BookColumnNames; fixed-point prices,
/// as label build writes them); an error names the missing or mistyped column.
[[nodiscard]] Result<Book> BookOf(const arrow::RecordBatch& batch);

/// Aggregates of one bin of rows: per side and level the floor of the mean micro-pip price
/// (kNoPrice when no row defines that level) and the three feature values.
struct BinCell {
  int64_t price;
  float volume;
  float variance;
  float trade_counts;
};
inline constexpr int64_t kNoPrice = INT64_MIN;

struct BinAggregates {
  int ticks_per_bin = 0;
  int64_t first_row = 0;  ///< the first row of bin 0
  /// bins × 2 sides (bid, ask) × kLevels cells.
  std::vector<BinCell> cells;
  [[nodiscard]] int64_t bins() const { return static_cast<int64_t>(cells.size()) / (2 * kLevels); }
  [[nodiscard]] const BinCell& at(int64_t bin, int side, int level) const {
    return cells[static_cast<size_t>((bin * 2 + side) * kLevels + level)];
  }
};

/// Aggregate `bins` consecutive bins of rows starting at `first_row`. Only the features in
/// `options.features` are computed; the others are left 0.
[[nodiscard]] BinAggregates Aggregate(const Book& book, int64_t first_row, int64_t bins,
                                      const ImageOptions& options);

/// Aggregate like Aggregate into `out`, reusing its storage, from rows held in consecutive
/// chunks: chunks[i] holds rows [starts[i], starts[i] + chunks[i]->rows), starts[0] <=
/// first_row. Lets a caller aggregate a window that spans several cached chunks without
/// copying it into one book, and without allocating per window.
void AggregateChunks(const std::vector<const Book*>& chunks, const std::vector<int64_t>& starts, int64_t first_row,
                     int64_t bins, const ImageOptions& options, BinAggregates& out);

/// Return the mid in micro-pips at row t: trunc((ask_px_00 + bid_px_00) / 2 / micro_pip).
/// Needs the fixed-point prices (not micro_pip_prices).
[[nodiscard]] int64_t MidMicroPips(const Book& book, int64_t t, const ImageOptions& options);

/// Render the sample ending at row `t` (inclusive) into `out` (image_floats() floats) straight
/// from the rows (its bins aggregated, then rendered as render_bins.h does). Requires
/// t >= window_rows() - 1.
[[nodiscard]] Status Render(const Book& book, int64_t t, const ImageOptions& options, float* out);

}  // namespace tickforge::features

namespace tickforge::features {

/// Read the rows the sample ending at `row` needs from a labeled dataset (only those row
/// groups, only the book columns) and render it.
[[nodiscard]] Result<std::vector<float>> RenderDatasetRow(const std::string& path, int64_t row,
                                                          const ImageOptions& options);

/// Return ImageOptions' defaults with the features the dataset at `path` was labeled for (its
/// metadata's `features`), where it records any: what render draws when its caller names none.
[[nodiscard]] Result<ImageOptions> DatasetImageOptions(const std::string& path);

/// Return the last row of a dataset whose ts_event is at or before `ts` (ns since the epoch).
[[nodiscard]] Result<int64_t> RowAtOrBefore(const std::string& path, int64_t ts);

}  // namespace tickforge::features
