#include "tickforge/book/mbo.h"

#include <gtest/gtest.h>

#include <vector>

#include "tickforge/book/test_common.h"

namespace tickforge::book {
namespace {

using dbn::flag::kLast;
using dbn::flag::kSnapshot;
using dbn::flag::kTob;

// Apply the records in order; return the anomaly each raised.
std::vector<Anomaly> Apply(MboBooks& books, const std::vector<Mbo>& records) {
  std::vector<Anomaly> out;
  for (const auto& r : records) out.push_back(books.Apply(r.Record()).anomaly);
  return out;
}

constexpr int64_t P2 = kMid + 2 * kTick;

TEST(MboBooksTest, AddsAggregateIntoSortedLevels) {
  MboBooks books;
  Apply(books, {{'A', 'B', P0, 2, 1}, {'A', 'B', M1, 3, 2}, {'A', 'B', P0, 4, 3},
                {'A', 'A', P2, 5, 4}, {'A', 'A', P1, 6, 5}});
  const Book& b = books.book(0);
  EXPECT_EQ(Levels(b.bids), (std::vector<Level>{{P0, 6, 2}, {M1, 3, 1}}));
  EXPECT_EQ(Levels(b.asks), (std::vector<Level>{{P1, 6, 1}, {P2, 5, 1}}));
  EXPECT_EQ(books.live_orders(), 5u);
  EXPECT_EQ(books.anomalies().total(), 0);
}

TEST(MboBooksTest, CancelReducesThenRemoves) {
  MboBooks books;
  Apply(books, {{'A', 'B', P0, 5, 1}, {'A', 'B', P0, 2, 2}, {'C', 'B', P0, 3, 1}});
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{P0, 4, 2}}));  // partial: the order stays
  Apply(books, {{'C', 'B', P0, 2, 1}});
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{P0, 2, 1}}));  // full: it goes
  Apply(books, {{'C', 'B', P0, 2, 2}});
  EXPECT_TRUE(books.book(0).bids.empty());
  EXPECT_EQ(books.live_orders(), 0u);
  EXPECT_EQ(books.anomalies().total(), 0);
}

TEST(MboBooksTest, CancelOfAnUnknownIdIsCountedAndIgnored) {
  MboBooks books;
  const auto anomalies = Apply(books, {{'A', 'B', P0, 5, 1}, {'C', 'B', P0, 5, 99}});
  EXPECT_EQ(anomalies[1], Anomaly::kUnknownCancel);
  EXPECT_EQ(books.anomalies()[Anomaly::kUnknownCancel], 1);
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{P0, 5, 1}}));
}

TEST(MboBooksTest, CancelOfMoreThanTheOrderHoldsRemovesIt) {
  MboBooks books;
  const auto anomalies = Apply(books, {{'A', 'A', P1, 5, 1}, {'A', 'A', P1, 1, 2}, {'C', 'A', P1, 9, 1}});
  EXPECT_EQ(anomalies[2], Anomaly::kNegativeLevel);
  // The level never goes negative: the order's 5 leave, the other order's 1 stays.
  EXPECT_EQ(Levels(books.book(0).asks), (std::vector<Level>{{P1, 1, 1}}));
}

TEST(MboBooksTest, ModifyToANewPriceMovesTheOrder) {
  MboBooks books;
  Apply(books, {{'A', 'B', M1, 5, 1}, {'A', 'B', M1, 1, 2}, {'M', 'B', P0, 4, 1}});
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{P0, 4, 1}, {M1, 1, 1}}));
  Apply(books, {{'M', 'B', M1, 4, 1}});  // back again, joining the other order
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{M1, 5, 2}}));
  // Its only order moving away removes the old level.
  Apply(books, {{'M', 'B', P0, 1, 2}, {'M', 'B', P0, 4, 1}});
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{P0, 5, 2}}));
  EXPECT_EQ(books.anomalies().total(), 0);
}

