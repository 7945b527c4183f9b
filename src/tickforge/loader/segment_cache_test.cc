#include "tickforge/loader/segment_cache_internal.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"

namespace tickforge::loader::internal {
namespace {

using testing::DatasetSpec;
using testing::ScopedTempDir;
using testing::WriteLabeledDataset;

// A segment of `bytes` bytes as the cache counts them (the contents do not matter here).
Result<std::shared_ptr<const Segment>> Sized(int64_t bytes, int* made = nullptr) {
  if (made) ++*made;
  auto segment = std::make_shared<Segment>();
  segment->bytes = bytes;
  return std::shared_ptr<const Segment>(std::move(segment));
}

TEST(SegmentCacheTest, CountsHitsAndMisses) {
  SegmentCache cache(1000);
  int made = 0;
  ASSERT_OK_AND_ASSIGN(auto a, cache.Get(1, 0, [&] { return Sized(100, &made); }));
  ASSERT_OK_AND_ASSIGN(auto again, cache.Get(1, 0, [&] { return Sized(100, &made); }));
  EXPECT_EQ(a.get(), again.get());
  ASSERT_OK(cache.Get(2, 0, [&] { return Sized(200, &made); }).status());
  EXPECT_EQ(made, 2);
  const auto stats = cache.stats();
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.misses, 2);
  EXPECT_EQ(stats.entries, 2);
  EXPECT_EQ(stats.bytes, 300);
  EXPECT_EQ(stats.evictions, 0);
}

TEST(SegmentCacheTest, NeverHoldsMoreThanTheBudgetAndEvictsTheLeastRecentlyUsed) {
  SegmentCache cache(1000);
  for (uint64_t key = 0; key < 30; ++key) {
    ASSERT_OK(cache.Get(key, 0, [&] { return Sized(150 + 10 * static_cast<int64_t>(key % 4)); }).status());
    // Keep key 0 recently used: it must survive every eviction.
    ASSERT_OK(cache.Get(0, 0, [&] { return Sized(150); }).status());
    const auto stats = cache.stats();
    ASSERT_LE(stats.bytes, 1000) << "after key " << key;
    ASSERT_LE(cache.live_bytes(), 1000);
    ASSERT_EQ(cache.live_bytes(), stats.bytes);  // nothing held outside the cache here
  }
  const auto stats = cache.stats();
  EXPECT_EQ(stats.misses, 30);
  EXPECT_EQ(stats.hits, 30);
  EXPECT_GT(stats.evictions, 0);
  EXPECT_EQ(stats.entries + stats.evictions, 30);
  int made = 0;
  ASSERT_OK(cache.Get(0, 0, [&] { return Sized(150, &made); }).status());
  EXPECT_EQ(made, 0) << "the most recently used segment was evicted";
  ASSERT_OK(cache.Get(1, 0, [&] { return Sized(160, &made); }).status());
  EXPECT_EQ(made, 1) << "an old segment outlived newer ones";
}

TEST(SegmentCacheTest, ReadsInProgressCountAgainstTheBudget) {
  SegmentCache cache(1000);
  for (uint64_t key = 0; key < 5; ++key) ASSERT_OK(cache.Get(key, 0, [&] { return Sized(200); }).status());
  EXPECT_EQ(cache.stats().bytes, 1000);
  // While the read of 450 bytes runs, the cache has made room for it.
  ASSERT_OK(cache.Get(9, 450, [&] {
                  EXPECT_LE(cache.live_bytes() + 450, 1000);
                  EXPECT_EQ(cache.stats().entries, 2);
                  return Sized(100);
                }).status());
  const auto stats = cache.stats();
  EXPECT_EQ(stats.evictions, 3);
  EXPECT_EQ(stats.bytes, 500);
}

TEST(SegmentCacheTest, EvictedSegmentsStillHeldCountUntilReleased) {
  SegmentCache cache(500);
  ASSERT_OK_AND_ASSIGN(auto held, cache.Get(1, 0, [&] { return Sized(300); }));
  ASSERT_OK(cache.Get(2, 0, [&] { return Sized(300); }).status());
  // Key 1 went to make room, but the caller still holds its 300 bytes: the cache gave up
  // what it could and counts both.
  EXPECT_EQ(cache.stats().entries, 1);
  EXPECT_EQ(cache.stats().evictions, 1);
  EXPECT_EQ(cache.live_bytes(), 600);
  held.reset();
  EXPECT_EQ(cache.live_bytes(), 300);
}

TEST(SegmentCacheTest, FailedMakesAreNotCached) {
  SegmentCache cache(1000);
  int made = 0;
  const auto failed = cache.Get(1, 100, [&]() -> Result<std::shared_ptr<const Segment>> {
    ++made;
    return Status::IOError("gone");
  });
  EXPECT_TRUE(failed.status().IsIOError());
  ASSERT_OK(cache.Get(1, 100, [&] { return Sized(10, &made); }).status());
  EXPECT_EQ(made, 2);
  EXPECT_EQ(cache.stats().misses, 2);
  EXPECT_EQ(cache.stats().entries, 1);
}

class SegmentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatasetSpec spec;
    spec.rows = 3000;
    ASSERT_OK_AND_ASSIGN(path_, WriteLabeledDataset(dir_.path(), spec));
    image_.time_bins = 4;
    image_.ticks_per_bin = 5;
    image_.features = {features::Feature::kVolume, features::Feature::kVariance, features::Feature::kTradeCounts};
  }

  static bool SameCells(const features::BinAggregates& a, int64_t a_from, const features::BinAggregates& b,
                        int64_t b_from, int64_t bins) {
    for (int64_t bin = 0; bin < bins; ++bin) {
      for (int side = 0; side < 2; ++side) {
        for (int level = 0; level < features::kLevels; ++level) {
          const auto& x = a.at(a_from + bin, side, level);
          const auto& y = b.at(b_from + bin, side, level);
          if (x.price != y.price || x.volume != y.volume || x.variance != y.variance ||
              x.trade_counts != y.trade_counts) {
            return false;
          }
        }
      }
    }
    return true;
  }

  ScopedTempDir dir_{"loader_segments"};
  std::filesystem::path path_;
  features::ImageOptions image_;
};

