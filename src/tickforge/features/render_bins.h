// Depth images rendered from precomputed bins (DESIGN.md §3.4): what the loader draws from its
// cached aggregates, and Render draws from rows. The same floats, bit for bit, however the bins
// were gathered or sorted.
#pragma once

#include <cstdint>
#include <vector>

#include "tickforge/features/depth_image.h"

namespace tickforge::features {

/// How a rendered plane is scaled: by its max |value| (§3.4), or not at all (the combined
/// cumulative grid as float32, for callers that normalize it themselves).
enum class PlaneScale { kMaxAbs, kNone };

/// Render from precomputed bins: the sample whose T bins end with bin `last_bin` of `bins` and
/// whose mid is `mid` (MidMicroPips of its last row). Equal to Render for windows on the grid.
void RenderFromBins(const BinAggregates& bins, int64_t last_bin, int64_t mid, const ImageOptions& options,
                    float* out, PlaneScale scale = PlaneScale::kMaxAbs);

/// A bin's levels sorted once, for placing them on the grid at any mid: each side in book order
/// (bids falling, asks rising with depth) with equal prices merged into the deepest of them, as
/// micro-pip offsets from `base`. A bin on the bin grid is rendered by up to T samples, each
/// with its own mid; placing its levels for one is then finding, by counting, the runs of each
/// side below and above that mid, not classifying and ordering every level again. A bin out of
/// book order is not sorted (`sorted` false) and is placed from its cells. Its offsets and
/// values follow it in memory (SortedBins).
struct SortedBin {
  int64_t base = 0;
  uint8_t bids = 0, asks = 0;  ///< levels on each side, ties merged
  bool sorted = false;
};

/// The sorted levels of consecutive bins, for the planes one set of options renders.
class SortedBins {
 public:
  /// Sort `bins` consecutive bins of cells (2 × kLevels each, as BinAggregates holds them) for
  /// the planes `options.features` renders.
  [[nodiscard]] static SortedBins Of(const BinCell* cells, int64_t bins, const ImageOptions& options);
  [[nodiscard]] const SortedBin* at(int64_t bin) const {
    return reinterpret_cast<const SortedBin*>(storage_.data() + static_cast<size_t>(bin) * stride_words_);
  }
  [[nodiscard]] int64_t bytes() const { return static_cast<int64_t>(storage_.size() * sizeof(uint64_t)); }

 private:
  std::vector<uint64_t> storage_;
  size_t stride_words_ = 0;
};

/// Render from precomputed bins given by pointer: bins[k] points at the 2 × kLevels cells
/// (bid levels, then ask levels) of time bin k, k = 0..T-1. Lets a caller render from cells
/// spread over several cached segments without gathering them first. `sorted`, where given,
/// holds each bin's SortedBins::at (sorted for the same features); the image is the same.
void RenderFromBinPointers(const BinCell* const* bins, int64_t mid, const ImageOptions& options, float* out,
                           PlaneScale scale = PlaneScale::kMaxAbs, const SortedBin* const* sorted = nullptr);

}  // namespace tickforge::features
