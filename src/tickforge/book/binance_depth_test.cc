#include "tickforge/book/binance_depth.h"

#include <gtest/gtest.h>

namespace tickforge::book {
namespace {

using V = BinanceSync::Verdict;

BinanceIds Futures(uint64_t first, uint64_t last, uint64_t prev) { return {first, last, prev}; }
BinanceIds Spot(uint64_t first, uint64_t last) { return {first, last, std::nullopt}; }

TEST(BinanceSyncTest, FuturesFollowTheDocumentedRules) {
  BinanceSync sync;
  EXPECT_EQ(sync.Check(Futures(90, 95, 89)), V::kWait);  // no snapshot yet
  ASSERT_TRUE(sync.Snapshot(100));
  EXPECT_EQ(sync.Check(Futures(90, 99, 89)), V::kStale);    // u < lastUpdateId
  EXPECT_EQ(sync.Check(Futures(99, 100, 99)), V::kApply);   // U <= 100 <= u
  EXPECT_EQ(sync.Check(Futures(105, 110, 100)), V::kApply); // pu == previous u
  EXPECT_EQ(sync.Check(Futures(115, 120, 111)), V::kGap);   // pu != 110
  EXPECT_EQ(sync.last_gap().expected, 110u);
  EXPECT_EQ(sync.last_gap().got, 111u);
  EXPECT_FALSE(sync.synced());
  EXPECT_EQ(sync.Check(Futures(121, 125, 120)), V::kWait);  // invalid until a snapshot
  ASSERT_TRUE(sync.Snapshot(122));
  EXPECT_EQ(sync.Check(Futures(121, 125, 120)), V::kApply);
}

TEST(BinanceSyncTest, SpotNeedsUToFollowThePreviousU) {
  BinanceSync sync;
  ASSERT_TRUE(sync.Snapshot(100));
  EXPECT_EQ(sync.Check(Spot(95, 100)), V::kStale);   // u <= lastUpdateId
  EXPECT_EQ(sync.Check(Spot(101, 104)), V::kApply);  // U <= 101 <= u
  EXPECT_EQ(sync.Check(Spot(105, 105)), V::kApply);
  EXPECT_EQ(sync.Check(Spot(107, 109)), V::kGap);    // 106 is missing
  EXPECT_EQ(sync.last_gap().expected, 106u);
}

TEST(BinanceSyncTest, TheFirstEventMustStraddleTheSnapshot) {
  BinanceSync futures;
  ASSERT_TRUE(futures.Snapshot(100));
  EXPECT_EQ(futures.Check(Futures(101, 105, 100)), V::kGap);  // U > lastUpdateId: 100 itself was missed
  BinanceSync spot;
  ASSERT_TRUE(spot.Snapshot(100));
  EXPECT_EQ(spot.Check(Spot(102, 105)), V::kGap);
}

TEST(BinanceSyncTest, AnOlderSnapshotThanTheLiveBookIsIgnored) {
  BinanceSync sync;
  ASSERT_TRUE(sync.Snapshot(100));
  ASSERT_EQ(sync.Check(Futures(99, 120, 98)), V::kApply);
  EXPECT_FALSE(sync.Snapshot(110));
  EXPECT_EQ(sync.Check(Futures(121, 130, 120)), V::kApply);
  EXPECT_TRUE(sync.Snapshot(140));  // newer: the book restarts from it
  EXPECT_EQ(sync.Check(Futures(131, 135, 130)), V::kStale);
}

}  // namespace
}  // namespace tickforge::book
