// One instrument's order book and the events that change it, each emitting exactly one
// record: level sizes and depths drawn near their targets, trades against the top, deletes,
// modifies and new levels, a market maker pulling one side for a while, orders that lock or
// cross the book until the next packet trades them away, and the book following the fair
// price when it leaves the spread.
#include "tickforge/synth/stream_internal.h"

#include <algorithm>
#include <cmath>

namespace tickforge::synth::internal {
namespace {

using dbn::BidAskPair;

// Cumulative probabilities of which book level an update touches: mostly near the top.
constexpr std::array<double, kDepth> kDepthCdf = {0.30, 0.48, 0.60, 0.69, 0.76,
                                                  0.82, 0.87, 0.92, 0.96, 1.00};

}  // namespace

// ---- sizes

double SymbolStream::Target(int depth) const {
  return level_size_ * (1.0 + 0.35 * depth) * (volatile_ ? 0.6 : 1.0);
}

uint32_t SymbolStream::OrderQty() {
  return 1 + static_cast<uint32_t>(std::min(250.0, rng_.Exp() * (order_size_ - 1.0)));
}

Level SymbolStream::NewLevel(int depth, int64_t px) {
  Level level;
  level.px = px;
  level.sz = std::max<uint32_t>(
      1, static_cast<uint32_t>(Target(depth) * (0.4 + 1.2 * rng_.Uniform())));
  const double per_order = order_size_ * (0.6 + 0.8 * rng_.Uniform());
  level.ct = std::clamp<uint32_t>(1 + static_cast<uint32_t>(level.sz / per_order), 1, level.sz);
  return level;
}

int64_t SymbolStream::Gap() {
  const double u = rng_.Uniform();
  return u < 0.9 ? 1 : (u < 0.98 ? 2 : 3);
}

int SymbolStream::DrawDepth(int n) {
  const double u = rng_.Uniform();
  int d = 0;
  while (d < kDepth - 1 && u > kDepthCdf[d]) ++d;
  if (d >= n) d = static_cast<int>(rng_.Below(static_cast<uint32_t>(n)));
  return d;
}

// ---- the record

void SymbolStream::Emit(char action, char side, int depth, int64_t px, uint32_t size) {
  msg_.hd.ts_event = ts_event_;
  msg_.ts_recv = ts_recv_;
  msg_.ts_in_delta = ts_in_delta_;
  msg_.price = px * tick_;
  msg_.size = size;
  msg_.action = action;
  msg_.side = side;
  msg_.depth = static_cast<uint8_t>(depth);
  const BookSide& bids = book_[kBid];
  const BookSide& asks = book_[kAsk];
  for (int i = 0; i < kDepth; ++i) {
    BidAskPair& pair = msg_.levels[i];
    if (i < bids.n) {
      pair.bid_px = bids.lv[i].px * tick_;
      pair.bid_sz = bids.lv[i].sz;
      pair.bid_ct = bids.lv[i].ct;
    } else {
      pair.bid_px = dbn::kUndefPrice;
      pair.bid_sz = 0;
      pair.bid_ct = 0;
    }
    if (i < asks.n) {
      pair.ask_px = asks.lv[i].px * tick_;
      pair.ask_sz = asks.lv[i].sz;
      pair.ask_ct = asks.lv[i].ct;
    } else {
      pair.ask_px = dbn::kUndefPrice;
      pair.ask_sz = 0;
      pair.ask_ct = 0;
    }
  }
}

// ---- book events; each emits exactly one record

void SymbolStream::InitBook() {
  StartPacket();
  const int64_t bid = std::max<int64_t>(2 * kDepth + 10, static_cast<int64_t>(std::floor(fair_)));
  book_[kBid].n = 0;
  book_[kAsk].n = 0;
  int64_t px = bid;
  for (int d = 0; d < kDepth; ++d, px -= Gap()) book_[kBid].Insert(d, NewLevel(d, px));
  px = bid + 1;
  for (int d = 0; d < kDepth; ++d, px += Gap()) book_[kAsk].Insert(d, NewLevel(d, px));
  book_ready_ = true;
}

bool SymbolStream::Crosses(int side, int64_t px) const {
  const BookSide& other = book_[1 - side];
  if (other.n == 0) return false;
  return side == kBid ? px >= other.lv[0].px : px <= other.lv[0].px;
}

// A trade against the top of `passive`; the book changes in the packet's next record.
void SymbolStream::Trade(int passive, bool whole_level) {
  const Level& top = book_[passive].lv[0];
  const uint32_t qty = whole_level ? top.sz : std::min(OrderQty(), top.sz);
  // A few trades (spread legs, implied matches) carry no aggressor.
  const char aggressor = rng_.Chance(0.03) ? 'N' : SideChar(1 - passive);
  Emit('T', aggressor, 0, top.px, qty);
  PushOp(OpKind::kFillTop, passive, qty);
}

// Delete a level. As on MDP3, the level beyond the tenth comes into view in the same
// update, except on a side that is being pulled or rebuilt.
void SymbolStream::Delete(int side, int depth) {
  BookSide& book = book_[side];
  const Level old = book.lv[depth];
  book.Remove(depth);
  if (pull_ == Pull::kNone || side != pull_side_) book.Insert(book.n, NextLevel(side));
  Emit('C', SideChar(side), depth, old.px, old.sz);
}

void SymbolStream::Modify(int side, int depth) {
  Level& level = book_[side].lv[depth];
  const double target = Target(depth);
  // Queues grow when short and shrink when long, which keeps them near their target.
  const bool up = level.sz < 20 * target && rng_.Chance(target / (target + level.sz));
  uint32_t qty = OrderQty();
  if (up) {
    level.sz += qty;
    // Mostly a new order joins; sometimes a resting one grows.
    if (rng_.Chance(0.85)) ++level.ct;
  } else if (level.ct == 1) {
    if (qty >= level.sz) {
      Delete(side, depth);
      return;
    }
    level.sz -= qty;
  } else {
    // One order leaves; the others keep at least one lot each.
    qty = std::min(qty, level.sz - (level.ct - 1));
    level.sz -= qty;
    --level.ct;
  }
  Emit('M', SideChar(side), depth, level.px, level.sz);
}

// Insert `level` at `depth` and emit the add.
void SymbolStream::Add(int side, int depth, const Level& level) {
  book_[side].Insert(depth, level);
  Emit('A', SideChar(side), depth, level.px, level.sz);
}

// Add a new price level: inside the spread, into a gap, or below the deepest level.
bool SymbolStream::TryInsert(int side) {
  const BookSide& book = book_[side];
  const int depth = DrawDepth(std::min(book.n + 1, kDepth));
  int64_t px = 0;
  if (depth == 0) {
    px = book.lv[0].px - Away(side);
    if (Crosses(side, px)) return false;
  } else if (depth < book.n) {
    px = book.lv[depth - 1].px + Away(side);
    if (px == book.lv[depth].px) return false;  // no gap to fill
  } else {
    Add(side, depth, NewLevel(depth, book.lv[depth - 1].px + Away(side) * Gap()));
    return true;
  }
  Add(side, depth, Level{px, OrderQty(), 1});
  return true;
}

// Return the level to append at the far end of `side`, or its new top when it is empty.
Level SymbolStream::NextLevel(int side) {
  const BookSide& book = book_[side];
  if (book.n > 0) {
    const int64_t px = book.lv[book.n - 1].px + Away(side) * Gap();
    return NewLevel(book.n, std::max<int64_t>(px, 1));
  }
  const BookSide& other = book_[1 - side];
  int64_t px;
  if (other.n > 0) {
    px = other.lv[0].px + Away(side) * (1 + rng_.Below(2));
  } else {
    px = static_cast<int64_t>(std::floor(fair_)) + (side == kAsk ? 1 : 0);
  }
  return NewLevel(0, std::max<int64_t>(px, 1));
}

void SymbolStream::AppendLevel(int side) { Add(side, book_[side].n, NextLevel(side)); }

void SymbolStream::Neutral(int side) {
  if (book_[side].n == 0) side = 1 - side;
  if (book_[side].n == 0) {
    AppendLevel(side);
    return;
  }
  const double p_trade = volatile_ ? 0.11 : 0.06;
  const double p_delete = 0.07;
  const double p_add = 0.10;
  const double u = rng_.Uniform();
  const int n = book_[side].n;
  if (u < p_trade) {
    Trade(side, rng_.Chance(0.12));
  } else if (u < p_trade + p_delete) {
    Delete(side, DrawDepth(n));
  } else if (u < p_trade + p_delete + p_add) {
    if (!TryInsert(side)) Modify(side, DrawDepth(n));
  } else {
    Modify(side, DrawDepth(n));
  }
}

void SymbolStream::PullStep(int side) {
  BookSide& book = book_[side];
  const Level old = book.lv[0];
  book.Remove(0);
  Emit('C', SideChar(side), 0, old.px, old.sz);
  if (book.n > 0) {
    PushOp(OpKind::kPull, side);
  } else {
    pull_ = Pull::kEmpty;
    empty_left_ = 6 + static_cast<int>(rng_.Below(20));
  }
}

// Run a packet's follow-up; return false when the book no longer allows it.
bool SymbolStream::RunOp(const Op& op) {
  BookSide& book = book_[op.side];
  switch (op.kind) {
    case OpKind::kFillTop: {
      if (book.n == 0) return false;
      Level& top = book.lv[0];
      const uint32_t qty = std::min(op.qty, top.sz);
      if (qty >= top.sz) {
        Delete(op.side, 0);
      } else {
        const uint32_t filled_orders =
            std::min(top.ct - 1, static_cast<uint32_t>(qty / order_size_));
        top.sz -= qty;
        top.ct = std::clamp<uint32_t>(top.ct - filled_orders, 1, top.sz);
        Emit('M', SideChar(op.side), 0, top.px, top.sz);
      }
      return true;
    }
    case OpKind::kPull:
      if (book.n == 0) return false;
      PullStep(op.side);
      return true;
    case OpKind::kRemoveTop:
      if (book.n == 0) return false;
      Delete(op.side, 0);
      return true;
  }
  return false;
}

// The first record of a packet.
void SymbolStream::Lead() {
  if (cross_side_ >= 0) {
    // The crossing order trades against the resting top, and its rest is withdrawn.
    const int side = cross_side_;
    const int other = 1 - side;
    cross_side_ = -1;
    const uint32_t qty = std::min(book_[side].lv[0].sz, book_[other].lv[0].sz);
    Emit('T', SideChar(side), 0, book_[other].lv[0].px, qty);
    PushOp(OpKind::kFillTop, other, qty);
    PushOp(OpKind::kRemoveTop, side);
    return;
  }
  switch (pull_) {
    case Pull::kPulling:
      PullStep(pull_side_);
      return;
    case Pull::kEmpty:
      if (empty_left_ > 0) {
        --empty_left_;
        Neutral(1 - pull_side_);
        return;
      }
      pull_ = Pull::kRebuilding;
      [[fallthrough]];
    case Pull::kRebuilding: {
      const BookSide& book = book_[pull_side_];
      if (book.n < kDepth) {
        if (book.n == 0 || rng_.Chance(0.5)) {
          AppendLevel(pull_side_);
          if (book.n == kDepth) pull_ = Pull::kNone;
        } else {
          Neutral(static_cast<int>(rng_.Below(2)));
        }
        return;
      }
      pull_ = Pull::kNone;
      break;
    }
    case Pull::kNone:
      break;
  }
  // Outside episodes both sides are full; only a packet cut off at the end of a day can
  // leave a side short (a crossing order that pushed out a level, say).
  for (int side : {kBid, kAsk}) {
    if (book_[side].n < kDepth) {
      AppendLevel(side);
      return;
    }
  }
  if (rng_.Chance(pull_hazard_)) {
    // A market maker pulls all its quotes: one side empties for a while.
    pull_side_ = static_cast<int>(rng_.Below(2));
    pull_ = Pull::kPulling;
    PullStep(pull_side_);
    return;
  }
  if (rng_.Chance(cross_hazard_)) {
    // An order locks or crosses the book (implied prices, a fast market) until the next
    // packet trades it away.
    const int side = static_cast<int>(rng_.Below(2));
    const int64_t through = rng_.Chance(0.6) ? 0 : 1;
    const int64_t px = book_[1 - side].lv[0].px - Away(side) * through;
    Add(side, 0, Level{px, OrderQty(), 1});
    cross_side_ = side;
    return;
  }
  Track();
}

// Follow the fair price: when it leaves the spread, improve one side or take out the
// other; otherwise the book churns without moving.
void SymbolStream::Track() {
  const Level& bid = book_[kBid].lv[0];
  const Level& ask = book_[kAsk].lv[0];
  const int64_t spread = ask.px - bid.px;
  const double diff = fair_ - 0.5 * static_cast<double>(bid.px + ask.px);
  const double dist = std::abs(diff);
  const bool move = (dist >= 1.0 && rng_.Chance(0.8)) || (dist >= 0.5 && rng_.Chance(0.15));
  const int improve = diff > 0 ? kBid : kAsk;
  if (move) {
    const int take = 1 - improve;
    if (spread > 1) {
      Add(improve, 0, Level{book_[improve].lv[0].px - Away(improve), OrderQty(), 1});
    } else if (book_[take].lv[0].ct == 1 && rng_.Chance(0.35)) {
      Delete(take, 0);
    } else {
      Trade(take, /*whole_level=*/true);
    }
    return;
  }
  if (spread > 1 && rng_.Chance(fill_prob_ * (volatile_ ? 0.6 : 1.0))) {
    Add(improve, 0, Level{book_[improve].lv[0].px - Away(improve), OrderQty(), 1});
    return;
  }
  Neutral(static_cast<int>(rng_.Below(2)));
}

}  // namespace tickforge::synth::internal
