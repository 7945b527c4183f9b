#include "tickforge/book/price_levels.h"

namespace tickforge::book {

Level PriceLevels::At(int64_t price) const {
  const int64_t key = KeyOf(price);
  const size_t i = LowerBound(key);
  if (i < slots_.size() && slots_[i].key == key) return Level{price, slots_[i].size, slots_[i].count};
  return Level{price, 0, 0};
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
