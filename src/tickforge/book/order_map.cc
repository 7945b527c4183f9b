#include "tickforge/book/order_map.h"

namespace tickforge::book {
namespace {

constexpr size_t kInitialSlots = 1024;

}  // namespace

OrderMap::OrderMap() : slots_(kInitialSlots, Order{0, 0, 0, kFree}), mask_(kInitialSlots - 1) {}

void OrderMap::Insert(uint64_t id, uint32_t book, Side side, int64_t price, uint32_t size) {
  // Kept at most half full: probe runs stay short even for ids that hash close together.
  if (2 * (size_ + 1) > slots_.size()) Grow();
  size_t i = Home(id, book);
  while (slots_[i].book_side != kFree) i = (i + 1) & mask_;
  slots_[i] = Order{id, price, size, book * 2 + (side == Side::kAsk ? 1u : 0u)};
  ++size_;
}

void OrderMap::EraseAt(size_t hole) {
  // Backward-shift deletion: pull each following slot of the probe run into the hole unless
  // its home lies cyclically after the hole (moving it would put it before its home).
  size_t i = hole;
  while (true) {
    i = (i + 1) & mask_;
    const Order& s = slots_[i];
    if (s.book_side == kFree) break;
    const size_t home = Home(s.id, s.book());
    const bool movable = ((i - home) & mask_) >= ((i - hole) & mask_);
    if (movable) {
      slots_[hole] = s;
      hole = i;
    }
  }
  slots_[hole].book_side = kFree;
  --size_;
}

void OrderMap::EraseBook(uint32_t book) {
  // A backward shift moves a later slot into the freed one, so the same index is looked at
  // again; slots only move toward the front (or wrap from the front, already looked at, to the
  // back), so one pass sees every slot.
  for (size_t i = 0; i < slots_.size();) {
    if (slots_[i].book_side != kFree && slots_[i].book() == book) {
      EraseAt(i);
    } else {
      ++i;
    }
  }
}

void OrderMap::Grow() {
  std::vector<Order> old(slots_.size() * 2, Order{0, 0, 0, kFree});
  old.swap(slots_);  // slots_ is now the doubled, empty table
  mask_ = slots_.size() - 1;
  for (const Order& s : old) {
    if (s.book_side == kFree) continue;
    size_t i = Home(s.id, s.book());
    while (slots_[i].book_side != kFree) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

}  // namespace tickforge::book
