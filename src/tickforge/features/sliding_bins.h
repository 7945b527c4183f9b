// Aggregates of every bin a window off the bin grid can use (DESIGN.md §3.4): for each start
// row s of a range, the bin of rows [s, s + ticks_per_bin), computed in one pass by sliding
// the bin over the rows one row at a time. A window ending at any row then looks its bins up
// instead of aggregating 50,000 rows; the cells equal Aggregate's bit for bit.
#pragma once

#include <cstdint>

#include "tickforge/features/depth_image.h"

namespace tickforge::features {

/// The volume-plane half of one side and level of a sliding bin: the floor of the mean
/// micro-pip price as an offset from the book's micro_pip_base (kNoMicroPips when no row of the
/// bin defines the level) and the median size. Half a BinCell's bytes: these are kept for every
/// row of a cached segment.
struct SlidingCell {
  int32_t price;
  float volume;
};

/// Where SlideBins writes: per start s, 2 × kLevels cells (bid levels, then ask levels) at
/// cells + s × 2 × kLevels, likewise the variance and trade_counts values (each may be null
/// when not among the features; volume is 0 when not among them).
struct SlidingOut {
  SlidingCell* cells = nullptr;
  float* variance = nullptr;
  float* trade_counts = nullptr;
};

/// Aggregate the bins that start at rows 0..starts-1 of `book`, which must hold micro-pip
/// prices (micro_pip_prices) and at least starts + ticks_per_bin - 1 rows. The mean and the
/// counts slide exactly (integer sums); the median slides over a histogram of the level's
/// sizes with a cursor at the middle; the variance is summed per bin in row order, as
/// Aggregate does, since a sliding float sum would not give its bits.
void SlideBins(const Book& book, int64_t starts, const ImageOptions& options, const SlidingOut& out);

/// Expand the sliding cells of one start (2 × kLevels of each array given, as SlideBins wrote
/// them) into the BinCells Aggregate would give for that bin; `base` is the book's
/// micro_pip_base.
void ExpandSlidingBin(const SlidingCell* cells, const float* variance, const float* trade_counts, int64_t base,
                      BinCell* out);

}  // namespace tickforge::features
