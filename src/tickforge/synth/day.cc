// One trading day's shared market: the hours' weights, then the regime path (Markov switching
// between calm and volatile) and each underlying's price path (a common USD factor plus its
// own shocks, around a slow trend pulled back towards the base level).
#include "tickforge/synth/day_internal.h"

#include <cmath>

namespace tickforge::synth::internal {

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

}  // namespace tickforge::synth::internal