TEST_F(SegmentsTest, BinSegmentHoldsTheAggregatesAndMidsOfItsRows) {
  ASSERT_OK_AND_ASSIGN(auto all, ReadBook(path_.string(), 0, 3000));
  ASSERT_EQ(all.books.size(), 1u);
  // Bins 100..199 of the grid, from rows read from bin 100's first row on.
  ASSERT_OK_AND_ASSIGN(auto read, ReadBook(path_.string(), 500, 1000));
  const auto segment = MakeBinSegment(read, 100, 100, image_);
  EXPECT_EQ(segment->first, 100);
  ASSERT_EQ(segment->bins.bins(), 100);
  const auto direct = features::Aggregate(all.books[0], 500, 100, image_);
  EXPECT_TRUE(SameCells(segment->bins, 0, direct, 0, 100));
  for (int64_t b = 0; b < 100; ++b) {
    ASSERT_EQ(segment->mids[static_cast<size_t>(b)], features::MidMicroPips(all.books[0], 500 + 5 * b + 4, image_));
  }
  EXPECT_GT(segment->sorted.bytes(), 0);
  EXPECT_EQ(segment->bytes, static_cast<int64_t>(100 * 2 * features::kLevels * sizeof(features::BinCell) + 100 * 8) +
                                segment->sorted.bytes());
}

TEST_F(SegmentsTest, RawSegmentAggregatesLikeItsRows) {
  ASSERT_OK_AND_ASSIGN(auto all, ReadBook(path_.string(), 0, 3000));
  ASSERT_OK_AND_ASSIGN(auto read, ReadBook(path_.string(), 1000, 2000));
  for (const bool want_trades : {true, false}) {
    const auto segment = MakeRawSegment(read, 1000, 1000, image_, want_trades);
    EXPECT_EQ(segment->first, 1000);
    EXPECT_TRUE(segment->book.micro_pip_prices);  // the walk stays well inside an int32 of micro-pips
    EXPECT_EQ(segment->book.rows, 1000);
    // int32 offsets and sizes, counts when rendered, and a mid per row.
    EXPECT_EQ(segment->bytes, 1000 * (features::kLevels * 2 * 4 + features::kLevels * (want_trades ? 4 : 2) * 4 + 8));
    auto options = image_;
    if (!want_trades) options.features = {features::Feature::kVolume, features::Feature::kVariance};
    // Off-grid windows: aggregates from the compact copy equal those from the rows read.
    for (const int64_t from : {int64_t{1000}, int64_t{1003}, int64_t{1777}}) {
      features::BinAggregates cached;
      features::AggregateChunks({&segment->book}, {1000}, from, 40, options, cached);
      const auto direct = features::Aggregate(all.books[0], from, 40, options);
      EXPECT_TRUE(SameCells(cached, 0, direct, 0, 40)) << "from row " << from;
    }
    for (int64_t r = 0; r < 1000; r += 97) {
      EXPECT_EQ(segment->mids[static_cast<size_t>(r)], features::MidMicroPips(all.books[0], 1000 + r, image_));
    }
  }
}

