#include "tickforge/synth/mbo.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "tickforge/dbn/encoder.h"
#include "tickforge/dbn/metadata.h"
#include "tickforge/dbn/records.h"
#include "tickforge/dbn/schema.h"
#include "tickforge/synth/synth_internal.h"
#include "tickforge/synth/universe_internal.h"
#include "tickforge/util/time.h"

namespace tickforge::synth {
namespace {

using internal::Rng;

constexpr int64_t kMaxMessagesPerDay = 1'000'000'000;
constexpr uint64_t kSecond = 1'000'000'000;

// One resting order; its price in ticks.
struct Order {
  uint64_t id;
  int64_t price;
  uint32_t size;
  char side;
};

// One instrument: its tick, its mid (in ticks, shared by its venues) and its order sizes.
struct Instrument {
  uint32_t id;
  int64_t tick;
  int64_t mid;
  double order_size;
  int target_orders;  // resting orders per venue the flow hovers around
  double weight;      // relative message rate
};

// One book: the orders of one instrument at one venue, and per side the orders at each price.
struct Venue {
  int instrument;
  uint16_t publisher_id;
  double weight;
  std::vector<Order> orders;
  std::map<int64_t, uint32_t> bids, asks;

  std::map<int64_t, uint32_t>& levels(char side) { return side == 'B' ? bids : asks; }
};

class Generator {
 public:
  explicit Generator(const MboSynthOptions& options) : options_(options) {
    Rng rng(internal::DeriveSeed(options.seed, 0, 0x626f6f6b73));  // "books"
    for (int k = 0; k < options.symbols; ++k) {
      const auto& product = internal::kProducts[static_cast<size_t>(k) % internal::kProducts.size()];
      const auto& expiry = internal::kExpiries[static_cast<size_t>(k) / internal::kProducts.size()];
      const auto& underlying = internal::kUnderlyings[product.underlying];
      Instrument inst;
      inst.id = internal::InstrumentId(k);
      inst.tick = product.tick;
      inst.mid = std::llround(underlying.base_price * static_cast<double>(dbn::kFixedPriceScale) /
                              static_cast<double>(product.tick));
      inst.order_size = std::max(1.0, product.order_size * expiry.size_factor * 2.0);
      inst.target_orders = 30 + static_cast<int>(product.level_size * expiry.size_factor);
      inst.weight = product.liquidity * expiry.liquidity;
      instruments_.push_back(inst);
      for (int p = 0; p < options.publishers; ++p) {
        Venue venue;
        venue.instrument = k;
        venue.publisher_id = static_cast<uint16_t>(p + 1);
        venue.weight = inst.weight / (1.0 + p);
        venues_.push_back(std::move(venue));
      }
    }
    // The first day's snapshot shows books already resting: both sides around the mid.
    for (Venue& venue : venues_) {
      const Instrument& inst = instruments_[static_cast<size_t>(venue.instrument)];
      for (int i = 0; i < inst.target_orders; ++i) {
        const char side = i % 2 == 0 ? 'B' : 'A';
        const int64_t distance = 1 + static_cast<int64_t>(rng.Exp() * 4.0);
        Rest(venue, side, side == 'B' ? inst.mid - distance : inst.mid + distance, Size(rng, inst));
      }
    }
    double total = 0;
    for (const Venue& venue : venues_) cumulative_.push_back(total += venue.weight);
  }

  Result<SynthFile> WriteDay(const std::filesystem::path& path, int64_t days) {
    const uint32_t date = YmdFromDays(days);
    Rng rng(internal::DeriveSeed(options_.seed, date, 0x6d626f));  // "mbo"
    ARROW_ASSIGN_OR_RAISE(encoder_,
                          dbn::Encoder::Open(path, Metadata(days), dbn::EncoderOptions{.zstd = options_.zstd}));
    const uint64_t day_start = static_cast<uint64_t>(days) * static_cast<uint64_t>(kNanosPerDay);
    records_ = 0;
    last_recv_ = day_start;
    sequence_ = 0;
    ARROW_RETURN_NOT_OK(Snapshot(day_start));

    sequence_ = 1'000'000 + rng.Below(1'000'000);
    const int64_t n = options_.messages_per_day;
    // The flow fills the day after the snapshot's second; records of one event share ts_event.
    const uint64_t span = static_cast<uint64_t>(kNanosPerDay) - 2 * kSecond;
    const uint64_t step = std::max<uint64_t>(1, span / static_cast<uint64_t>(n));
    // Once a day one book is cleared mid-session (an exchange's book reset) and built up again.
    int64_t clear_at = n >= 1000 ? n / 4 + static_cast<int64_t>(rng.Below(static_cast<uint32_t>(n / 2))) : -1;
    const size_t clear_venue = rng.Below(static_cast<uint32_t>(venues_.size()));
    int64_t written = 0;
    while (written < n) {
      const auto offset =
          static_cast<uint64_t>(static_cast<unsigned __int128>(written) * span / static_cast<uint64_t>(n));
      ts_event_ = day_start + kSecond + offset + rng.Below(static_cast<uint32_t>(std::min<uint64_t>(step, UINT32_MAX)));
      const int64_t before = records_;
      if (clear_at >= 0 && written >= clear_at) {
        ARROW_RETURN_NOT_OK(Clear(venues_[clear_venue]));
        clear_at = -1;  // one a day
      } else {
        ARROW_RETURN_NOT_OK(Event(rng, n - written));
      }
      written += records_ - before;
    }
    ARROW_RETURN_NOT_OK(encoder_->Close());
    encoder_.reset();
    return SynthFile{path.string(), date, records_};
  }

