#include "tickforge/synth/synth.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <numeric>

#include <fmt/format.h>

#include "tickforge/dbn/encoder.h"
#include "tickforge/dbn/metadata.h"
#include "tickforge/dbn/records.h"
#include "tickforge/dbn/schema.h"
#include "tickforge/util/time.h"
#include "tickforge/util/random.h"

namespace tickforge::synth {
namespace {

using dbn::BidAskPair;
using dbn::Mbp10Msg;

constexpr int kDepth = 10;
constexpr int kBid = 0;
constexpr int kAsk = 1;
constexpr uint8_t kFlagLast = 128;
constexpr uint16_t kPublisherId = 1;
constexpr uint32_t kInstrumentIdBase = 1000;
constexpr uint32_t kInstrumentIdStride = 7;
constexpr uint8_t kStypeRawSymbol = 1;
constexpr uint8_t kStypeInstrumentId = 0;
// The sequence field is 32 bits and gaps are added between records, so cap the row count
// well below 2^32.
constexpr int64_t kMaxRowsPerDay = 1'000'000'000;
constexpr int64_t kNsPerHour = 3'600'000'000'000;
// Resolution of the per-day price and regime paths in activity time: about ten seconds of a
// typical hour, fine enough that the book never sees the interpolation.
constexpr int kGridCells = 8192;

// Random numbers: xoshiro256** (util/random.h) and explicit transforms, so that the same seed
// gives the same bytes with any standard library.
// Derive an independent stream seed from the run seed and a few labels.
uint64_t DeriveSeed(uint64_t seed, uint64_t a, uint64_t b) {
  return SplitMix64(SplitMix64(SplitMix64(seed) ^ (a * 0xD1B54A32D192ED03ULL)) ^ (b * 0x8CB92BA72F3D8DD7ULL));
}

using Rng = Xoshiro256;

// ---------------------------------------------------------------------------------------
// The instrument universe: FX futures on eight currencies against USD, quoted as USD per
// unit of the currency, as CME lists them.

struct Underlying {
  double base_price;     // USD per unit, around spring 2024
  double daily_vol;      // standard deviation of one day's log return
  double usd_loading;    // correlation with the common USD factor
  double carry;          // futures premium per quarter of expiry (rate differential / 4)
};

enum UnderlyingId { kAud, kEur, kGbp, kJpy, kCad, kChf, kNzd, kMxn, kUnderlyingCount };

constexpr std::array<Underlying, kUnderlyingCount> kUnderlyings = {{
    {0.6550, 0.0065, 0.60, 0.0024},
    {1.0850, 0.0045, 0.75, 0.0033},
    {1.2650, 0.0050, 0.70, 0.0010},
    {0.006620, 0.0055, 0.45, 0.0130},
    {0.7350, 0.0035, 0.50, 0.0010},
    {1.1050, 0.0050, 0.65, 0.0090},
    {0.5950, 0.0070, 0.55, -0.0005},
    {0.0590, 0.0080, 0.35, -0.0140},
}};

struct Product {
  const char* root;
  UnderlyingId underlying;
  int64_t tick;        // minimum price increment in 1e-9 units
  double level_size;   // typical resting size at the best level
  double order_size;   // mean order size
  double liquidity;    // relative message rate
};

// Micro and standard contracts interleaved so that small symbol counts already mix both.
constexpr std::array<Product, 16> kProducts = {{
    {"M6A", kAud, 100'000, 12, 1.6, 0.9},
    {"M6E", kEur, 100'000, 20, 1.8, 1.4},
    {"6A", kAud, 50'000, 35, 2.5, 1.6},
    {"6E", kEur, 50'000, 60, 3.0, 2.5},
    {"M6B", kGbp, 100'000, 10, 1.5, 0.7},
    {"6B", kGbp, 100'000, 30, 2.5, 1.5},
    {"MJY", kJpy, 1'000, 8, 1.5, 0.5},
    {"6J", kJpy, 500, 45, 3.0, 2.0},
    {"MCD", kCad, 100'000, 6, 1.3, 0.3},
    {"6C", kCad, 50'000, 40, 2.5, 1.3},
    {"MSF", kChf, 100'000, 5, 1.3, 0.2},
    {"6S", kChf, 50'000, 15, 2.0, 0.6},
    {"6N", kNzd, 50'000, 18, 2.0, 0.7},
    {"6M", kMxn, 10'000, 60, 4.0, 0.8},
    {"E7", kEur, 100'000, 8, 1.5, 0.3},
    {"J7", kJpy, 1'000, 6, 1.4, 0.2},
}};
static_assert(kProducts.size() * 4 == kMaxSymbols);

// Quarterly expiries, front first; deferred months trade far less, with thinner books and
// wider spreads.
struct Expiry {
  const char* code;
  double liquidity;
  double size_factor;
  double fill_factor;
};
constexpr std::array<Expiry, 4> kExpiries = {{
    {"M4", 1.0, 1.0, 1.0},
    {"U4", 0.12, 0.4, 0.7},
    {"Z4", 0.05, 0.25, 0.5},
    {"H5", 0.02, 0.2, 0.4},
}};

// Relative message rate per UTC hour for CME FX: quiet Asian hours, London from 07:00, the
// US data releases and the London fix at 12:30 to 15:00, nothing during the 21:00
// maintenance break (17:00 Chicago in daylight saving time).
constexpr std::array<double, 24> kHourWeights = {
    0.35, 0.45, 0.35, 0.30, 0.25, 0.30, 0.60, 1.00, 1.00, 0.85, 0.75, 0.70,
    1.30, 1.80, 1.60, 1.20, 0.80, 0.60, 0.50, 0.40, 0.30, 0.00, 0.25, 0.30};
constexpr int kMaintenanceHour = 21;

// Cumulative probabilities of which book level an update touches: mostly near the top.
constexpr std::array<double, kDepth> kDepthCdf = {0.30, 0.48, 0.60, 0.69, 0.76,
                                                  0.82, 0.87, 0.92, 0.96, 1.00};

// ---------------------------------------------------------------------------------------
// One trading day's shared market: when activity happens and where prices go. Every symbol
// reads the same paths in "activity time" x in [0, 1), the fraction of the day's messages
// so far, so related contracts (6E and M6E, front and deferred) move together.

struct MarketState {
  std::array<double, kUnderlyingCount> price{};
  bool volatile_regime = false;
};

struct DayContext {
  uint64_t start_ns = 0;
  std::array<double, 24> hour_weight{};
  std::array<double, 25> hour_cum{};  // hour_cum[h] = weight of the hours before h
  std::array<std::vector<double>, kUnderlyingCount> price;  // kGridCells + 1 points each
  std::vector<uint8_t> volatile_cell;                         // kGridCells entries
};

void BuildDay(uint64_t start_ns, bool friday, MarketState& market, Rng& rng, DayContext& day) {
  day.start_ns = start_ns;
  day.hour_weight = kHourWeights;
  // Globex closes for the weekend at the Friday maintenance break.
  if (friday) {
    for (int h = kMaintenanceHour; h < 24; ++h) day.hour_weight[h] = 0;
  }
  day.hour_cum[0] = 0;
  for (int h = 0; h < 24; ++h) day.hour_cum[h + 1] = day.hour_cum[h] + day.hour_weight[h];

  // Markov switching between calm and volatile regimes: calm spells last about 8% of the
  // day's activity, volatile ones about 1.5%.
  constexpr double kCalmCells = 0.08 * kGridCells;
  constexpr double kVolatileCells = 0.015 * kGridCells;
  constexpr double kCalmVariance = 0.7;
  constexpr double kVolatileVariance = 3.5;

  std::array<double, kUnderlyingCount> drift{};
  std::array<double, kUnderlyingCount> log_price{};
  for (int u = 0; u < kUnderlyingCount; ++u) {
    const Underlying& info = kUnderlyings[u];
    // A slow trend for the day, pulled back towards the base level so that long runs stay
    // in a plausible range.
    drift[u] = 0.25 * info.daily_vol * rng.Normal() +
               0.15 * std::log(info.base_price / market.price[u]);
    log_price[u] = 0;
    day.price[u].resize(kGridCells + 1);
    day.price[u][0] = market.price[u];
  }
  day.volatile_cell.resize(kGridCells);

  bool regime = market.volatile_regime;
  for (int g = 0; g < kGridCells; ++g) {
    regime = regime ? !rng.Chance(1.0 / kVolatileCells) : rng.Chance(1.0 / kCalmCells);
    day.volatile_cell[g] = regime ? 1 : 0;
    const double scale =
        std::sqrt((regime ? kVolatileVariance : kCalmVariance) / kGridCells);
    const double common = rng.Normal();
    for (int u = 0; u < kUnderlyingCount; ++u) {
      const Underlying& info = kUnderlyings[u];
      const double own = rng.Normal();
      const double shock = info.usd_loading * common +
                           std::sqrt(1.0 - info.usd_loading * info.usd_loading) * own;
      log_price[u] += info.daily_vol * scale * shock + drift[u] / kGridCells;
      day.price[u][g + 1] = market.price[u] * std::exp(log_price[u]);
    }
  }
  for (int u = 0; u < kUnderlyingCount; ++u) market.price[u] = day.price[u][kGridCells];
  market.volatile_regime = regime;
}

// ---------------------------------------------------------------------------------------
// One instrument's order book and the stream of MBP-10 records it produces.

struct Level {
  int64_t px = 0;  // in ticks
  uint32_t sz = 0;
  uint32_t ct = 0;
};

struct BookSide {
  std::array<Level, kDepth> lv{};
  int n = 0;

  // Insert at depth d; the deepest level falls out of view when the side is full.
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

// Prices move away from the spread by this sign: bids down, asks up.
constexpr int64_t Away(int side) { return side == kBid ? -1 : 1; }
constexpr char SideChar(int side) { return side == kBid ? 'B' : 'A'; }

class SymbolStream {
 public:
  explicit SymbolStream(int index)
      : product_(kProducts[index % kProducts.size()]),
        expiry_(kExpiries[index / kProducts.size()]),
        tick_(product_.tick) {
    const Underlying& info = kUnderlyings[product_.underlying];
    const double basis = 1.0 + info.carry * static_cast<double>(index / kProducts.size());
    ticks_per_price_ = basis * static_cast<double>(dbn::kFixedPriceScale) /
                       static_cast<double>(tick_);
    level_size_ = std::max(1.0, product_.level_size * expiry_.size_factor);
    order_size_ = std::max(1.0, product_.order_size * std::sqrt(expiry_.size_factor));
    fill_prob_ = 0.5 * expiry_.fill_factor;
    msg_.hd.length = dbn::LengthOf<Mbp10Msg>();
    msg_.hd.rtype = dbn::rtype::kMbp10;
    msg_.hd.publisher_id = kPublisherId;
    msg_.hd.instrument_id = kInstrumentIdBase + kInstrumentIdStride * static_cast<uint32_t>(index);
  }

  /// Return the relative message rate of this instrument.
  double liquidity() const { return product_.liquidity * expiry_.liquidity; }

  /// Prepare `rows` records within `day`; the book carries over from the previous day.
  void BeginDay(const DayContext& day, int64_t rows, uint64_t seed) {
    day_ = &day;
    rng_ = Rng(seed);
    remaining_ = rows;
    r_ = 1.0;
    hour_ = 0;
    last_ts_recv_ = day.start_ns;
    last_ts_event_ = day.start_ns;
    op_count_ = 0;
    // About 2.5 one-sided and 1.5 crossed episodes per instrument and day, capped so that
    // they stay well below 0.5% of rows on small files.
    const double n = static_cast<double>(std::max<int64_t>(rows, 1));
    pull_hazard_ = std::min(8e-5, 2.5 / n);
    cross_hazard_ = std::min(5e-5, 1.5 / n);
    if (!book_ready_) InitBook();
  }

  /// Produce the next record; return false when the day's share is exhausted.
  bool Advance() {
    if (remaining_ <= 0) return false;
    // Every record, follow-ups included, consumes one of the day's sorted uniform arrival
    // points: the leads of each packet then stay spread over the whole day.
    r_ *= std::exp(-rng_.Exp() / static_cast<double>(remaining_));
    bool emitted = false;
    while (op_count_ > 0 && !emitted) emitted = RunOp(PopOp());
    if (!emitted) {
      StartPacket();
      Lead();
    }
    --remaining_;
    const bool more_in_packet = op_count_ > 0 && remaining_ > 0;
    msg_.flags = more_in_packet ? 0 : kFlagLast;
    if (remaining_ == 0) op_count_ = 0;
    return true;
  }

  const Mbp10Msg& record() const { return msg_; }
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

  // ---- time and prices

  void StartPacket() {
    const DayContext& day = *day_;
    const double x = 1.0 - r_;
    const double target = x * day.hour_cum[24];
    while (hour_ < 23 && day.hour_cum[hour_ + 1] <= target) ++hour_;
    int hour = hour_;
    int64_t into = 0;
    if (day.hour_weight[hour] > 0) {
      into = static_cast<int64_t>((target - day.hour_cum[hour]) / day.hour_weight[hour] *
                                  static_cast<double>(kNsPerHour));
      into = std::clamp<int64_t>(into, 0, kNsPerHour - 1);
    } else {
      // Rounding pushed x onto the end of the day: stay at the end of the last open hour.
      while (hour > 0 && day.hour_weight[hour] == 0) --hour;
      into = kNsPerHour - 1;
    }
    const uint64_t ts = std::max<uint64_t>(
        day.start_ns + static_cast<uint64_t>(hour * kNsPerHour + into), last_ts_recv_);

    const double gx = x * kGridCells;
    const int cell = std::min(kGridCells - 1, static_cast<int>(gx));
    const double frac = gx - cell;
    const std::vector<double>& path = day.price[product_.underlying];
    fair_ = (path[cell] + (path[cell + 1] - path[cell]) * frac) * ticks_per_price_;
    volatile_ = day.volatile_cell[cell] != 0;

    // Matching engine to gateway, then gateway to the capture server; both grow when the
    // market is busy.
    const double slow = volatile_ ? 2.0 : 1.0;
    ts_in_delta_ = static_cast<int32_t>(std::min(1200.0 + rng_.Exp() * 2000.0 * slow, 2e6));
    const auto send_delay = static_cast<uint64_t>(2500.0 + rng_.Exp() * 5000.0 * slow);
    const uint64_t latency = static_cast<uint64_t>(ts_in_delta_) + send_delay;
    uint64_t ts_event = ts - std::min(latency, ts - day.start_ns);
    ts_event = std::max(ts_event, last_ts_event_);
    ts_recv_ = ts;
    ts_event_ = ts_event;
    last_ts_recv_ = ts;
    last_ts_event_ = ts_event;
  }

  // ---- sizes

  double Target(int depth) const {
    return level_size_ * (1.0 + 0.35 * depth) * (volatile_ ? 0.6 : 1.0);
  }
  uint32_t OrderQty() {
    return 1 + static_cast<uint32_t>(std::min(250.0, rng_.Exp() * (order_size_ - 1.0)));
  }
  Level NewLevel(int depth, int64_t px) {
    Level level;
    level.px = px;
    level.sz = std::max<uint32_t>(
        1, static_cast<uint32_t>(Target(depth) * (0.4 + 1.2 * rng_.Uniform())));
    const double per_order = order_size_ * (0.6 + 0.8 * rng_.Uniform());
    level.ct = std::clamp<uint32_t>(1 + static_cast<uint32_t>(level.sz / per_order), 1, level.sz);
    return level;
  }
  int64_t Gap() {
    const double u = rng_.Uniform();
    return u < 0.9 ? 1 : (u < 0.98 ? 2 : 3);
  }
  int DrawDepth(int n) {
    const double u = rng_.Uniform();
    int d = 0;
    while (d < kDepth - 1 && u > kDepthCdf[d]) ++d;
    if (d >= n) d = static_cast<int>(rng_.Below(static_cast<uint32_t>(n)));
    return d;
  }

  // ---- the record

  void Emit(char action, char side, int depth, int64_t px, uint32_t size) {
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

  void InitBook() {
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

  bool Crosses(int side, int64_t px) const {
    const BookSide& other = book_[1 - side];
    if (other.n == 0) return false;
    return side == kBid ? px >= other.lv[0].px : px <= other.lv[0].px;
  }

  // A trade against the top of `passive`; the book changes in the packet's next record.
  void Trade(int passive, bool whole_level) {
    const Level& top = book_[passive].lv[0];
    const uint32_t qty = whole_level ? top.sz : std::min(OrderQty(), top.sz);
    // A few trades (spread legs, implied matches) carry no aggressor.
    const char aggressor = rng_.Chance(0.03) ? 'N' : SideChar(1 - passive);
    Emit('T', aggressor, 0, top.px, qty);
    PushOp(OpKind::kFillTop, passive, qty);
  }

  // Delete a level. As on MDP3, the level beyond the tenth comes into view in the same
  // update, except on a side that is being pulled or rebuilt.
  void Delete(int side, int depth) {
    BookSide& book = book_[side];
    const Level old = book.lv[depth];
    book.Remove(depth);
    if (pull_ == Pull::kNone || side != pull_side_) book.Insert(book.n, NextLevel(side));
    Emit('C', SideChar(side), depth, old.px, old.sz);
  }

  void Modify(int side, int depth) {
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
  void Add(int side, int depth, const Level& level) {
    book_[side].Insert(depth, level);
    Emit('A', SideChar(side), depth, level.px, level.sz);
  }

  // Add a new price level: inside the spread, into a gap, or below the deepest level.
  bool TryInsert(int side) {
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
  Level NextLevel(int side) {
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

  void AppendLevel(int side) { Add(side, book_[side].n, NextLevel(side)); }

  void Neutral(int side) {
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

  void PullStep(int side) {
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

  bool RunOp(const Op& op) {
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
  void Lead() {
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
  void Track() {
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

  Mbp10Msg msg_{};
};

// ---------------------------------------------------------------------------------------
// Files

// Split `rows` by weight with the largest-remainder method, so the shares add up exactly.
std::vector<int64_t> SplitRows(int64_t rows, const std::vector<double>& weights) {
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<int64_t> shares(weights.size());
  std::vector<double> remainder(weights.size());
  int64_t assigned = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const double exact = static_cast<double>(rows) * weights[i] / total;
    shares[i] = static_cast<int64_t>(std::floor(exact));
    remainder[i] = exact - static_cast<double>(shares[i]);
    assigned += shares[i];
  }
  std::vector<size_t> order(weights.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return remainder[a] > remainder[b]; });
  for (size_t i = 0; assigned < rows; i = (i + 1) % order.size(), ++assigned) ++shares[order[i]];
  // Floating-point rounding can overshoot by a row; take it back from the largest share.
  while (assigned > rows) {
    --*std::max_element(shares.begin(), shares.end());
    --assigned;
  }
  return shares;
}

std::string FilePrefix(const std::string& dataset) {
  std::string prefix = dataset;
  for (char& c : prefix) {
    if (c == '.') {
      c = '-';
    } else if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return prefix;
}

// 0 = Sunday ... 6 = Saturday; 1970-01-01 was a Thursday.
int Weekday(int64_t days) { return static_cast<int>(((days % 7) + 7 + 4) % 7); }

[[nodiscard]] Status ValidateOptions(const SynthOptions& options) {
  if (options.symbols < 1 || options.symbols > kMaxSymbols) {
    return Status::Invalid("synth: symbols must be between 1 and ", kMaxSymbols, ", got ",
                           options.symbols);
  }
  if (options.days < 1) {
    return Status::Invalid("synth: days must be at least 1, got ", options.days);
  }
  if (options.rows_per_day < 1 || options.rows_per_day > kMaxRowsPerDay) {
    return Status::Invalid("synth: rows_per_day must be between 1 and ", kMaxRowsPerDay,
                           ", got ", options.rows_per_day);
  }
  using namespace std::chrono;
  const year_month_day date{year(static_cast<int>(options.start_date / 10000)),
                            month(options.start_date / 100 % 100), day(options.start_date % 100)};
  if (!date.ok() || date.year() < year(1970) || date.year() > year(2200)) {
    return Status::Invalid("synth: start_date must be a valid YYYYMMDD date, got ",
                           options.start_date);
  }
  if (options.dataset.empty()) return Status::Invalid("synth: dataset must not be empty");
  return Status::OK();
}

dbn::Metadata MakeMetadata(const SynthOptions& options, const std::vector<std::string>& names,
                           int64_t days) {
  const uint32_t date = YmdFromDays(days);
  const uint32_t next_date = YmdFromDays(days + 1);
  dbn::Metadata metadata;
  metadata.dataset = options.dataset;
  metadata.schema = dbn::Schema::kMbp10;
  metadata.start = static_cast<uint64_t>(days) * static_cast<uint64_t>(kNanosPerDay);
  metadata.end = metadata.start + static_cast<uint64_t>(kNanosPerDay);
  metadata.stype_in = kStypeRawSymbol;
  metadata.stype_out = kStypeInstrumentId;
  metadata.symbols = names;
  for (size_t k = 0; k < names.size(); ++k) {
    const uint32_t id = kInstrumentIdBase + kInstrumentIdStride * static_cast<uint32_t>(k);
    metadata.mappings.push_back(
        dbn::SymbolMapping{names[k], {dbn::MappingInterval{date, next_date, std::to_string(id)}}});
  }
  return metadata;
}

// Merge the instruments' streams by ts_recv (ties by instrument order) into one file.
[[nodiscard]] Status WriteDay(const std::filesystem::path& path, const dbn::Metadata& metadata,
                              bool zstd, std::vector<SymbolStream>& streams, Rng& rng) {
  ARROW_ASSIGN_OR_RAISE(auto encoder,
                        dbn::Encoder::Open(path, metadata, dbn::EncoderOptions{.zstd = zstd}));
  auto later = [&streams](int a, int b) {
    const uint64_t ta = streams[a].ts_recv();
    const uint64_t tb = streams[b].ts_recv();
    return ta != tb ? ta > tb : a > b;
  };
  std::vector<int> heap;
  heap.reserve(streams.size());
  for (int k = 0; k < static_cast<int>(streams.size()); ++k) {
    if (streams[k].Advance()) heap.push_back(k);
  }
  std::make_heap(heap.begin(), heap.end(), later);
  // The channel's sequence numbers also count messages for instruments not in the file.
  uint32_t sequence = 1'000'000 + rng.Below(4'000'000);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    SymbolStream& stream = streams[heap.back()];
    stream.set_sequence(sequence);
    sequence += rng.Chance(0.03) ? 2 + rng.Below(3) : 1;
    ARROW_RETURN_NOT_OK(encoder->Write(stream.record()));
    if (stream.Advance()) {
      std::push_heap(heap.begin(), heap.end(), later);
    } else {
      heap.pop_back();
    }
  }
  return encoder->Close();
}

}  // namespace

std::vector<std::string> SymbolNames(int n) {
  n = std::clamp(n, 0, kMaxSymbols);
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) {
    names.push_back(std::string(kProducts[k % kProducts.size()].root) +
                    kExpiries[k / kProducts.size()].code);
  }
  return names;
}

Result<std::vector<SynthFile>> WriteMbp10Days(const std::filesystem::path& out_dir,
                                              const SynthOptions& options) {
  ARROW_RETURN_NOT_OK(ValidateOptions(options));
  const std::vector<std::string> names = SymbolNames(options.symbols);
  const std::string prefix = FilePrefix(options.dataset);

  std::vector<SymbolStream> streams;
  streams.reserve(names.size());
  for (int k = 0; k < options.symbols; ++k) streams.emplace_back(k);

  MarketState market;
  for (int u = 0; u < kUnderlyingCount; ++u) market.price[u] = kUnderlyings[u].base_price;
  // Reused every day so that memory stays flat however many days are written.
  DayContext day;

  std::vector<SynthFile> files;
  int64_t days = DaysFromYmd(options.start_date);
  for (int i = 0; i < options.days; ++i, ++days) {
    while (Weekday(days) == 0 || Weekday(days) == 6) ++days;
    const uint32_t date = YmdFromDays(days);
    Rng rng(DeriveSeed(options.seed, date, 0x6d61726b6574));  // "market"
    BuildDay(static_cast<uint64_t>(days) * static_cast<uint64_t>(kNanosPerDay), Weekday(days) == 5, market, rng, day);

    // Volume shares wobble from day to day around each instrument's liquidity.
    std::vector<double> weights(streams.size());
    for (size_t k = 0; k < streams.size(); ++k) {
      weights[k] = streams[k].liquidity() * (0.8 + 0.4 * rng.Uniform());
    }
    const std::vector<int64_t> rows = SplitRows(options.rows_per_day, weights);
    for (size_t k = 0; k < streams.size(); ++k) {
      streams[k].BeginDay(day, rows[k], DeriveSeed(options.seed, date, k + 1));
    }

    const std::filesystem::path path =
        out_dir / fmt::format("{}-{}.mbp-10.dbn{}", prefix, date, options.zstd ? ".zst" : "");
    ARROW_RETURN_NOT_OK(
        WriteDay(path, MakeMetadata(options, names, days), options.zstd, streams, rng));
    files.push_back(SynthFile{path.string(), date, options.rows_per_day});
  }
  return files;
}

}  // namespace tickforge::synth
