// The record stream of one instrument: each record takes the next of the day's sorted
// uniform arrival points in activity time, which places it in the day's hours (timestamps,
// with the exchange's and the capture's latencies) and on the day's price path (the fair price
// the book follows); a packet is a lead event and the book updates that follow it at the same
// timestamps, the last one flagged.
#include "tickforge/synth/stream_internal.h"

#include <algorithm>
#include <cmath>

namespace tickforge::synth::internal {
namespace {

constexpr uint8_t kFlagLast = 128;
constexpr uint16_t kPublisherId = 1;

}  // namespace

SymbolStream::SymbolStream(int index)
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
  msg_.hd.length = dbn::LengthOf<dbn::Mbp10Msg>();
  msg_.hd.rtype = dbn::rtype::kMbp10;
  msg_.hd.publisher_id = kPublisherId;
  msg_.hd.instrument_id = InstrumentId(index);
}

void SymbolStream::BeginDay(const DayContext& day, int64_t rows, uint64_t seed) {
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

bool SymbolStream::Advance() {
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

// Place the next packet: its timestamps from the arrival point's activity time, and the fair
// price and regime it sees.
void SymbolStream::StartPacket() {
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

}  // namespace tickforge::synth::internal
