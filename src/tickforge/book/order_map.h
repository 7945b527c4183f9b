// The resting orders of an MBO stream: order id and book to price, size and side, in one
// open-addressing table shared by every book of the stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tickforge/book/price_levels.h"
#include "tickforge/util/random.h"

namespace tickforge::book {

/// One resting order as the book needs it: its level and size (priority within a level does
/// not change aggregated levels, so it is not kept).
struct Order {
  uint64_t id;
  int64_t price;
  uint32_t size;
  uint32_t book_side;  ///< book index * 2, plus 1 on the ask side

  [[nodiscard]] uint32_t book() const { return book_side >> 1; }
  [[nodiscard]] Side side() const { return (book_side & 1) != 0 ? Side::kAsk : Side::kBid; }
};
static_assert(sizeof(Order) == 24);

/// A hash table of orders keyed by (order id, book index): linear probing in one flat array
/// with backward-shift deletion, so neither an insert nor an erase allocates once the table has
/// grown to the stream's peak of live orders, and memory follows that peak, not the file size
/// (std::unordered_map allocates a node per order).
class OrderMap {
 public:
  OrderMap();

  [[nodiscard]] size_t size() const { return size_; }
  /// Return the number of slots (a power of two, at most twice the peak size), 24 bytes each.
  [[nodiscard]] size_t capacity() const { return slots_.size(); }

  /// Return the order, or nullptr. The pointer is valid until the next Insert or Erase.
  [[nodiscard]] Order* Find(uint64_t id, uint32_t book);
  /// Insert an order that Find does not return; `book` < 2^31.
  void Insert(uint64_t id, uint32_t book, Side side, int64_t price, uint32_t size);
  /// Remove the order Find returned.
  void Erase(Order* order) { EraseAt(static_cast<size_t>(order - slots_.data())); }
  /// Remove every order of `book` (a scan of the whole table, for the rare Clear of a
  /// non-empty book).
  void EraseBook(uint32_t book);

 private:
  static constexpr uint32_t kFree = UINT32_MAX;  // book_side of an empty slot

  [[nodiscard]] size_t Home(uint64_t id, uint32_t book) const;
  void EraseAt(size_t i);
  void Grow();

  std::vector<Order> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// Find runs for nearly every record, so it is defined here to inline into the replay loop.

inline size_t OrderMap::Home(uint64_t id, uint32_t book) const {
  // Venues hand out ids in sequence; SplitMix64 spreads them over the table.
  return static_cast<size_t>(SplitMix64(id ^ (uint64_t{book} << 40))) & mask_;
}

inline Order* OrderMap::Find(uint64_t id, uint32_t book) {
  for (size_t i = Home(id, book);; i = (i + 1) & mask_) {
    Order& s = slots_[i];
    if (s.book_side == kFree) return nullptr;
    if (s.id == id && s.book() == book) return &s;
  }
}

}  // namespace tickforge::book
