// One side of a price-level book: the levels sorted best first, each with its aggregated size
// and order count. Every book source (MBO, depth streams, LOBSTER) keeps its sides in this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tickforge::book {

enum class Side : uint8_t {
  kBid,  ///< best is the highest price
  kAsk,  ///< best is the lowest price
};

/// One price level: the sum of its orders' sizes and how many orders rest there (0 where the
/// source has no orders, as top-of-book venues and depth streams).
struct Level {
  int64_t price = 0;
  uint64_t size = 0;
  uint32_t count = 0;

  bool operator==(const Level&) const = default;
};

/// The levels of one side in a vector sorted worst to best, so that the best levels, where
/// nearly all updates land, sit at the end: a lookup scans the last few slots before falling
/// back to a binary search, and an insert or erase moves only the levels better than it. A
/// std::map costs a node allocation per new level and a pointer chase per step; measured in
/// book/price_levels_benchmark.cc on the ESH4 MBO day. Memory is kept across Clear(), so the
/// steady state allocates nothing.
class PriceLevels {
 public:
  explicit PriceLevels(Side side) : side_(side) {}

  [[nodiscard]] Side side() const { return side_; }
  [[nodiscard]] size_t size() const { return slots_.size(); }
  [[nodiscard]] bool empty() const { return slots_.empty(); }

  /// Return the level `i` places behind the best (0 is the best); `i` < size().
  [[nodiscard]] Level operator[](size_t i) const {
    const Slot& s = slots_[slots_.size() - 1 - i];
    return Level{PriceOf(s.key), s.size, s.count};
  }

  /// Return the level at `price`, or a level of size 0 and count 0 when there is none.
  [[nodiscard]] Level At(int64_t price) const;

  /// Add `size` and `count` to the level at `price`, creating it if needed.
  void Add(int64_t price, uint64_t size, uint32_t count);

  /// Take `size` and `count` off the level at `price`, removing it once both are 0 (a level
  /// keeps an order modified to size 0, as Databento's book does). Return false, changing
  /// nothing, when the level does not exist or would go below zero.
  [[nodiscard]] bool Subtract(int64_t price, uint64_t size, uint32_t count);

  /// Set the level at `price` to exactly `size` and `count`; size 0 removes it (depth streams'
  /// "quantity 0 deletes the level").
  void Set(int64_t price, uint64_t size, uint32_t count);

  /// Return how many levels are better than `price` (the depth an update at `price` has).
  [[nodiscard]] size_t CountBetter(int64_t price) const;

  /// Remove every level, keeping the memory.
  void Clear() { slots_.clear(); }

 private:
  // Levels are kept by a key that grows toward the best: the price for bids, its bitwise
  // complement for asks (order-reversing over all of int64, without negation's overflow).
  struct Slot {
    int64_t key;
    uint64_t size;
    uint32_t count;
  };

  [[nodiscard]] int64_t KeyOf(int64_t price) const { return side_ == Side::kBid ? price : ~price; }
  [[nodiscard]] int64_t PriceOf(int64_t key) const { return side_ == Side::kBid ? key : ~key; }
  // Return the index of the first slot whose key is >= key.
  [[nodiscard]] size_t LowerBound(int64_t key) const;

  // Slots scanned from the best end before a binary search: nearly every MBO update lands in
  // the first few levels.
  static constexpr size_t kLinearScan = 8;

  Side side_;
  std::vector<Slot> slots_;
};

// The members every book update calls are defined here so they inline into the replay loop.

inline size_t PriceLevels::LowerBound(int64_t key) const {
  const size_t n = slots_.size();
  size_t i = n;
  const size_t stop = n > kLinearScan ? n - kLinearScan : 0;
  while (i > stop && slots_[i - 1].key >= key) --i;
  if (i > stop || stop == 0) return i;
  // Every scanned slot is >= key: the answer lies below the scanned tail.
  size_t lo = 0, hi = stop;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (slots_[mid].key < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

inline void PriceLevels::Add(int64_t price, uint64_t size, uint32_t count) {
  const int64_t key = KeyOf(price);
  const size_t i = LowerBound(key);
  if (i < slots_.size() && slots_[i].key == key) {
    slots_[i].size += size;
    slots_[i].count += count;
    return;
  }
  slots_.insert(slots_.begin() + static_cast<std::ptrdiff_t>(i), Slot{key, size, count});
}

inline bool PriceLevels::Subtract(int64_t price, uint64_t size, uint32_t count) {
  const int64_t key = KeyOf(price);
  const size_t i = LowerBound(key);
  if (i == slots_.size() || slots_[i].key != key) return false;
  Slot& s = slots_[i];
  if (s.size < size || s.count < count) return false;
  s.size -= size;
  s.count -= count;
  if (s.size == 0 && s.count == 0) slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(i));
  return true;
}

}  // namespace tickforge::book
