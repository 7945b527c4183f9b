#include "tickforge/book/price_levels.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <map>

#include "tickforge/book/test_common.h"
#include "tickforge/util/random.h"

namespace tickforge::book {
namespace {

TEST(PriceLevelsTest, BidsDescendAsksAscend) {
  PriceLevels bids(Side::kBid), asks(Side::kAsk);
  for (int64_t p : {100, 102, 101, 99}) {
    bids.Add(p, 1, 1);
    asks.Add(p, 2, 1);
  }
  EXPECT_EQ(Levels(bids), (std::vector<Level>{{102, 1, 1}, {101, 1, 1}, {100, 1, 1}, {99, 1, 1}}));
  EXPECT_EQ(Levels(asks), (std::vector<Level>{{99, 2, 1}, {100, 2, 1}, {101, 2, 1}, {102, 2, 1}}));
}

TEST(PriceLevelsTest, AddAggregatesAndSubtractRemovesAtZero) {
  PriceLevels bids(Side::kBid);
  bids.Add(100, 3, 1);
  bids.Add(100, 4, 1);
  EXPECT_EQ(bids.At(100), (Level{100, 7, 2}));
  EXPECT_TRUE(bids.Subtract(100, 3, 1));
  EXPECT_EQ(bids.At(100), (Level{100, 4, 1}));
  // An order modified to size 0 keeps its level, as in Databento's book.
  EXPECT_TRUE(bids.Subtract(100, 4, 0));
  EXPECT_EQ(bids.size(), 1u);
  EXPECT_TRUE(bids.Subtract(100, 0, 1));
  EXPECT_TRUE(bids.empty());
  EXPECT_EQ(bids.At(100), (Level{100, 0, 0}));
}

TEST(PriceLevelsTest, SubtractRefusesToGoNegative) {
  PriceLevels asks(Side::kAsk);
  asks.Add(100, 3, 1);
  EXPECT_FALSE(asks.Subtract(100, 4, 1));
  EXPECT_FALSE(asks.Subtract(100, 1, 2));
  EXPECT_FALSE(asks.Subtract(101, 1, 1));
  EXPECT_EQ(asks.At(100), (Level{100, 3, 1}));
}

TEST(PriceLevelsTest, SetReplacesAndZeroDeletes) {
  PriceLevels asks(Side::kAsk);
  asks.Set(100, 5, 0);
  asks.Set(100, 2, 0);
  asks.Set(101, 1, 0);
  EXPECT_EQ(Levels(asks), (std::vector<Level>{{100, 2, 0}, {101, 1, 0}}));
  asks.Set(100, 0, 0);
  asks.Set(105, 0, 0);  // deleting an absent level is a no-op
  EXPECT_EQ(Levels(asks), (std::vector<Level>{{101, 1, 0}}));
}

TEST(PriceLevelsTest, CountBetterIsTheDepthOfAPrice) {
  PriceLevels bids(Side::kBid), asks(Side::kAsk);
  for (int64_t p = 0; p < 30; ++p) {
    bids.Add(p * 10, 1, 1);
    asks.Add(p * 10, 1, 1);
  }
  EXPECT_EQ(bids.CountBetter(290), 0u);
  EXPECT_EQ(bids.CountBetter(285), 1u);  // between levels: the better ones only
  EXPECT_EQ(bids.CountBetter(0), 29u);
  EXPECT_EQ(bids.CountBetter(-5), 30u);
  EXPECT_EQ(asks.CountBetter(0), 0u);
  EXPECT_EQ(asks.CountBetter(200), 20u);
  EXPECT_EQ(asks.CountBetter(1000), 30u);
}

TEST(PriceLevelsTest, ExtremePricesOrderCorrectly) {
  // Asks are kept by the complement of the price: no overflow at either end of int64.
  PriceLevels asks(Side::kAsk), bids(Side::kBid);
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  for (int64_t p : {hi, int64_t{0}, lo, int64_t{-1}}) {
    asks.Add(p, 1, 1);
    bids.Add(p, 1, 1);
  }
  EXPECT_EQ(asks[0].price, lo);
  EXPECT_EQ(asks[3].price, hi);
  EXPECT_EQ(bids[0].price, hi);
  EXPECT_EQ(bids[3].price, lo);
}

// A random walk of adds and removes, deep enough to use both the scan and the binary search,
// against std::map.
TEST(PriceLevelsTest, MatchesAStdMapUnderRandomUpdates) {
  for (Side side : {Side::kBid, Side::kAsk}) {
    PriceLevels levels(side);
    std::map<int64_t, std::pair<uint64_t, uint32_t>> model;
    Rng rng(side == Side::kBid ? 1 : 2);
    for (int step = 0; step < 20000; ++step) {
      const int64_t price = static_cast<int64_t>(rng.Below(200)) - 100;
      const uint64_t size = rng.Below(5) + 1;
      auto it = model.find(price);
      if (rng.Below(3) != 0 || it == model.end()) {
        levels.Add(price, size, 1);
        auto& [s, c] = model[price];
        s += size;
        c += 1;
      } else {
        auto& [s, c] = it->second;
        const uint64_t take = std::min(s, size);
        const uint32_t orders = c > 0 ? 1 : 0;
        ASSERT_TRUE(levels.Subtract(price, take, orders));
        s -= take;
        c -= orders;
        if (s == 0 && c == 0) model.erase(it);
      }
      if (step % 97 == 0) {
        std::vector<Level> expected;
        if (side == Side::kBid) {
          for (auto r = model.rbegin(); r != model.rend(); ++r) expected.push_back({r->first, r->second.first, r->second.second});
        } else {
          for (const auto& [p, v] : model) expected.push_back({p, v.first, v.second});
        }
        ASSERT_EQ(Levels(levels), expected) << "step " << step;
      }
    }
  }
}

}  // namespace
}  // namespace tickforge::book