TEST(MboBooksTest, ModifySizeUpAndDownKeepsTheLevel) {
  MboBooks books;
  Apply(books, {{'A', 'A', P1, 5, 1}, {'A', 'A', P1, 2, 2}});
  Apply(books, {{'M', 'A', P1, 9, 1}});
  EXPECT_EQ(Levels(books.book(0).asks), (std::vector<Level>{{P1, 11, 2}}));
  Apply(books, {{'M', 'A', P1, 1, 1}});
  EXPECT_EQ(Levels(books.book(0).asks), (std::vector<Level>{{P1, 3, 2}}));
  // Size 0 keeps the order (and its count), as Databento's example does.
  Apply(books, {{'M', 'A', P1, 0, 2}});
  EXPECT_EQ(Levels(books.book(0).asks), (std::vector<Level>{{P1, 1, 2}}));
  EXPECT_EQ(books.anomalies().total(), 0);
}

TEST(MboBooksTest, ModifyOfAnUnknownIdIsAnAdd) {
  MboBooks books;
  const auto anomalies = Apply(books, {{'M', 'B', P0, 3, 42}, {'C', 'B', P0, 3, 42}});
  EXPECT_EQ(anomalies[0], Anomaly::kUnknownModify);
  EXPECT_EQ(anomalies[1], Anomaly::kNone);  // the added order is known from then on
  EXPECT_TRUE(books.book(0).bids.empty());
}

TEST(MboBooksTest, ModifyToTheOtherSideMovesTheOrder) {
  MboBooks books;
  const auto anomalies = Apply(books, {{'A', 'B', P0, 3, 1}, {'M', 'A', P1, 2, 1}});
  EXPECT_EQ(anomalies[1], Anomaly::kSideChange);
  EXPECT_TRUE(books.book(0).bids.empty());
  EXPECT_EQ(Levels(books.book(0).asks), (std::vector<Level>{{P1, 2, 1}}));
}

TEST(MboBooksTest, AddOfAKnownIdReplacesTheOrder) {
  MboBooks books;
  const auto anomalies = Apply(books, {{'A', 'B', P0, 3, 1}, {'A', 'B', M1, 2, 1}});
  EXPECT_EQ(anomalies[1], Anomaly::kDuplicateAdd);
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{M1, 2, 1}}));
  EXPECT_EQ(books.live_orders(), 1u);
}

TEST(MboBooksTest, ClearEmptiesOnlyItsBook) {
  MboBooks books;
  Mbo other{'A', 'B', P0, 7, 1};
  other.instrument_id = 5;
  Apply(books, {{'A', 'B', P0, 3, 1}, {'A', 'A', P1, 3, 2}, other});
  Mbo clear{'R', 'N', dbn::kUndefPrice, 0, 0};
  Apply(books, {clear});
  EXPECT_TRUE(books.book(0).bids.empty());
  EXPECT_TRUE(books.book(0).asks.empty());
  EXPECT_EQ(Levels(books.book(1).bids), (std::vector<Level>{{P0, 7, 1}}));
  EXPECT_EQ(books.live_orders(), 1u);
  // The cleared orders are gone: cancelling one is an unknown id.
  EXPECT_EQ(Apply(books, {{'C', 'B', P0, 3, 1}})[0], Anomaly::kUnknownCancel);
}

TEST(MboBooksTest, TradesFillsAndNoneLeaveTheBook) {
  MboBooks books;
  Apply(books, {{'A', 'B', P0, 3, 1}, {'T', 'A', P0, 1, 0}, {'F', 'B', P0, 1, 1}, {'N', 'N', dbn::kUndefPrice, 0, 0}});
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{P0, 3, 1}}));
  EXPECT_EQ(books.anomalies().total(), 0);
}

TEST(MboBooksTest, TopOfBookVenueAddsReplaceTheSide) {
  MboBooks books;
  const uint8_t tob = kTob | kLast;
  Apply(books, {{'A', 'B', M1, 5, 0, tob}, {'A', 'B', P0, 7, 0, tob}, {'A', 'A', P2, 2, 0, tob}});
  // One level per side, without an order count: the venue reports no orders.
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{P0, 7, 0}}));
  EXPECT_EQ(Levels(books.book(0).asks), (std::vector<Level>{{P2, 2, 0}}));
  EXPECT_EQ(books.live_orders(), 0u);
  // An undefined price: that side has no depth.
  Apply(books, {{'A', 'A', dbn::kUndefPrice, 0, 0, tob}});
  EXPECT_TRUE(books.book(0).asks.empty());
  EXPECT_EQ(books.book(0).bids.size(), 1u);
  // A modify restates the side the same way and is no anomaly there.
  Apply(books, {{'M', 'B', P1, 1, 0, tob}});
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{P1, 1, 0}}));
  EXPECT_EQ(books.anomalies().total(), 0);
}