 private:
  static uint32_t Size(Rng& rng, const Instrument& inst) {
    return 1 + static_cast<uint32_t>(std::min(rng.Exp() * inst.order_size, 10'000.0));
  }

  void Rest(Venue& venue, char side, int64_t price, uint32_t size) {
    venue.orders.push_back(Order{next_id_++, std::max<int64_t>(price, 1), size, side});
    ++venue.levels(side)[venue.orders.back().price];
  }

  // Take order `i` off the book (its slot is refilled from the back).
  static void Remove(Venue& venue, size_t i) {
    const Order& o = venue.orders[i];
    auto& levels = venue.levels(o.side);
    auto it = levels.find(o.price);
    if (--it->second == 0) levels.erase(it);
    venue.orders[i] = venue.orders.back();
    venue.orders.pop_back();
  }

  // Clamp `price` of `side` so that it does not reach the other side's best.
  static int64_t NotCrossing(const Venue& venue, char side, int64_t price) {
    if (side == 'B' && !venue.asks.empty()) price = std::min(price, venue.asks.begin()->first - 1);
    if (side == 'A' && !venue.bids.empty()) price = std::max(price, venue.bids.rbegin()->first + 1);
    return std::max<int64_t>(price, 1);
  }

  Status Emit(const Venue& venue, char action, char side, uint64_t order_id, int64_t price_ticks, uint32_t size,
              uint8_t flags, uint64_t ts_event) {
    const Instrument& inst = instruments_[static_cast<size_t>(venue.instrument)];
    dbn::MboMsg m;
    std::memset(&m, 0, sizeof m);
    m.hd = {dbn::LengthOf<dbn::MboMsg>(), dbn::rtype::kMbo, venue.publisher_id, inst.id, ts_event};
    m.order_id = order_id;
    m.price = price_ticks == INT64_MIN ? dbn::kUndefPrice : price_ticks * inst.tick;
    m.size = size;
    m.flags = flags;
    m.action = action;
    m.side = side;
    const bool snapshot = (flags & dbn::flag::kSnapshot) != 0;
    if (snapshot) {
      m.ts_recv = ts_event;
    } else {
      // Every record of an event is received together, and never before the previous one.
      if (event_recv_ == 0) {
        event_recv_ = std::max(last_recv_, ts_event + 300 + static_cast<uint64_t>(latency_++ % 7) * 100);
      }
      m.ts_recv = event_recv_;
      if ((flags & dbn::flag::kLast) != 0) event_recv_ = 0;
    }
    last_recv_ = m.ts_recv;
    m.ts_in_delta = static_cast<int32_t>(m.ts_recv - ts_event) / 2;
    m.sequence = snapshot ? 0 : sequence_++;
    ++records_;
    return encoder_->Write(m);
  }

  // Each book as it rests: a Clear, then its orders, all flagged as a snapshot.
  Status Snapshot(uint64_t ts) {
    constexpr uint8_t kSnap = dbn::flag::kSnapshot;
    for (const Venue& venue : venues_) {
      const uint8_t last = venue.orders.empty() ? dbn::flag::kLast : 0;
      ARROW_RETURN_NOT_OK(Emit(venue, 'R', 'N', 0, INT64_MIN, 0, kSnap | last, ts));
      for (size_t i = 0; i < venue.orders.size(); ++i) {
        const Order& o = venue.orders[i];
        const uint8_t end = i + 1 == venue.orders.size() ? dbn::flag::kLast : 0;
        ARROW_RETURN_NOT_OK(Emit(venue, 'A', o.side, o.id, o.price, o.size, kSnap | end, ts));
      }
    }
    return Status::OK();
  }

  Status Clear(Venue& venue) {
    venue.orders.clear();
    venue.bids.clear();
    venue.asks.clear();
    return Emit(venue, 'R', 'N', 0, INT64_MIN, 0, dbn::flag::kLast, ts_event_);
  }

  // One event on a book drawn by its rate, as many records as `room` allows (at least one).
  Status Event(Rng& rng, int64_t room) {
    const double pick = rng.Uniform() * cumulative_.back();
    const size_t v = std::min<size_t>(
        static_cast<size_t>(std::lower_bound(cumulative_.begin(), cumulative_.end(), pick) - cumulative_.begin()),
        venues_.size() - 1);
    Venue& venue = venues_[v];
    Instrument& inst = instruments_[static_cast<size_t>(venue.instrument)];
    // The mid wanders a tick at a time, for every venue of the instrument.
    if (rng.Chance(0.03)) inst.mid = std::max<int64_t>(inst.mid + (rng.Chance(0.5) ? 1 : -1), 10);

    const size_t live = venue.orders.size();
    // Adds grow more likely as the book thins, so it hovers around its target.
    const double p_add =
        live == 0 ? 1.0 : std::clamp(0.45 * inst.target_orders / static_cast<double>(live), 0.05, 0.95);
    const double r = rng.Uniform();
    if (r < p_add) return Add(rng, venue, inst);
    const double rest = (r - p_add) / (1.0 - p_add);
    if (rest < 0.55) return Cancel(rng, venue);
    if (rest < 0.75 || room < 3) return Modify(rng, venue, inst);
    return Trade(rng, venue, inst, room);
  }

  Status Add(Rng& rng, Venue& venue, const Instrument& inst) {
    const char side = rng.Chance(0.5) ? 'B' : 'A';
    const int64_t distance = 1 + std::min<int64_t>(static_cast<int64_t>(rng.Exp() * 3.0), 60);
    const int64_t price = NotCrossing(venue, side, side == 'B' ? inst.mid - distance : inst.mid + distance);
    Rest(venue, side, price, Size(rng, inst));
    const Order& o = venue.orders.back();
    return Emit(venue, 'A', side, o.id, o.price, o.size, dbn::flag::kLast, ts_event_);
  }

  Status Cancel(Rng& rng, Venue& venue) {
    const size_t i = rng.Below(static_cast<uint32_t>(venue.orders.size()));
    Order o = venue.orders[i];
    uint32_t size = o.size;
    if (o.size > 1 && rng.Chance(0.25)) {
      size = 1 + rng.Below(o.size - 1);
      venue.orders[i].size -= size;
    } else {
      Remove(venue, i);
    }
    return Emit(venue, 'C', o.side, o.id, o.price, size, dbn::flag::kLast, ts_event_);
  }

  Status Modify(Rng& rng, Venue& venue, const Instrument& inst) {
    const size_t i = rng.Below(static_cast<uint32_t>(venue.orders.size()));
    Order& o = venue.orders[i];
    const int64_t price = NotCrossing(venue, o.side, o.price + static_cast<int64_t>(rng.Below(5)) - 2);
    if (price != o.price) {
      auto& levels = venue.levels(o.side);
      auto it = levels.find(o.price);
      if (--it->second == 0) levels.erase(it);
      ++levels[price];
      o.price = price;
    }
    o.size = Size(rng, inst);
    return Emit(venue, 'M', o.side, o.id, o.price, o.size, dbn::flag::kLast, ts_event_);
  }

  // An aggressor takes resting orders at the other side's best price, oldest first.
  Status Trade(Rng& rng, Venue& venue, const Instrument& inst, int64_t room) {
    const char aggressor = rng.Chance(0.5) ? 'B' : 'A';
    const char resting = aggressor == 'B' ? 'A' : 'B';
    auto& levels = venue.levels(resting);
    if (levels.empty()) return Add(rng, venue, inst);
    const int64_t best = resting == 'B' ? levels.rbegin()->first : levels.begin()->first;
    at_best_.clear();
    for (size_t i = 0; i < venue.orders.size(); ++i) {
      if (venue.orders[i].side == resting && venue.orders[i].price == best) at_best_.push_back(i);
    }
    std::sort(at_best_.begin(), at_best_.end(),
              [&](size_t a, size_t b) { return venue.orders[a].id < venue.orders[b].id; });
    uint64_t want = 1 + static_cast<uint64_t>(rng.Exp() * inst.order_size * 1.5);
    const size_t max_fills = static_cast<size_t>((room - 1) / 2);
    fills_.clear();
    uint64_t total = 0;
    for (size_t i : at_best_) {
      if (want == 0 || fills_.size() == max_fills) break;
      const uint32_t q = static_cast<uint32_t>(std::min<uint64_t>(want, venue.orders[i].size));
      fills_.push_back({i, q});
      want -= q;
      total += q;
    }
    ARROW_RETURN_NOT_OK(Emit(venue, 'T', aggressor, 0, best, static_cast<uint32_t>(total), 0, ts_event_));
    for (size_t f = 0; f < fills_.size(); ++f) {
      const Order& o = venue.orders[fills_[f].first];
      const uint8_t last = f + 1 == fills_.size() ? dbn::flag::kLast : 0;
      ARROW_RETURN_NOT_OK(Emit(venue, 'F', resting, o.id, best, fills_[f].second, 0, ts_event_));
      ARROW_RETURN_NOT_OK(Emit(venue, 'C', resting, o.id, best, fills_[f].second, last, ts_event_));
    }
    // Take the filled sizes off; remove the orders filled completely, highest slot first so the
    // lower slots stay where they are.
    std::vector<size_t>& gone = at_best_;
    gone.clear();
    for (const auto& [i, q] : fills_) {
      venue.orders[i].size -= q;
      if (venue.orders[i].size == 0) gone.push_back(i);
    }
    std::sort(gone.rbegin(), gone.rend());
    for (size_t i : gone) {
      venue.orders[i].size = 0;
      Remove(venue, i);
    }
    return Status::OK();
  }

  dbn::Metadata Metadata(int64_t days) const {
    dbn::Metadata metadata;
    metadata.dataset = options_.dataset;
    metadata.schema = dbn::Schema::kMbo;
    metadata.start = static_cast<uint64_t>(days) * static_cast<uint64_t>(kNanosPerDay);
    metadata.end = metadata.start + static_cast<uint64_t>(kNanosPerDay);
    metadata.stype_in = 1;   // raw symbol
    metadata.stype_out = 0;  // instrument id
    const auto names = SymbolNames(options_.symbols);
    metadata.symbols = names;
    for (size_t k = 0; k < names.size(); ++k) {
      metadata.mappings.push_back(dbn::SymbolMapping{
          names[k], {dbn::MappingInterval{YmdFromDays(days), YmdFromDays(days + 1),
                                          std::to_string(instruments_[k].id)}}});
    }
    return metadata;
  }

  MboSynthOptions options_;
  std::vector<Instrument> instruments_;
  std::vector<Venue> venues_;
  std::vector<double> cumulative_;
  std::unique_ptr<dbn::Encoder> encoder_;
  uint64_t next_id_ = 1'000'000;
  uint64_t ts_event_ = 0;
  uint64_t last_recv_ = 0;
  uint64_t event_recv_ = 0;
  uint64_t latency_ = 0;
  uint32_t sequence_ = 0;
  int64_t records_ = 0;
  std::vector<size_t> at_best_;
  std::vector<std::pair<size_t, uint32_t>> fills_;
};

Status Validate(const MboSynthOptions& options) {
  if (options.symbols < 1 || options.symbols > kMaxSymbols) {
    return Status::Invalid("synth mbo: symbols must be between 1 and ", kMaxSymbols, ", got ", options.symbols);
  }
  if (options.publishers < 1 || options.publishers > kMaxPublishers) {
    return Status::Invalid("synth mbo: publishers must be between 1 and ", kMaxPublishers, ", got ",
                           options.publishers);
  }
  if (options.days < 1) return Status::Invalid("synth mbo: days must be at least 1, got ", options.days);
  if (options.messages_per_day < 1 || options.messages_per_day > kMaxMessagesPerDay) {
    return Status::Invalid("synth mbo: messages_per_day must be between 1 and ", kMaxMessagesPerDay, ", got ",
                           options.messages_per_day);
  }
  using namespace std::chrono;
  const year_month_day date{year(static_cast<int>(options.start_date / 10000)), month(options.start_date / 100 % 100),
                            day(options.start_date % 100)};
  if (!date.ok() || date.year() < year(1970) || date.year() > year(2200)) {
    return Status::Invalid("synth mbo: start_date must be a valid YYYYMMDD date, got ", options.start_date);
  }
  if (options.dataset.empty()) return Status::Invalid("synth mbo: dataset must not be empty");
  return Status::OK();
}

}  // namespace

Result<std::vector<SynthFile>> WriteMboDays(const std::filesystem::path& out_dir, const MboSynthOptions& options) {
  ARROW_RETURN_NOT_OK(Validate(options));
  Generator generator(options);
  const std::string prefix = internal::FilePrefix(options.dataset);
  std::vector<SynthFile> files;
  int64_t days = DaysFromYmd(options.start_date);
  for (int i = 0; i < options.days; ++i, ++days) {
    const auto path = out_dir / fmt::format("{}-{}.mbo.dbn{}", prefix, YmdFromDays(days), options.zstd ? ".zst" : "");
    ARROW_ASSIGN_OR_RAISE(auto file, generator.WriteDay(path, days));
    files.push_back(std::move(file));
  }
  return files;
}

}  // namespace tickforge::synth
