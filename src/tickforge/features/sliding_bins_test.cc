#include "tickforge/features/sliding_bins.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>
#include <vector>

namespace tickforge::features {
namespace {

// A book of micro-pip offsets held in vectors: a random walk with random sizes, some levels
// empty at random rows.
struct MicroBook {
  std::array<std::vector<int32_t>, kLevels> bid_mp, ask_mp;
  std::array<std::vector<uint32_t>, kLevels> bid_sz, ask_sz, bid_ct, ask_ct;

  Book View(int64_t base) const {
    Book book;
    book.rows = static_cast<int64_t>(bid_mp[0].size());
    book.micro_pip_prices = true;
    book.micro_pip_base = base;
    for (int l = 0; l < kLevels; ++l) {
      book.bid_mp[l] = bid_mp[l].data();
      book.ask_mp[l] = ask_mp[l].data();
      book.bid_sz[l] = bid_sz[l].data();
      book.ask_sz[l] = ask_sz[l].data();
      book.bid_ct[l] = bid_ct[l].data();
      book.ask_ct[l] = ask_ct[l].data();
    }
    return book;
  }
};

MicroBook RandomMicroBook(int64_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  MicroBook b;
  int32_t mid = 100'000;
  for (int64_t r = 0; r < rows; ++r) {
    mid += static_cast<int32_t>(rng() % 5) - 2;
    for (int l = 0; l < kLevels; ++l) {
      const bool empty = rng() % 30 == 0;
      b.bid_mp[l].push_back(empty ? kNoMicroPips : mid - (l + 1) - static_cast<int32_t>(rng() % 3));
      b.ask_mp[l].push_back(mid + (l + 1) + static_cast<int32_t>(rng() % 3));
      b.bid_sz[l].push_back(static_cast<uint32_t>(1 + rng() % 300));
      b.ask_sz[l].push_back(static_cast<uint32_t>(1 + rng() % 40));
      b.bid_ct[l].push_back(static_cast<uint32_t>(rng() % 7));
      b.ask_ct[l].push_back(static_cast<uint32_t>(rng() % 7));
    }
  }
  return b;
}

// Slide over `book` and compare each start's cells with Aggregate's bin of the same rows, bit
// for bit (Aggregate is checked against the numpy reference in tests/test_features.py).
::testing::AssertionResult SlidesLikeAggregate(const Book& book, const ImageOptions& options) {
  const int64_t starts = book.rows - options.ticks_per_bin + 1;
  const auto cells = static_cast<size_t>(starts * 2 * kLevels);
  std::vector<SlidingCell> sliding(cells);
  std::vector<float> variance(cells), trades(cells);
  SlideBins(book, starts, options, {sliding.data(), variance.data(), trades.data()});
  for (int64_t s = 0; s < starts; ++s) {
    const BinAggregates want = Aggregate(book, s, 1, options);
    const auto at = static_cast<size_t>(s * 2 * kLevels);
    BinCell got[2 * kLevels];
    ExpandSlidingBin(&sliding[at], &variance[at], &trades[at], book.micro_pip_base, got);
    for (int i = 0; i < 2 * kLevels; ++i) {
      const BinCell& a = got[i];
      const BinCell& b = want.cells[static_cast<size_t>(i)];
      if (!(a.price == b.price && a.volume == b.volume && a.variance == b.variance &&
            a.trade_counts == b.trade_counts)) {
        return ::testing::AssertionFailure()
               << "start " << s << " cell " << i << ": price " << a.price << " vs " << b.price << ", volume "
               << a.volume << " vs " << b.volume << ", variance " << a.variance << " vs " << b.variance
               << ", trades " << a.trade_counts << " vs " << b.trade_counts;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(SlidingBinsTest, EveryStartEqualsAggregatingItsRows) {
  const MicroBook owned = RandomMicroBook(1500, 1);
  for (const int tpb : {1, 2, 7, 100}) {
    ImageOptions options;
    options.ticks_per_bin = tpb;
    options.features = {Feature::kVolume, Feature::kVariance, Feature::kTradeCounts};
    EXPECT_TRUE(SlidesLikeAggregate(owned.View(650'000), options)) << "ticks_per_bin " << tpb;
  }
}

TEST(SlidingBinsTest, EmptyRunsWideSizesAndNegativeMeans) {
  MicroBook owned = RandomMicroBook(1200, 2);
  // A level empty over more than a bin (empty cells, then the cursor over an emptied histogram).
  for (int r = 300; r < 500; ++r) owned.ask_mp[3][static_cast<size_t>(r)] = kNoMicroPips;
  // A level empty throughout.
  for (auto& p : owned.bid_mp[9]) p = kNoMicroPips;
  // Sizes too far apart to count by value (ranked), some huge and sparse.
  for (size_t r = 0; r < 1200; r += 2) owned.bid_sz[4][r] = 100'000 + static_cast<uint32_t>(r * r * 37);
  owned.ask_sz[5][600] = UINT32_MAX;
  // Offsets below zero: the floor of a negative mean rounds down.
  for (size_t r = 0; r < 1200; ++r) owned.bid_mp[8][r] = -static_cast<int32_t>(r % 5) - 1;
  for (const int tpb : {3, 50}) {
    ImageOptions options;
    options.ticks_per_bin = tpb;
    options.features = {Feature::kVolume, Feature::kVariance, Feature::kTradeCounts};
    EXPECT_TRUE(SlidesLikeAggregate(owned.View(-7), options)) << "ticks_per_bin " << tpb;
  }
}

TEST(SlidingBinsTest, OnlyTheRequestedFeaturesAreComputed) {
  const MicroBook owned = RandomMicroBook(400, 3);
  const Book book = owned.View(0);
  ImageOptions options;
  options.ticks_per_bin = 10;
  const std::vector<std::vector<Feature>> choices = {
      {Feature::kVolume}, {Feature::kVariance}, {Feature::kTradeCounts}, {Feature::kVolume, Feature::kTradeCounts}};
  for (const auto& features : choices) {
    options.features = features;
    EXPECT_TRUE(SlidesLikeAggregate(book, options));
  }
  // Without output arrays for variance and trade counts the cells alone are written.
  options.features = {Feature::kVolume};
  const int64_t starts = book.rows - 9;
  std::vector<SlidingCell> cells(static_cast<size_t>(starts * 2 * kLevels));
  SlideBins(book, starts, options, {cells.data(), nullptr, nullptr});
  BinCell got[2 * kLevels];
  ExpandSlidingBin(&cells[static_cast<size_t>(5 * 2 * kLevels)], nullptr, nullptr, 0, got);
  const BinAggregates want = Aggregate(book, 5, 1, options);
  for (int i = 0; i < 2 * kLevels; ++i) {
    EXPECT_EQ(got[i].price, want.cells[static_cast<size_t>(i)].price);
    EXPECT_EQ(got[i].volume, want.cells[static_cast<size_t>(i)].volume);
    EXPECT_EQ(got[i].variance, 0.0f);
    EXPECT_EQ(got[i].trade_counts, 0.0f);
  }
}

// A hand-checked bin: the median of an even count is the mean of the two middle sizes, the
// price the floor of the mean, empty rows left out.
TEST(SlidingBinsTest, HandCheckedBins) {
  MicroBook owned = RandomMicroBook(4, 4);
  const std::array<int32_t, 4> px = {10, kNoMicroPips, 13, 14};
  const std::array<uint32_t, 4> sz = {5, 99, 1, 8};
  for (size_t r = 0; r < 4; ++r) {
    owned.bid_mp[0][r] = px[r];
    owned.bid_sz[0][r] = sz[r];
    owned.bid_ct[0][r] = static_cast<uint32_t>(r + 1);
  }
  ImageOptions options;
  options.ticks_per_bin = 3;
  options.features = {Feature::kVolume, Feature::kTradeCounts};
  std::vector<SlidingCell> cells(2 * 2 * kLevels);
  std::vector<float> trades(cells.size());
  SlideBins(owned.View(1000), 2, options, {cells.data(), nullptr, trades.data()});
  // Rows 0..2: prices 10, 13 -> floor(11.5) = 11; sizes 5, 1 -> 3; counts 1 + 3.
  EXPECT_EQ(cells[0].price, 11);
  EXPECT_EQ(cells[0].volume, 3.0f);
  EXPECT_EQ(trades[0], 4.0f);
  // Rows 1..3: prices 13, 14 -> 13; sizes 1, 8 -> 4.5; counts 3 + 4.
  const size_t next = 2 * kLevels;
  EXPECT_EQ(cells[next].price, 13);
  EXPECT_EQ(cells[next].volume, 4.5f);
  EXPECT_EQ(trades[next], 7.0f);
  BinCell expanded[2 * kLevels];
  ExpandSlidingBin(&cells[next], nullptr, &trades[next], 1000, expanded);
  EXPECT_EQ(expanded[0].price, 1013);
}

}  // namespace
}  // namespace tickforge::features
