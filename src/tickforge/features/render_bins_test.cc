// Rendering from bins against the dense grids DESIGN.md §3.4 describes: random, drifted, sorted,
// empty and one-sided bins.
#include "tickforge/features/render_bins.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace tickforge::features {
namespace {

// The direct rendering DESIGN.md §3.4 describes: dense bid and ask grids, cumulated row by row
// in double precision. RenderFromBins computes the same sums from each column's few occupied
// cells; this is the oracle it must equal bit for bit.
std::vector<float> DenseRender(const BinAggregates& bins, int64_t mid, const ImageOptions& options) {
  const int T = options.time_bins;
  const size_t cells = static_cast<size_t>(kImageRows) * static_cast<size_t>(T);
  std::vector<float> out(static_cast<size_t>(options.image_floats()));
  int plane = 0;
  for (Feature feature : {Feature::kVolume, Feature::kVariance, Feature::kTradeCounts}) {
    if (std::find(options.features.begin(), options.features.end(), feature) == options.features.end()) continue;
    std::vector<float> ask(cells, 0.0f), bid(cells, 0.0f);
    for (int k = 0; k < T; ++k) {
      for (int side = 0; side < 2; ++side) {
        std::vector<float>& grid = side == 0 ? bid : ask;
        for (int l = 0; l < kLevels; ++l) {
          const BinCell& cell = bins.at(k, side, l);
          if (cell.price == kNoPrice) continue;
          const int64_t p = cell.price;
          int y;
          if (p >= mid - kHalfRange && p <= mid - 1) {
            y = static_cast<int>((mid - 1) - p);
          } else if (p >= mid + 1 && p <= mid + kHalfRange) {
            y = static_cast<int>(kHalfRange + 2 + (p - (mid + 1)));
          } else {
            continue;
          }
          grid[static_cast<size_t>(y) * static_cast<size_t>(T) + static_cast<size_t>(k)] =
              feature == Feature::kVolume ? cell.volume : feature == Feature::kVariance ? cell.variance : cell.trade_counts;
        }
      }
    }
    float* dst = out.data() + static_cast<ptrdiff_t>(plane) * kImageRows * T;
    std::vector<double> acc(static_cast<size_t>(T), 0.0);
    for (int y = 0; y < kImageRows; ++y) {
      for (int k = 0; k < T; ++k) {
        acc[static_cast<size_t>(k)] += ask[static_cast<size_t>(y * T + k)];
        dst[y * T + k] = static_cast<float>(acc[static_cast<size_t>(k)]);
      }
    }
    std::fill(acc.begin(), acc.end(), 0.0);
    double max_abs = 0;
    for (int y = kImageRows - 1; y >= 0; --y) {
      for (int k = 0; k < T; ++k) {
        acc[static_cast<size_t>(k)] += bid[static_cast<size_t>(y * T + k)];
        const double value = static_cast<double>(dst[y * T + k]) - acc[static_cast<size_t>(k)];
        dst[y * T + k] = static_cast<float>(value);
        max_abs = std::max(max_abs, std::abs(value));
      }
    }
    const float scale = max_abs > 0 ? static_cast<float>(1.0 / max_abs) : 0.0f;
    for (size_t i = 0; i < cells; ++i) dst[i] *= scale;
    ++plane;
  }
  return out;
}

// Random bins around `mid`: levels inside and outside ±200 micro-pips (and on the mid rows),
// empty levels and wholly empty bins, several levels of a side on one price (ties), sides that
// are empty for whole bins, crossed levels (asks below the mid, bids above it), zero values.
BinAggregates RandomBins(int T, int64_t mid, uint64_t seed, double one_sided) {
  std::mt19937_64 rng(seed);
  BinAggregates bins;
  bins.ticks_per_bin = 1;
  bins.cells.resize(static_cast<size_t>(T) * 2 * kLevels);
  for (int k = 0; k < T; ++k) {
    const bool empty_bin = rng() % 13 == 0;
    const int missing_side = std::uniform_real_distribution<double>(0, 1)(rng) < one_sided ? static_cast<int>(rng() % 2) : -1;
    for (int side = 0; side < 2; ++side) {
      int64_t p = side == 0 ? mid - 1 - static_cast<int64_t>(rng() % 5) : mid + 1 + static_cast<int64_t>(rng() % 5);
      for (int l = 0; l < kLevels; ++l) {
        BinCell& cell = bins.cells[static_cast<size_t>((k * 2 + side) * kLevels + l)];
        const uint64_t kind = rng() % 20;
        if (empty_bin || side == missing_side || kind == 0) {
          cell = BinCell{kNoPrice, 0, 0, 0};
          continue;
        }
        if (kind == 1) {
          p = mid + static_cast<int64_t>(rng() % 600) - 300;  // anywhere, often outside ±200
        } else if (kind == 2) {
          p = mid + (rng() % 2 ? 200 : -200) + static_cast<int64_t>(rng() % 3) - 1;  // the edges
        } else if (kind >= 5) {  // kinds 3 and 4 keep p: a tie with the level above
          p += (side == 0 ? -1 : 1) * static_cast<int64_t>(1 + rng() % 40);
        }
        const auto value = [&] { return rng() % 7 == 0 ? 0.0f : static_cast<float>(rng() % 100000) / 7.0f; };
        cell = BinCell{p, value(), value(), value()};
      }
    }
  }
  return bins;
}

TEST(DepthImageTest, SparseRenderingEqualsDenseGrids) {
  for (const int T : {1, 2, 7, 64, 500}) {
    for (uint64_t seed = 0; seed < 6; ++seed) {
      ImageOptions options;
      options.time_bins = T;
      options.features = seed % 2 ? std::vector<Feature>{Feature::kTradeCounts, Feature::kVolume, Feature::kVariance}
                                  : std::vector<Feature>{Feature::kVariance};
      const int64_t mid = seed == 5 ? -65000 : 65000;
      const BinAggregates bins = RandomBins(T, mid, seed * 100 + static_cast<uint64_t>(T), seed == 3 ? 1.0 : 0.2);
      std::vector<float> got(static_cast<size_t>(options.image_floats()), -7.0f);
      RenderFromBins(bins, T - 1, mid, options, got.data());
      const std::vector<float> want = DenseRender(bins, mid, options);
      ASSERT_EQ(0, std::memcmp(got.data(), want.data(), want.size() * sizeof(float))) << "T=" << T << " seed=" << seed;
    }
  }
}

// Bins of a book whose price drifted over the window: each side's levels are strictly
// monotone in price but shifted by up to ±60 micro-pips from the final mid, so they straddle
// it (bids above the mid descend in row, asks below it too) and the two sides interleave on
// the grid. Some bins break the order (a tie, a level out of place) or put an ask on row 0, a
// bid on row 401, or an ask on the row after a bid.
BinAggregates DriftedBins(int T, int64_t mid, uint64_t seed) {
  std::mt19937_64 rng(seed);
  BinAggregates bins;
  bins.ticks_per_bin = 1;
  bins.cells.resize(static_cast<size_t>(T) * 2 * kLevels);
  for (int k = 0; k < T; ++k) {
    const int64_t drift = static_cast<int64_t>(rng() % 121) - 60;
    const uint64_t twist = rng() % 8;
    for (int side = 0; side < 2; ++side) {
      int64_t p = mid + drift + (side == 0 ? -1 : 1) * static_cast<int64_t>(rng() % 3);
      for (int l = 0; l < kLevels; ++l) {
        BinCell& cell = bins.cells[static_cast<size_t>((k * 2 + side) * kLevels + l)];
        p += (side == 0 ? -1 : 1) * static_cast<int64_t>(1 + rng() % 3);
        const auto value = [&] { return static_cast<float>(rng() % 100000) / 3.0f; };
        cell = BinCell{p, value(), value(), value()};
        if (rng() % 25 == 0) cell.price = kNoPrice;
      }
      BinCell* level = &bins.cells[static_cast<size_t>((k * 2 + side) * kLevels)];
      if (twist == 1) level[4].price = level[3].price;             // a tie: the deeper one wins
      if (twist == 2) std::swap(level[2].price, level[6].price);  // out of order
      if (twist == 7) {  // runs of ties at both ends and in the middle, still monotone
        level[1].price = level[0].price;
        level[5].price = level[6].price = level[4].price;
        level[9].price = level[8].price;
      }
    }
    BinCell* bid = &bins.cells[static_cast<size_t>(k * 2 * kLevels)];
    BinCell* ask = bid + kLevels;
    if (twist == 3) ask[0].price = mid - 1;                  // row 0
    if (twist == 4) bid[9].price = mid + kHalfRange;         // row 401
    // Crossed: the ask a row above the bid (only against a bid level that is there; an empty
    // one's price is kNoPrice).
    if (twist == 5 && bid[5].price != kNoPrice) ask[5].price = bid[5].price - 1;
    if (twist == 6 && bid[1].price != kNoPrice) ask[1].price = bid[1].price + 1;
  }
  return bins;
}

TEST(DepthImageTest, DriftedBinsRenderLikeDenseGrids) {
  for (const int T : {1, 5, 500}) {
    for (uint64_t seed = 0; seed < 4; ++seed) {
      ImageOptions options;
      options.time_bins = T;
      options.features = seed % 2 ? std::vector<Feature>{Feature::kVolume}
                                  : std::vector<Feature>{Feature::kVolume, Feature::kVariance, Feature::kTradeCounts};
      const int64_t mid = 65000 + static_cast<int64_t>(seed);
      const BinAggregates bins = DriftedBins(T, mid, seed * 1000 + static_cast<uint64_t>(T));
      std::vector<float> got(static_cast<size_t>(options.image_floats()), -7.0f);
      RenderFromBins(bins, T - 1, mid, options, got.data());
      const std::vector<float> want = DenseRender(bins, mid, options);
      ASSERT_EQ(0, std::memcmp(got.data(), want.data(), want.size() * sizeof(float))) << "T=" << T << " seed=" << seed;
      // Unscaled: the combined grid's own float32, the dense oracle's before its scaling.
      std::vector<float> raw(got.size(), -7.0f);
      RenderFromBins(bins, T - 1, mid, options, raw.data(), PlaneScale::kNone);
      for (size_t plane = 0; plane < options.features.size(); ++plane) {
        const size_t n = static_cast<size_t>(kImageRows) * static_cast<size_t>(T);
        float peak = 0;
        for (size_t i = 0; i < n; ++i) peak = std::max(peak, std::abs(raw[plane * n + i]));
        ASSERT_GT(peak, 0.0f);
        for (size_t i = 0; i < n; i += 97) {
          ASSERT_NEAR(raw[plane * n + i] / peak, want[plane * n + i], 1e-5) << "T=" << T << " plane " << plane;
        }
      }
    }
  }
}

// Rendering from each bin's sorted levels equals the dense grids at every mid: mids across the
// drift of the bins, so some bins' levels straddle the mid, reach past the grid or lie wholly
// above or below it; bins out of order (placed from their cells), with ties, empty and one-sided.
TEST(DepthImageTest, SortedBinsRenderLikeDenseGridsAtEveryMid) {
  for (const int T : {1, 9, 500}) {
    for (uint64_t seed = 0; seed < 4; ++seed) {
      ImageOptions options;
      options.time_bins = T;
      options.features = seed % 2 ? std::vector<Feature>{Feature::kVolume}
                                  : std::vector<Feature>{Feature::kTradeCounts, Feature::kVariance, Feature::kVolume};
      const int64_t mid = seed == 3 ? -65000 : 65000;
      const BinAggregates bins = seed < 2 ? DriftedBins(T, mid, seed * 77 + static_cast<uint64_t>(T))
                                          : RandomBins(T, mid, seed * 77 + static_cast<uint64_t>(T), 0.2);
      const SortedBins sorted = SortedBins::Of(bins.cells.data(), T, options);
      std::vector<const BinCell*> columns(static_cast<size_t>(T));
      std::vector<const SortedBin*> levels(static_cast<size_t>(T));
      int64_t unsorted = 0;
      for (int k = 0; k < T; ++k) {
        columns[static_cast<size_t>(k)] = &bins.at(k, 0, 0);
        levels[static_cast<size_t>(k)] = sorted.at(k);
        unsorted += !sorted.at(k)->sorted;
      }
      if (T == 500) {  // both kinds
        EXPECT_GT(unsorted, 0) << "seed=" << seed;
        EXPECT_LT(unsorted, T) << "seed=" << seed;
      }
      std::vector<float> got(static_cast<size_t>(options.image_floats()));
      for (int64_t at = mid - 260; at <= mid + 260; at += seed < 2 ? 5 : 3) {
        std::fill(got.begin(), got.end(), -7.0f);
        RenderFromBinPointers(columns.data(), at, options, got.data(), PlaneScale::kMaxAbs, levels.data());
        const std::vector<float> want = DenseRender(bins, at, options);
        ASSERT_EQ(0, std::memcmp(got.data(), want.data(), want.size() * sizeof(float)))
            << "T=" << T << " seed=" << seed << " mid=" << at;
      }
    }
  }
}

// Sorting merges equal prices into the deepest level and counts what is left; a side out of
// book order, or prices too far apart for the offsets, leave the bin to its cells.
TEST(DepthImageTest, SortingMergesTiesAndLeavesDisorderToTheCells) {
  ImageOptions options;
  options.time_bins = 5;
  BinAggregates bins;
  bins.cells.assign(5 * 2 * kLevels, BinCell{kNoPrice, 0, 0, 0});
  const auto bin = [&](int b) { return &bins.cells[static_cast<size_t>(b * 2 * kLevels)]; };
  for (int l = 0; l < kLevels; ++l) {
    bin(0)[l] = BinCell{1000 - 3 * l, 1, 1, 1};          // bids 1000 .. 973
    bin(0)[kLevels + l] = BinCell{1010 + 5 * l, 1, 1, 1};  // asks 1010 .. 1055
  }
  bin(0)[kLevels + 3].price = bin(0)[kLevels + 2].price;  // a tie
  bin(0)[7].price = kNoPrice;                              // an empty level
  bin(2)[0] = BinCell{990, 1, 1, 1};
  bin(2)[1] = BinCell{995, 1, 1, 1};  // a bid deeper than the one before it but higher
  bin(3)[0] = BinCell{int64_t{1} << 40, 1, 1, 1};
  bin(3)[kLevels] = BinCell{(int64_t{1} << 40) + (int64_t{1} << 31), 1, 1, 1};  // 2^31 micro-pips apart
  bin(4)[0] = BinCell{-(int64_t{1} << 62), 1, 1, 1};
  bin(4)[kLevels] = BinCell{int64_t{1} << 62, 1, 1, 1};  // far from the limits' reach: no overflow
  const SortedBins sorted = SortedBins::Of(bins.cells.data(), 5, options);
  EXPECT_TRUE(sorted.at(0)->sorted);
  EXPECT_EQ(sorted.at(0)->bids, kLevels - 1);
  EXPECT_EQ(sorted.at(0)->asks, kLevels - 1);
  EXPECT_TRUE(sorted.at(1)->sorted);  // no level at all
  EXPECT_EQ(sorted.at(1)->bids + sorted.at(1)->asks, 0);
  EXPECT_FALSE(sorted.at(2)->sorted);
  EXPECT_FALSE(sorted.at(3)->sorted);
  EXPECT_FALSE(sorted.at(4)->sorted);
}

TEST(DepthImageTest, SparseRenderingOfEmptyAndOneSidedWindows) {
  ImageOptions options;
  options.time_bins = 9;
  options.features = {Feature::kVolume, Feature::kTradeCounts};
  const int64_t mid = 65000;
  BinAggregates bins = RandomBins(9, mid, 42, 0.0);
  for (auto& cell : bins.cells) cell.price = kNoPrice;  // nothing at all: zero planes
  std::vector<float> got(static_cast<size_t>(options.image_floats()), -7.0f);
  RenderFromBins(bins, 8, mid, options, got.data());
  EXPECT_EQ(0, std::memcmp(got.data(), DenseRender(bins, mid, options).data(), got.size() * sizeof(float)));
  for (float v : got) ASSERT_EQ(v, 0.0f);
  bins = RandomBins(9, mid, 43, 0.0);
  for (int k = 0; k < 9; ++k) {
    for (int l = 0; l < kLevels; ++l) bins.cells[static_cast<size_t>((k * 2 + 1) * kLevels + l)].price = kNoPrice;
  }
  RenderFromBins(bins, 8, mid, options, got.data());  // bids only
  EXPECT_EQ(0, std::memcmp(got.data(), DenseRender(bins, mid, options).data(), got.size() * sizeof(float)));
}

}  // namespace
}  // namespace tickforge::features