TEST_F(SegmentsTest, SlidingSegmentHoldsTheBinOfEveryStartAndItsMid) {
  ASSERT_OK_AND_ASSIGN(auto all, ReadBook(path_.string(), 0, 3000));
  // Rows 1000..1903 as if a row group: the bins wholly inside start at 1000..1899.
  ASSERT_OK_AND_ASSIGN(auto read, ReadBook(path_.string(), 1000, 1904));
  const auto segment = MakeSlidingSegment(read, 1000, image_);
  ASSERT_TRUE(segment->sliding);
  EXPECT_EQ(segment->first, 1000);
  constexpr size_t kCells = 2 * features::kLevels;
  ASSERT_EQ(segment->slide_cells.size(), 900 * kCells);
  ASSERT_EQ(segment->mids.size(), 900u);
  // Its first and last tpb - 1 rows, raw, for the bins that straddle it and a neighbour.
  ASSERT_TRUE(segment->head && segment->tail);
  EXPECT_EQ(segment->head->first, 1000);
  EXPECT_EQ(segment->head->book.rows, 4);
  EXPECT_EQ(segment->tail->first, 1900);
  EXPECT_EQ(segment->tail->book.rows, 4);
  // 8 bytes a cell, variance and trade counts 4 each, a mid per start, and the edges.
  EXPECT_EQ(segment->bytes,
            900 * (static_cast<int64_t>(kCells) * 16 + 8) + segment->head->bytes + segment->tail->bytes);
  // A bin across the tail and the next rows' head aggregates like the rows.
  ASSERT_OK_AND_ASSIGN(auto after, ReadBook(path_.string(), 1904, 2808));
  const auto next = MakeSlidingSegment(after, 1904, image_);
  for (const int64_t start : {1900, 1901, 1903}) {
    features::BinAggregates across;
    features::AggregateChunks({&segment->tail->book, &next->head->book}, {1900, 1904}, start, 1, image_, across);
    ASSERT_TRUE(SameCells(across, 0, features::Aggregate(all.books[0], start, 1, image_), 0, 1)) << start;
  }
  for (int64_t s = 0; s < 900; s += 7) {
    const auto want = features::Aggregate(all.books[0], 1000 + s, 1, image_);
    features::BinAggregates got;
    got.cells.resize(kCells);
    const size_t at = static_cast<size_t>(s) * kCells;
    features::ExpandSlidingBin(&segment->slide_cells[at], &segment->slide_variance[at], &segment->slide_trades[at],
                               segment->book.micro_pip_base, got.cells.data());
    ASSERT_TRUE(SameCells(got, 0, want, 0, 1)) << "start " << 1000 + s;
    ASSERT_EQ(segment->mids[static_cast<size_t>(s)], features::MidMicroPips(all.books[0], 1000 + s + 4, image_));
  }
}

TEST_F(SegmentsTest, SlidingSegmentOfPricesTooWideForOffsetsHoldsNothing) {
  ASSERT_OK_AND_ASSIGN(auto read, ReadBook(path_.string(), 0, 104));
  // One ask level far above the rest: more micro-pips apart than an int32 holds.
  std::vector<int64_t> wide(read.books[0].ask_px[9], read.books[0].ask_px[9] + 104);
  wide[50] = int64_t{1} << 62;
  read.books[0].ask_px[9] = wide.data();
  const auto segment = MakeSlidingSegment(read, 0, image_);
  EXPECT_FALSE(segment->sliding);  // the render falls back to the raw rows
  EXPECT_TRUE(segment->slide_cells.empty());
  EXPECT_EQ(segment->bytes, 0);
}

}  // namespace
}  // namespace tickforge::loader::internal
