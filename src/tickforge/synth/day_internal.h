// One trading day's shared market: when activity happens (the hours' message rates, the
// maintenance break) and where prices go (one path per underlying, with calm and volatile
// regimes). Every symbol reads the same paths in "activity time" x in [0, 1), the fraction of
// the day's messages so far, so related contracts (6E and M6E, front and deferred) move
// together.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "tickforge/synth/universe_internal.h"

namespace tickforge::synth::internal {

inline constexpr int64_t kNsPerHour = 3'600'000'000'000;

/// Resolution of the per-day price and regime paths in activity time: about ten seconds of a
/// typical hour, fine enough that the book never sees the interpolation.
inline constexpr int kGridCells = 8192;

/// Relative message rate per UTC hour for CME FX: quiet Asian hours, London from 07:00, the
/// US data releases and the London fix at 12:30 to 15:00, nothing during the 21:00
/// maintenance break (17:00 Chicago in daylight saving time).
inline constexpr std::array<double, 24> kHourWeights = {
    0.35, 0.45, 0.35, 0.30, 0.25, 0.30, 0.60, 1.00, 1.00, 0.85, 0.75, 0.70,
    1.30, 1.80, 1.60, 1.20, 0.80, 0.60, 0.50, 0.40, 0.30, 0.00, 0.25, 0.30};
inline constexpr int kMaintenanceHour = 21;

/// What carries over from one day to the next: each underlying's price and the regime.
struct MarketState {
  std::array<double, kUnderlyingCount> price{};
  bool volatile_regime = false;
};

/// One day's activity and paths.
struct DayContext {
  uint64_t start_ns = 0;
  std::array<double, 24> hour_weight{};
  std::array<double, 25> hour_cum{};  // hour_cum[h] = weight of the hours before h
  std::array<std::vector<double>, kUnderlyingCount> price;  // kGridCells + 1 points each
  std::vector<uint8_t> volatile_cell;                         // kGridCells entries
};

/// Fill `day` (its buffers reused) for the day starting at `start_ns`, drawing from `rng`: the
/// paths start at `market`'s prices and regime, and `market` moves on to where they end. On a
/// Friday the market closes for the weekend at the maintenance break.
void BuildDay(uint64_t start_ns, bool friday, MarketState& market, Rng& rng, DayContext& day);

}  // namespace tickforge::synth::internal
