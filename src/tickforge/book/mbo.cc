#include "tickforge/book/mbo.h"

#include <cassert>
#include <optional>

namespace tickforge::book {
namespace {

std::optional<Side> SideOf(char side) {
  if (side == 'B') return Side::kBid;
  if (side == 'A') return Side::kAsk;
  return std::nullopt;
}

}  // namespace

uint32_t MboBooks::BookOf(uint32_t instrument_id, uint16_t publisher_id) {
  const uint64_t key = (uint64_t{instrument_id} << 16) | publisher_id;
  if (key == last_key_) return last_book_;
  auto [it, inserted] = index_.try_emplace(key, static_cast<uint32_t>(books_.size()));
  if (inserted) {
    Book& book = books_.emplace_back();
    book.instrument_id = instrument_id;
    book.publisher_id = publisher_id;
    states_.emplace_back();
  }
  last_key_ = key;
  last_book_ = it->second;
  return last_book_;
}

void MboBooks::Note(Anomaly anomaly, Anomaly& first) {
  anomalies_.Count(anomaly);
  if (first == Anomaly::kNone) first = anomaly;
}

MboBooks::Applied MboBooks::Apply(const dbn::MboMsg& msg) {
  const uint32_t b = BookOf(msg.hd.instrument_id, msg.hd.publisher_id);
  State& state = states_[b];
  Anomaly first = Anomaly::kNone;
  if ((msg.flags & dbn::flag::kSnapshot) != 0) {
    // A snapshot states the whole book; its records carry each order's own old sequence, so
    // the sequence check starts over after it.
    if (!state.in_snapshot) {
      ClearBook(b);
      state.in_snapshot = true;
      state.has_sequence = false;
    }
  } else {
    state.in_snapshot = false;
    if (state.has_sequence && msg.sequence < state.last_sequence) Note(Anomaly::kSequenceBackwards, first);
    state.last_sequence = msg.sequence;
    state.has_sequence = true;
  }
  switch (msg.action) {
    case 'A':
    case 'M': {
      const auto side = SideOf(msg.side);
      if (!side) {
        Note(Anomaly::kNoSide, first);
      } else if (msg.action == 'A') {
        Add(b, msg, *side, first);
      } else {
        Modify(b, msg, *side, first);
      }
      break;
    }
    case 'C':
      Cancel(b, msg, first);
      break;
    case 'R':
      ClearBook(b);
      break;
    case 'T':
    case 'F':
    case 'N':
      break;
    default:
      Note(Anomaly::kUnknownAction, first);
      break;
  }
  return Applied{b, first};
}

void MboBooks::Add(uint32_t b, const dbn::MboMsg& msg, Side side, Anomaly& first) {
  Book& book = books_[b];
  if ((msg.flags & dbn::flag::kTob) != 0) {
    // A top-of-book venue states its best level; it holds no orders, so the count stays 0.
    PriceLevels& levels = book.side(side);
    levels.Clear();
    if (msg.price != dbn::kUndefPrice) levels.Add(msg.price, msg.size, 0);
    return;
  }
  if (Order* existing = orders_.Find(msg.order_id, b)) {
    Note(Anomaly::kDuplicateAdd, first);
    RemoveOrder(b, existing);
  }
  orders_.Insert(msg.order_id, b, side, msg.price, msg.size);
  book.side(side).Add(msg.price, msg.size, 1);
  ++states_[b].live_orders;
}

void MboBooks::Cancel(uint32_t b, const dbn::MboMsg& msg, Anomaly& first) {
  Order* order = orders_.Find(msg.order_id, b);
  if (order == nullptr) {
    Note(Anomaly::kUnknownCancel, first);
    return;
  }
  if (msg.size >= order->size) {
    if (msg.size > order->size) Note(Anomaly::kNegativeLevel, first);
    RemoveOrder(b, order);
    return;
  }
  [[maybe_unused]] const bool ok = books_[b].side(order->side()).Subtract(order->price, msg.size, 0);
  assert(ok);  // the level holds at least this order's size
  order->size -= msg.size;
}

void MboBooks::Modify(uint32_t b, const dbn::MboMsg& msg, Side side, Anomaly& first) {
  Order* order = orders_.Find(msg.order_id, b);
  if (order == nullptr) {
    // Top-of-book venues keep no orders: their Modify restates the side like an Add.
    if ((msg.flags & dbn::flag::kTob) == 0) Note(Anomaly::kUnknownModify, first);
    Add(b, msg, side, first);
    return;
  }
  Book& book = books_[b];
  if (order->side() != side) {
    Note(Anomaly::kSideChange, first);
    RemoveOrder(b, order);
    orders_.Insert(msg.order_id, b, side, msg.price, msg.size);
    book.side(side).Add(msg.price, msg.size, 1);
    ++states_[b].live_orders;
    return;
  }
  PriceLevels& levels = book.side(side);
  [[maybe_unused]] bool ok = true;
  if (order->price != msg.price) {
    ok = levels.Subtract(order->price, order->size, 1);
    levels.Add(msg.price, msg.size, 1);
    order->price = msg.price;
  } else {
    // The order stays, so the level does too: take the old size off, put the new one on.
    ok = levels.Subtract(order->price, order->size, 0);
    levels.Add(msg.price, msg.size, 0);
  }
  assert(ok);
  order->size = msg.size;
}

void MboBooks::RemoveOrder(uint32_t b, Order* order) {
  [[maybe_unused]] const bool ok = books_[b].side(order->side()).Subtract(order->price, order->size, 1);
  assert(ok);
  orders_.Erase(order);
  --states_[b].live_orders;
}

void MboBooks::ClearBook(uint32_t b) {
  if (states_[b].live_orders > 0) orders_.EraseBook(b);
  states_[b].live_orders = 0;
  books_[b].Clear();
}

}  // namespace tickforge::book
