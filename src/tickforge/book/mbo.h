// Databento MBO records applied to price-level books, with the semantics of Databento's
// "limit order book" example:
//   Add     a new order joins its level; on an F_TOB (top-of-book) venue it replaces that
//           side's only level instead, and an undefined price leaves the side empty;
//   Cancel  takes the record's size off the order, removing it at 0;
//   Modify  sets the order's price and size (a new price moves it to that level); an unknown
//           order id is applied as an Add;
//   Clear   (R) empties the book;
//   Trade, Fill, None: no change (fills come with the cancels that change the book).
// F_SNAPSHOT records rebuild the book: the first of a run empties it. A row is due after each
// record with F_LAST (the last record of an event for its instrument); see mbo_reader.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "tickforge/book/anomaly.h"
#include "tickforge/book/book.h"
#include "tickforge/book/order_map.h"
#include "tickforge/dbn/records.h"

namespace tickforge::book {

/// The books of one MBO stream, one per (instrument_id, publisher_id), and their orders.
class MboBooks {
 public:
  /// What one record did: the book it went to and the first anomaly it raised (kNone mostly).
  struct Applied {
    uint32_t book;
    Anomaly anomaly;
  };

  /// Apply one MBO record to its book (created on first sight). Anomalies are counted in
  /// anomalies() and never stop the replay: each is handled as its comment in anomaly.h says.
  Applied Apply(const dbn::MboMsg& msg);

  /// Return book `index` (as Applied::book names it); valid until the next Apply.
  [[nodiscard]] const Book& book(uint32_t index) const { return books_[index]; }
  [[nodiscard]] size_t book_count() const { return books_.size(); }
  [[nodiscard]] const AnomalyCounts& anomalies() const { return anomalies_; }
  /// Return the number of resting orders over every book.
  [[nodiscard]] size_t live_orders() const { return orders_.size(); }

 private:
  // Per book: what the replay needs besides the levels.
  struct State {
    uint32_t last_sequence = 0;
    bool has_sequence = false;
    bool in_snapshot = false;
    uint32_t live_orders = 0;
  };

  uint32_t BookOf(uint32_t instrument_id, uint16_t publisher_id);
  void Add(uint32_t b, const dbn::MboMsg& msg, Side side, Anomaly& first);
  void Cancel(uint32_t b, const dbn::MboMsg& msg, Anomaly& first);
  void Modify(uint32_t b, const dbn::MboMsg& msg, Side side, Anomaly& first);
  void RemoveOrder(uint32_t b, Order* order);
  void ClearBook(uint32_t b);
  void Note(Anomaly anomaly, Anomaly& first);

  std::vector<Book> books_;
  std::vector<State> states_;
  std::unordered_map<uint64_t, uint32_t> index_;  // (instrument_id << 16 | publisher_id) -> book
  uint64_t last_key_ = UINT64_MAX;                // consecutive records mostly share a book
  uint32_t last_book_ = 0;
  OrderMap orders_;
  AnomalyCounts anomalies_;
};

}  // namespace tickforge::book
