#include "tickforge/book/price_levels.h"

#include <algorithm>

namespace tickforge::book {
namespace {

// Slots scanned from the best end before a binary search; nearly every MBO update lands in
// the first few levels (measured on ESH4: see price_levels_benchmark.cc).
constexpr size_t kLinearScan = 8;

}  // namespace

size_t PriceLevels::LowerBound(int64_t key) const {
  const size_t n = slots_.size();
  size_t i = n;
  const size_t stop = n > kLinearScan ? n - kLinearScan : 0;
  while (i > stop && slots_[i - 1].key >= key) --i;
  if (i > stop || stop == 0) return i;
  // Every scanned slot is >= key: the answer lies below the scanned tail.
  auto it = std::lower_bound(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(stop), key,
                             [](const Slot& s, int64_t k) { return s.key < k; });
  return static_cast<size_t>(it - slots_.begin());
}

Level PriceLevels::At(int64_t price) const {
  const int64_t key = KeyOf(price);
  const size_t i = LowerBound(key);
  if (i < slots_.size() && slots_[i].key == key) return Level{price, slots_[i].size, slots_[i].count};
  return Level{price, 0, 0};
}

void PriceLevels::Add(int64_t price, uint64_t size, uint32_t count) {
  const int64_t key = KeyOf(price);
  const size_t i = LowerBound(key);
  if (i < slots_.size() && slots_[i].key == key) {
    slots_[i].size += size;
    slots_[i].count += count;
    return;
  }
  slots_.insert(slots_.begin() + static_cast<std::ptrdiff_t>(i), Slot{key, size, count});
}

bool PriceLevels::Subtract(int64_t price, uint64_t size, uint32_t count) {
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

void PriceLevels::Set(int64_t price, uint64_t size, uint32_t count) {
  const int64_t key = KeyOf(price);
  const size_t i = LowerBound(key);
  const bool found = i < slots_.size() && slots_[i].key == key;
  if (size == 0 && count == 0) {
    if (found) slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(i));
  } else if (found) {
    slots_[i].size = size;
    slots_[i].count = count;
  } else {
    slots_.insert(slots_.begin() + static_cast<std::ptrdiff_t>(i), Slot{key, size, count});
  }
}

size_t PriceLevels::CountBetter(int64_t price) const {
  const int64_t key = KeyOf(price);
  const size_t i = LowerBound(key);
  // Slots from i on have keys >= key; those equal to it are the price's own level.
  const bool found = i < slots_.size() && slots_[i].key == key;
  return slots_.size() - i - (found ? 1 : 0);
}

}  // namespace tickforge::book
