#include "tickforge/synth/stream_internal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "tickforge/util/random.h"

namespace tickforge::synth::internal {
namespace {

using dbn::Mbp10Msg;

constexpr uint64_t kNsPerDay = 24 * static_cast<uint64_t>(kNsPerHour);
constexpr uint64_t kStreamMonday = 19814ULL * kNsPerDay;  // 2024-04-01

// Run instrument `index` through Monday to Friday, `rows` records a day, and hand each record
// to fn(record, day, friday).
void RunWeek(int index, int64_t rows, uint64_t seed,
             const std::function<void(const Mbp10Msg&, const DayContext&, bool)>& fn) {
  SymbolStream stream(index);
  MarketState market;
  for (int u = 0; u < kUnderlyingCount; ++u) market.price[u] = kUnderlyings[u].base_price;
  DayContext day;
  for (int d = 0; d < 5; ++d) {
    const bool friday = d == 4;
    Rng rng(seed * 100 + static_cast<uint64_t>(d));
    BuildDay(kStreamMonday + static_cast<uint64_t>(d) * kNsPerDay, friday, market, rng, day);
    stream.BeginDay(day, rows, seed * 1000 + static_cast<uint64_t>(d));
    int64_t n = 0;
    while (stream.Advance()) {
      fn(stream.record(), day, friday);
      ++n;
    }
    ASSERT_EQ(n, rows) << "day " << d;
    EXPECT_FALSE(stream.Advance());
  }
}

uint64_t HashOfWeek(int index, uint64_t seed) {
  std::string bytes;
  RunWeek(index, 3000, seed, [&](const Mbp10Msg& m, const DayContext&, bool) {
    bytes.append(reinterpret_cast<const char*>(&m), sizeof(m));
  });
  return Fnv1a64(bytes);
}

TEST(SymbolStreamTest, TheSameSeedsGiveTheSameRecords) {
  for (int index : {0, 7, 40}) {
    EXPECT_EQ(HashOfWeek(index, 1), HashOfWeek(index, 1)) << index;
    EXPECT_NE(HashOfWeek(index, 1), HashOfWeek(index, 2)) << index;
  }
  EXPECT_NE(HashOfWeek(0, 1), HashOfWeek(1, 1));
}

// Products with each tick size, the JPY contracts' fine ticks, and deferred expiries with
// their thin books.
class StreamBookTest : public ::testing::TestWithParam<int> {};

TEST_P(StreamBookTest, BooksAreOnTickOrderedAndFollowTheDaysPath) {
  const int index = GetParam();
  const Product& product = kProducts[static_cast<size_t>(index) % kProducts.size()];
  const int64_t tick = product.tick;
  const double basis = 1.0 + kUnderlyings[product.underlying].carry * static_cast<double>(index / kProducts.size());
  std::map<std::string, int64_t> violations;
  int64_t two_sided = 0, off_path = 0;
  bool have_previous = false;
  Mbp10Msg previous{};
  uint64_t range_of = 1;  // the day whose path range lo, hi hold
  double lo = 0, hi = 0;
  RunWeek(index, 8000, 3, [&](const Mbp10Msg& m, const DayContext& day, bool) {
    const auto fail = [&](const char* what) { ++violations[what]; };
    if (m.hd.instrument_id != InstrumentId(index)) fail("instrument id");
    if (m.hd.rtype != dbn::rtype::kMbp10 || m.hd.length * 4 != sizeof(Mbp10Msg)) fail("header");
    if (m.price <= 0 || m.price % tick != 0) fail("event price on tick");
    if (m.depth >= kDepth) fail("depth");
    int defined[2] = {0, 0};
    for (int s = 0; s < 2; ++s) {
      bool ended = false;
      for (int i = 0; i < kDepth; ++i) {
        const auto& l = m.levels[i];
        const int64_t px = s == kBid ? l.bid_px : l.ask_px;
        const uint32_t sz = s == kBid ? l.bid_sz : l.ask_sz;
        const uint32_t ct = s == kBid ? l.bid_ct : l.ask_ct;
        if (px == dbn::kUndefPrice) {
          ended = true;
          if (sz != 0 || ct != 0) fail("undefined level is empty");
          continue;
        }
        if (ended) fail("undefined levels only at the far end");
        ++defined[s];
        if (px <= 0 || px % tick != 0) fail("level price on tick");
        if (sz == 0 || ct < 1 || ct > sz) fail("size and count");
        if (i > 0) {
          const int64_t above = s == kBid ? m.levels[i - 1].bid_px : m.levels[i - 1].ask_px;
          if (s == kBid ? px >= above : px <= above) fail("levels strictly ordered");
        }
      }
    }
    // Outside the rare episodes both sides show all ten levels and the mid stays on the
    // day's path of its underlying (times the expiry's basis), within a few ticks.
    if (defined[kBid] == kDepth && defined[kAsk] == kDepth && m.levels[0].bid_px < m.levels[0].ask_px) {
      ++two_sided;
      if (range_of != day.start_ns) {
        const auto& path = day.price[product.underlying];
        const auto [min, max] = std::minmax_element(path.begin(), path.end());
        lo = *min * basis * 1e9;
        hi = *max * basis * 1e9;
        range_of = day.start_ns;
      }
      const double mid = 0.5 * static_cast<double>(m.levels[0].bid_px + m.levels[0].ask_px);
      const double margin = 5.0 * static_cast<double>(tick);
      if (mid < lo - margin || mid > hi + margin) ++off_path;
    }
    // A record that is not the last of its packet shares its timestamps with the next one.
    if (have_previous && previous.flags == 0 &&
        (m.ts_recv != previous.ts_recv || m.hd.ts_event != previous.hd.ts_event)) {
      fail("packet shares timestamps");
    }
    previous = m;
    have_previous = true;
  });
  for (const auto& [what, n] : violations) ADD_FAILURE() << what << ": " << n << " records";
  EXPECT_GT(two_sided, 5 * 8000 * 9 / 10);
  EXPECT_EQ(off_path, 0);
}

INSTANTIATE_TEST_SUITE_P(Instruments, StreamBookTest, ::testing::Values(0, 3, 6, 7, 13, 20, 47, 63));

TEST(SymbolStreamTest, RecordsKeepTimeOrderInsideTheDayAndTheMaintenanceBreakQuiet) {
  for (int index : {0, 5, 30}) {
    SCOPED_TRACE(index);
    std::map<std::string, int64_t> violations;
    uint64_t last_recv = 0, last_event = 0, day_start = 0;
    bool last_flagged = true;
    std::map<uint64_t, int64_t> per_hour;
    RunWeek(index, 6000, 4, [&](const Mbp10Msg& m, const DayContext& day, bool friday) {
      const auto fail = [&](const char* what) { ++violations[what]; };
      if (day.start_ns != day_start) {
        // A new day: the one before ended with a flagged record.
        if (!last_flagged) fail("the day's last record ends its packet");
        day_start = day.start_ns;
        last_recv = last_event = day.start_ns;
      }
      if (m.ts_recv < last_recv) fail("ts_recv sorted");
      if (m.hd.ts_event < last_event) fail("ts_event sorted");
      if (m.hd.ts_event > m.ts_recv || m.hd.ts_event < day.start_ns) fail("ts_event before ts_recv in the day");
      if (m.ts_recv >= day.start_ns + kNsPerDay) fail("ts_recv in the day");
      if (m.ts_in_delta <= 0) fail("ts_in_delta");
      const uint64_t hour = (m.ts_recv - day.start_ns) / static_cast<uint64_t>(kNsPerHour);
      if (hour == static_cast<uint64_t>(kMaintenanceHour)) fail("the maintenance break is quiet");
      if (friday && hour >= static_cast<uint64_t>(kMaintenanceHour)) fail("Friday closes at the break");
      if (m.flags != 0 && m.flags != 128) fail("flags");
      ++per_hour[hour];
      last_recv = m.ts_recv;
      last_event = m.hd.ts_event;
      last_flagged = m.flags == 128;
    });
    for (const auto& [what, n] : violations) ADD_FAILURE() << what << ": " << n << " records";
    EXPECT_TRUE(last_flagged);
    // Activity follows the hours' weights: the busiest hour (13:00) beats the quietest open one.
    EXPECT_GT(per_hour[13], 2 * per_hour[4]);
    EXPECT_EQ(per_hour.count(static_cast<uint64_t>(kMaintenanceHour)), 0u);
  }
}

}  // namespace
}  // namespace tickforge::synth::internal