TEST(MboBooksTest, EachPublisherHasItsOwnBook) {
  MboBooks books;
  Mbo a{'A', 'B', P0, 3, 1}, b{'A', 'B', M1, 4, 1};
  b.publisher_id = 2;  // the same order id at another venue
  Mbo cancel_b{'C', 'B', M1, 4, 1};
  cancel_b.publisher_id = 2;
  Apply(books, {a, b});
  ASSERT_EQ(books.book_count(), 2u);
  EXPECT_EQ(books.book(0).publisher_id, 1);
  EXPECT_EQ(books.book(1).publisher_id, 2);
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{P0, 3, 1}}));
  EXPECT_EQ(Levels(books.book(1).bids), (std::vector<Level>{{M1, 4, 1}}));
  Apply(books, {cancel_b});
  EXPECT_TRUE(books.book(1).bids.empty());
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{P0, 3, 1}}));
  EXPECT_EQ(books.anomalies().total(), 0);
}

TEST(MboBooksTest, ASnapshotRebuildsTheBook) {
  MboBooks books;
  Apply(books, {{'A', 'B', P0, 3, 1, kLast, 100}, {'A', 'A', P1, 3, 2, kLast, 101}});
  // The snapshot's records carry each order's own (older) sequence and restate order 1.
  Apply(books, {{'A', 'B', M1, 2, 1, kSnapshot, 50}, {'A', 'A', P2, 1, 3, kSnapshot, 20},
                {'A', 'A', P2, 1, 4, kSnapshot | kLast, 60}});
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{M1, 2, 1}}));
  EXPECT_EQ(Levels(books.book(0).asks), (std::vector<Level>{{P2, 2, 2}}));
  EXPECT_EQ(books.live_orders(), 3u);
  // Live records after it are checked against each other again, not against the old 101.
  Apply(books, {{'C', 'A', P2, 1, 3, kLast, 70}});
  EXPECT_EQ(books.anomalies().total(), 0);
}

TEST(MboBooksTest, SequenceGoingBackwardsIsCountedButApplied) {
  MboBooks books;
  const auto anomalies = Apply(books, {{'A', 'B', P0, 3, 1, kLast, 10}, {'A', 'B', P0, 3, 2, 0, 10},
                                       {'A', 'B', P0, 3, 3, kLast, 9}, {'A', 'B', P0, 3, 4, kLast, 11}});
  EXPECT_EQ(anomalies, (std::vector<Anomaly>{Anomaly::kNone, Anomaly::kNone, Anomaly::kSequenceBackwards,
                                             Anomaly::kNone}));
  EXPECT_EQ(Levels(books.book(0).bids), (std::vector<Level>{{P0, 12, 4}}));
}

TEST(MboBooksTest, RecordsWithoutASideOrWithAnUnknownActionAreIgnored) {
  MboBooks books;
  const auto anomalies = Apply(books, {{'A', 'N', P0, 3, 1}, {'M', 'N', P0, 3, 1}, {'X', 'B', P0, 3, 1}});
  EXPECT_EQ(anomalies, (std::vector<Anomaly>{Anomaly::kNoSide, Anomaly::kNoSide, Anomaly::kUnknownAction}));
  EXPECT_TRUE(books.book(0).bids.empty());
  EXPECT_EQ(books.anomalies().total(), 3);
}

TEST(MboBooksTest, ARecordReportsItsFirstAnomaly) {
  MboBooks books;
  // Both a backwards sequence and an unknown id: the first found is returned, both counted.
  const auto anomalies = Apply(books, {{'A', 'B', P0, 3, 1, kLast, 10}, {'C', 'B', P0, 3, 9, kLast, 5}});
  EXPECT_EQ(anomalies[1], Anomaly::kSequenceBackwards);
  EXPECT_EQ(books.anomalies()[Anomaly::kUnknownCancel], 1);
  EXPECT_EQ(books.anomalies()[Anomaly::kSequenceBackwards], 1);
}

}  // namespace
}  // namespace tickforge::book
