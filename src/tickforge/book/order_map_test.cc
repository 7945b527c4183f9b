#include "tickforge/book/order_map.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>

#include "tickforge/util/random.h"

namespace tickforge::book {
namespace {

TEST(OrderMapTest, FindsByIdAndBook) {
  OrderMap orders;
  orders.Insert(7, 0, Side::kBid, 100, 3);
  orders.Insert(7, 1, Side::kAsk, 200, 4);  // the same id in another book is another order
  ASSERT_NE(orders.Find(7, 0), nullptr);
  EXPECT_EQ(orders.Find(7, 0)->price, 100);
  EXPECT_EQ(orders.Find(7, 0)->side(), Side::kBid);
  EXPECT_EQ(orders.Find(7, 1)->price, 200);
  EXPECT_EQ(orders.Find(7, 1)->side(), Side::kAsk);
  EXPECT_EQ(orders.Find(7, 1)->book(), 1u);
  EXPECT_EQ(orders.Find(8, 0), nullptr);
  orders.Erase(orders.Find(7, 0));
  EXPECT_EQ(orders.Find(7, 0), nullptr);
  EXPECT_NE(orders.Find(7, 1), nullptr);
  EXPECT_EQ(orders.size(), 1u);
}

TEST(OrderMapTest, EraseBookRemovesOnlyThatBook) {
  OrderMap orders;
  for (uint64_t id = 0; id < 3000; ++id) orders.Insert(id, static_cast<uint32_t>(id % 3), Side::kBid, 1, 1);
  orders.EraseBook(1);
  EXPECT_EQ(orders.size(), 2000u);
  for (uint64_t id = 0; id < 3000; ++id) {
    EXPECT_EQ(orders.Find(id, static_cast<uint32_t>(id % 3)) != nullptr, id % 3 != 1) << id;
  }
}

// Inserts and erases at random, through several growths and dense probe runs (sequential ids,
// as venues assign them), against std::map.
TEST(OrderMapTest, MatchesAStdMapUnderRandomUpdates) {
  OrderMap orders;
  std::map<std::pair<uint64_t, uint32_t>, int64_t> model;
  Rng rng(11);
  uint64_t next_id = 6'412'777'000'000;
  for (int step = 0; step < 200000; ++step) {
    const auto book = static_cast<uint32_t>(rng.Below(4));
    if (rng.Below(100) < 55 || model.empty()) {
      const uint64_t id = next_id++;
      const auto price = static_cast<int64_t>(rng.Next() >> 1);
      orders.Insert(id, book, Side::kAsk, price, 1);
      model[{id, book}] = price;
    } else {
      // Erase a random live order: pick near a random id.
      auto it = model.lower_bound({next_id - 1 - rng.Below(next_id - 6'412'777'000'000), 0});
      if (it == model.end()) it = model.begin();
      Order* found = orders.Find(it->first.first, it->first.second);
      ASSERT_NE(found, nullptr);
      ASSERT_EQ(found->price, it->second);
      orders.Erase(found);
      model.erase(it);
    }
    if (step % 5000 == 0) {
      ASSERT_EQ(orders.size(), model.size());
      for (const auto& [key, price] : model) {
        Order* found = orders.Find(key.first, key.second);
        ASSERT_NE(found, nullptr) << key.first;
        ASSERT_EQ(found->price, price);
      }
    }
  }
}

TEST(OrderMapTest, MemoryFollowsThePeakOfLiveOrders) {
  // A day's churn through a bounded live set never grows the table past the peak's needs.
  OrderMap orders;
  constexpr uint64_t kLive = 10000;
  uint64_t id = 0;
  size_t capacity = 0;
  for (int round = 0; round < 50; ++round) {
    for (uint64_t i = 0; i < kLive; ++i) orders.Insert(id + i, 0, Side::kBid, 1, 1);
    for (uint64_t i = 0; i < kLive; ++i) orders.Erase(orders.Find(id + i, 0));
    id += kLive;
    if (round == 0) capacity = orders.capacity();
    ASSERT_EQ(orders.capacity(), capacity);
    ASSERT_EQ(orders.size(), 0u);
  }
  EXPECT_LT(capacity, 4 * kLive);
}

}  // namespace
}  // namespace tickforge::book
