// One instrument's order book and the stream of MBP-10 records it produces, one record per
// Advance(): stream.cc places the records in time and on the day's price path, book.cc holds
// the book and the events that change it (each emits exactly one record).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "tickforge/dbn/records.h"
#include "tickforge/synth/day_internal.h"
#include "tickforge/synth/universe_internal.h"

namespace tickforge::synth::internal {

inline constexpr int kDepth = 10;
inline constexpr int kBid = 0;
inline constexpr int kAsk = 1;

/// One price level: price in ticks, size and order count.
struct Level {
  int64_t px = 0;  // in ticks
  uint32_t sz = 0;
  uint32_t ct = 0;
};

/// One side of the book, best level first, at most kDepth levels in view.
struct BookSide {
  std::array<Level, kDepth> lv{};
  int n = 0;

  /// Insert at depth d; the deepest level falls out of view when the side is full.
  void Insert(int d, const Level& level) {
    for (int i = std::min(n, kDepth - 1); i > d; --i) lv[i] = lv[i - 1];
    lv[d] = level;
    if (n < kDepth) ++n;
  }
  void Remove(int d) {
    for (int i = d; i + 1 < n; ++i) lv[i] = lv[i + 1];
    --n;
  }
};

/// Return the sign by which prices move away from the spread: bids down, asks up.
constexpr int64_t Away(int side) { return side == kBid ? -1 : 1; }
constexpr char SideChar(int side) { return side == kBid ? 'B' : 'A'; }

/// The records of the `index`-th instrument (SymbolNames order), day after day; its book
/// carries over from one day to the next.
class SymbolStream {
 public:
  explicit SymbolStream(int index);

  /// Return the relative message rate of this instrument.
  double liquidity() const { return product_.liquidity * expiry_.liquidity; }

  /// Prepare `rows` records within `day`; the book carries over from the previous day.
  void BeginDay(const DayContext& day, int64_t rows, uint64_t seed);

  /// Produce the next record; return false when the day's share is exhausted.
  bool Advance();

  const dbn::Mbp10Msg& record() const { return msg_; }
  uint64_t ts_recv() const { return msg_.ts_recv; }
  void set_sequence(uint32_t sequence) { msg_.sequence = sequence; }

 private:
  // The rest of a packet: book updates that follow a lead event at the same timestamps.
  enum class OpKind : uint8_t { kFillTop, kPull, kRemoveTop };
  struct Op {
    OpKind kind;
    int side;
    uint32_t qty;
  };
  enum class Pull : uint8_t { kNone, kPulling, kEmpty, kRebuilding };

  void PushOp(OpKind kind, int side, uint32_t qty = 0) {
    ops_[(op_head_ + op_count_) % ops_.size()] = Op{kind, side, qty};
    ++op_count_;
  }
  Op PopOp() {
    const Op op = ops_[op_head_];
    op_head_ = (op_head_ + 1) % ops_.size();
    --op_count_;
    return op;
  }

  // ---- time and prices (stream.cc)

  void StartPacket();

  // ---- sizes (book.cc)

  double Target(int depth) const;
  uint32_t OrderQty();
  Level NewLevel(int depth, int64_t px);
  int64_t Gap();
  int DrawDepth(int n);

  // ---- the record (book.cc)

  void Emit(char action, char side, int depth, int64_t px, uint32_t size);

  // ---- book events; each emits exactly one record (book.cc)

  void InitBook();
  bool Crosses(int side, int64_t px) const;
  void Trade(int passive, bool whole_level);
  void Delete(int side, int depth);
  void Modify(int side, int depth);
  void Add(int side, int depth, const Level& level);
  bool TryInsert(int side);
  Level NextLevel(int side);
  void AppendLevel(int side);
  void Neutral(int side);
  void PullStep(int side);
  bool RunOp(const Op& op);
  void Lead();
  void Track();

  const Product& product_;
  const Expiry& expiry_;
  const int64_t tick_;
  double ticks_per_price_ = 0;
  double level_size_ = 0;
  double order_size_ = 0;
  double fill_prob_ = 0;

  const DayContext* day_ = nullptr;
  Rng rng_;
  int64_t remaining_ = 0;
  double r_ = 1.0;  // 1 - the activity time of the latest arrival point
  int hour_ = 0;
  uint64_t last_ts_recv_ = 0;
  uint64_t last_ts_event_ = 0;
  double pull_hazard_ = 0;
  double cross_hazard_ = 0;

  // The current packet.
  uint64_t ts_recv_ = 0;
  uint64_t ts_event_ = 0;
  int32_t ts_in_delta_ = 0;
  double fair_ = 0;  // in ticks
  bool volatile_ = false;

  std::array<BookSide, 2> book_{};
  bool book_ready_ = false;
  Pull pull_ = Pull::kNone;
  int pull_side_ = kBid;
  int empty_left_ = 0;
  int cross_side_ = -1;

  std::array<Op, 8> ops_{};
  size_t op_head_ = 0;
  size_t op_count_ = 0;

  dbn::Mbp10Msg msg_{};
};

}  // namespace tickforge::synth::internal
