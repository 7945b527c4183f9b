#include "tickforge/features/depth_image.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "tickforge/dbn/records.h"
#include "tickforge/features/render_bins.h"
#include "tickforge/testing/random_book.h"

namespace tickforge::features {
namespace {

using testing::OwnedBook;
using testing::RandomBook;

TEST(DepthImageTest, PrecomputedBinsEqualRenderingFromRows) {
  const OwnedBook owned = RandomBook(3000, 1);
  const Book book = owned.View();
  ImageOptions options;
  options.time_bins = 20;
  options.ticks_per_bin = 10;
  options.features = {Feature::kTradeCounts, Feature::kVolume, Feature::kVariance};
  const int64_t bins = book.rows / options.ticks_per_bin;
  const BinAggregates all = Aggregate(book, 0, bins, options);
  std::vector<float> direct(static_cast<size_t>(options.image_floats()));
  std::vector<float> cached(direct.size());
  for (int64_t last_bin = options.time_bins - 1; last_bin < bins; last_bin += 37) {
    const int64_t t = (last_bin + 1) * options.ticks_per_bin - 1;
    ASSERT_TRUE(Render(book, t, options, direct.data()).ok());
    RenderFromBins(all, last_bin, MidMicroPips(book, t, options), options, cached.data());
    ASSERT_EQ(direct, cached) << "t=" << t;
  }
}

TEST(DepthImageTest, ImagesAreScaledAndDiverging) {
  const OwnedBook owned = RandomBook(2000, 2);
  const Book book = owned.View();
  ImageOptions options;
  options.time_bins = 50;
  options.ticks_per_bin = 20;
  std::vector<float> image(static_cast<size_t>(options.image_floats()));
  ASSERT_TRUE(Render(book, 1999, options, image.data()).ok());
  float max_abs = 0;
  for (float v : image) {
    ASSERT_FALSE(std::isnan(v));
    max_abs = std::max(max_abs, std::abs(v));
  }
  EXPECT_FLOAT_EQ(max_abs, 1.0f);
  // Asks cumulate from the top of the grid down, bids from the bottom up: above the mid the
  // ask side dominates (positive), below it the bid side (negative).
  const int T = options.time_bins;
  EXPECT_GT(image[static_cast<size_t>(401 * T + T - 1)], 0);
  EXPECT_LT(image[static_cast<size_t>(0 * T + T - 1)], 0);
}

TEST(DepthImageTest, DeeperLevelWinsASharedCellAndTheMidRowsStayEmpty) {
  OwnedBook b = RandomBook(4, 3);
  ImageOptions options;
  options.time_bins = 1;
  options.ticks_per_bin = 4;
  options.features = {Feature::kVolume};
  for (int r = 0; r < 4; ++r) {
    for (int l = 0; l < kLevels; ++l) {
      b.ask_px[l][static_cast<size_t>(r)] = dbn::kUndefPrice;
      b.bid_px[l][static_cast<size_t>(r)] = dbn::kUndefPrice;
    }
    b.bid_px[0][static_cast<size_t>(r)] = 650'000'000;  // 65000 micro-pips, the mid's row 0
    b.ask_px[0][static_cast<size_t>(r)] = 650'020'000;
    b.bid_px[1][static_cast<size_t>(r)] = 649'990'000;  // 64999 -> y = 0
    b.bid_px[2][static_cast<size_t>(r)] = 649'990'000;  // same cell, deeper: wins
    b.bid_sz[1][static_cast<size_t>(r)] = 10;
    b.bid_sz[2][static_cast<size_t>(r)] = 30;
  }
  const Book book = b.View();
  // mid = trunc((650020000 + 650000000) / 2 / 10000) = 65001; bid level 0 sits at P = 65000 = m-1.
  EXPECT_EQ(MidMicroPips(book, 3, options), 65001);
  std::vector<float> image(static_cast<size_t>(options.image_floats()));
  ASSERT_TRUE(Render(book, 3, options, image.data()).ok());
  // Bid cells: y = 0 (P = m-1, level 0) and y = 1 (P = m-2, levels 1 and 2 -> 30 wins).
  // Bid cumulative (descending y) at y=1 is 30, at y=0 is 30 + level 0's median size.
  const double v0 = image[0], v1 = image[1], v2 = image[2];
  EXPECT_LT(v0, v1);           // more bid volume at and below row 0 than at row 1
  EXPECT_EQ(v2, 0);            // nothing below row 1 on the bid side, and no ask there
  EXPECT_EQ(image[200], 0.0f);  // the mid rows hold no level
  EXPECT_EQ(image[201], image[200]);
}

// A view of rows [begin, end) of a book.
Book Rows(const Book& book, int64_t begin, int64_t end) {
  Book out = book;
  out.rows = end - begin;
  for (int l = 0; l < kLevels; ++l) {
    out.bid_px[l] += begin;
    out.ask_px[l] += begin;
    out.bid_sz[l] += begin;
    out.ask_sz[l] += begin;
    out.bid_ct[l] += begin;
    out.ask_ct[l] += begin;
  }
  return out;
}

// Every cell of `got` equals the same cell of `want`, bit for bit.
::testing::AssertionResult SameCells(const BinAggregates& got, const BinAggregates& want) {
  if (got.cells.size() != want.cells.size()) {
    return ::testing::AssertionFailure() << got.cells.size() << " cells, expected " << want.cells.size();
  }
  for (size_t i = 0; i < want.cells.size(); ++i) {
    const BinCell& a = got.cells[i];
    const BinCell& b = want.cells[i];
    if (!(a.price == b.price && a.volume == b.volume && a.variance == b.variance && a.trade_counts == b.trade_counts)) {
      return ::testing::AssertionFailure() << "cell " << i << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(DepthImageTest, AggregatingAcrossChunksEqualsOneBook) {
  OwnedBook owned = RandomBook(3000, 5);
  // Wholly empty levels over several rows, and sizes spread too wide to count (selection).
  for (int r = 700; r < 760; ++r) {
    for (int l = 0; l < kLevels; ++l) owned.ask_px[l][static_cast<size_t>(r)] = dbn::kUndefPrice;
  }
  for (int r = 0; r < 3000; r += 3) owned.bid_sz[4][static_cast<size_t>(r)] = 100'000 + static_cast<uint32_t>(r);
  const Book book = owned.View();
  ImageOptions options;
  options.time_bins = 40;
  options.ticks_per_bin = 25;
  options.features = {Feature::kVolume, Feature::kVariance, Feature::kTradeCounts};
  for (const int64_t chunk : {7, 25, 64, 1000, 4096}) {
    std::vector<Book> pieces;
    std::vector<const Book*> chunks;
    std::vector<int64_t> starts;
    for (int64_t s = 0; s < book.rows; s += chunk) {
      pieces.push_back(Rows(book, s, std::min(book.rows, s + chunk)));
      starts.push_back(s);
    }
    for (const auto& piece : pieces) chunks.push_back(&piece);
    for (const int64_t first : {int64_t{0}, int64_t{13}, int64_t{1999}}) {
      const BinAggregates want = Aggregate(book, first, options.time_bins, options);
      // A caller passes the chunks from the one holding first_row on.
      const auto from = static_cast<size_t>(first / chunk);
      const std::vector<const Book*> tail(chunks.begin() + static_cast<std::ptrdiff_t>(from), chunks.end());
      const std::vector<int64_t> tail_starts(starts.begin() + static_cast<std::ptrdiff_t>(from), starts.end());
      BinAggregates got;
      AggregateChunks(tail, tail_starts, first, options.time_bins, options, got);
      ASSERT_TRUE(SameCells(got, want)) << "chunk=" << chunk << " first=" << first;
    }
  }
}

TEST(DepthImageTest, MicroPipOffsetsAggregateLikeFixedPoint) {
  OwnedBook owned = RandomBook(2000, 9);
  for (int r = 300; r < 340; ++r) owned.bid_px[7][static_cast<size_t>(r)] = dbn::kUndefPrice;
  const Book book = owned.View();
  for (const double micro_pip_size : {1e-5, 5e-5, 1e-6}) {
    ImageOptions options;
    options.time_bins = 30;
    options.ticks_per_bin = 50;
    options.micro_pip_size = micro_pip_size;
    options.features = {Feature::kVolume, Feature::kVariance, Feature::kTradeCounts};
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int l = 0; l < kLevels; ++l) {
      MicroPipRange(owned.bid_px[l].data(), book.rows, options, lo, hi);
      MicroPipRange(owned.ask_px[l].data(), book.rows, options, lo, hi);
    }
    ASSERT_LT(lo, hi);
    std::array<std::vector<int32_t>, kLevels> bid, ask;
    Book micro = book;
    micro.micro_pip_prices = true;
    micro.micro_pip_base = lo;
    for (int l = 0; l < kLevels; ++l) {
      bid[l].resize(static_cast<size_t>(book.rows));
      ask[l].resize(static_cast<size_t>(book.rows));
      ToMicroPipOffsets(owned.bid_px[l].data(), book.rows, options, lo, bid[l].data());
      ToMicroPipOffsets(owned.ask_px[l].data(), book.rows, options, lo, ask[l].data());
      micro.bid_mp[l] = bid[l].data();
      micro.ask_mp[l] = ask[l].data();
      micro.bid_px[l] = micro.ask_px[l] = nullptr;  // must not be read
    }
    EXPECT_EQ(bid[7][310], kNoMicroPips);
    for (const int64_t first : {int64_t{0}, int64_t{17}, int64_t{499}}) {
      const BinAggregates want = Aggregate(book, first, options.time_bins, options);
      const BinAggregates got = Aggregate(micro, first, options.time_bins, options);
      ASSERT_TRUE(SameCells(got, want)) << "micro_pip_size=" << micro_pip_size << " first=" << first;
    }
  }
}

TEST(DepthImageTest, RejectsWindowsThatDoNotFit) {
  const OwnedBook owned = RandomBook(100, 4);
  ImageOptions options;
  options.time_bins = 10;
  options.ticks_per_bin = 20;
  std::vector<float> image(static_cast<size_t>(options.image_floats()));
  EXPECT_FALSE(Render(owned.View(), 150, options, image.data()).ok());
  options.micro_pip_size = 1e-10;
  EXPECT_FALSE(options.Validate().ok());
}

}  // namespace
}  // namespace tickforge::features
