#include "tickforge/synth/day_internal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace tickforge::synth::internal {
namespace {

constexpr uint64_t kMonday = 19814ULL * 86'400'000'000'000ULL;  // 2024-04-01

MarketState BaseMarket() {
  MarketState market;
  for (int u = 0; u < kUnderlyingCount; ++u) market.price[u] = kUnderlyings[u].base_price;
  return market;
}

TEST(BuildDayTest, TheSameSeedGivesTheSamePathsAnotherSeedOthers) {
  DayContext a, b, c;
  MarketState ma = BaseMarket(), mb = BaseMarket(), mc = BaseMarket();
  Rng ra(17), rb(17), rc(18);
  BuildDay(kMonday, false, ma, ra, a);
  BuildDay(kMonday, false, mb, rb, b);
  BuildDay(kMonday, false, mc, rc, c);
  for (int u = 0; u < kUnderlyingCount; ++u) {
    EXPECT_EQ(a.price[u], b.price[u]) << u;
    EXPECT_NE(a.price[u], c.price[u]) << u;
    EXPECT_EQ(ma.price[u], mb.price[u]) << u;
  }
  EXPECT_EQ(a.volatile_cell, b.volatile_cell);
  EXPECT_EQ(a.hour_cum, b.hour_cum);
  EXPECT_EQ(a.start_ns, kMonday);
}

TEST(BuildDayTest, PathsAreContinuousWithinAndAcrossDays) {
  MarketState market = BaseMarket();
  Rng rng(5);
  DayContext day;
  std::array<double, kUnderlyingCount> end_of_previous = market.price;
  int volatile_days = 0;
  for (int d = 0; d < 20; ++d) {
    BuildDay(kMonday + static_cast<uint64_t>(d) * 86'400'000'000'000ULL, false, market, rng, day);
    for (int u = 0; u < kUnderlyingCount; ++u) {
      const auto& path = day.price[u];
      ASSERT_EQ(path.size(), static_cast<size_t>(kGridCells) + 1);
      // Each day starts where the one before ended, and the market moves on to its end.
      EXPECT_EQ(path.front(), end_of_previous[u]) << "day " << d << " underlying " << u;
      EXPECT_EQ(market.price[u], path.back());
      end_of_previous[u] = path.back();
      // No jumps: one cell is about ten seconds, a volatile cell's standard deviation is
      // daily_vol·sqrt(3.5/8192), so 2e-3 is above ten of them for every product.
      double largest = 0;
      for (size_t g = 1; g < path.size(); ++g) largest = std::max(largest, std::abs(std::log(path[g] / path[g - 1])));
      EXPECT_LT(largest, 2e-3) << "day " << d << " underlying " << u;
      EXPECT_GT(largest, 0.0);
    }
    ASSERT_EQ(day.volatile_cell.size(), static_cast<size_t>(kGridCells));
    // The regime carries over too.
    EXPECT_EQ(market.volatile_regime, day.volatile_cell.back() != 0);
    const auto volatile_cells = std::count(day.volatile_cell.begin(), day.volatile_cell.end(), 1);
    EXPECT_LT(volatile_cells, kGridCells / 2) << "day " << d;
    volatile_days += volatile_cells > 0 ? 1 : 0;
  }
  EXPECT_GT(volatile_days, 10);
}

TEST(BuildDayTest, PricesStayNearTheirBaseOverMonths) {
  MarketState market = BaseMarket();
  Rng rng(9);
  DayContext day;
  for (int d = 0; d < 250; ++d) {
    BuildDay(kMonday + static_cast<uint64_t>(d) * 86'400'000'000'000ULL, false, market, rng, day);
    for (int u = 0; u < kUnderlyingCount; ++u) {
      const double ratio = market.price[u] / kUnderlyings[u].base_price;
      ASSERT_GT(ratio, 0.7) << "day " << d << " underlying " << u;
      ASSERT_LT(ratio, 1.4) << "day " << d << " underlying " << u;
    }
  }
}

TEST(BuildDayTest, TheMaintenanceBreakIsQuietAndFridayClosesThere) {
  for (bool friday : {false, true}) {
    SCOPED_TRACE(friday ? "Friday" : "Monday");
    MarketState market = BaseMarket();
    Rng rng(1);
    DayContext day;
    BuildDay(kMonday, friday, market, rng, day);
    EXPECT_EQ(day.hour_cum[0], 0.0);
    for (int h = 0; h < 24; ++h) {
      EXPECT_EQ(day.hour_cum[h + 1], day.hour_cum[h] + day.hour_weight[h]) << h;
      const bool open = h < kMaintenanceHour || (!friday && h > kMaintenanceHour);
      EXPECT_EQ(day.hour_weight[h] > 0, open) << h;
      if (open) {
        EXPECT_EQ(day.hour_weight[h], kHourWeights[h]) << h;
      }
    }
    EXPECT_EQ(day.hour_cum[24] == day.hour_cum[kMaintenanceHour], friday);
  }
}

}  // namespace
}  // namespace tickforge::synth::internal
