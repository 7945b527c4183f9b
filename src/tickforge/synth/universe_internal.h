// The generator's instrument universe: FX futures on eight currencies against USD, quoted as
// USD per unit of the currency, as CME lists them (the underlyings with their volatility and
// carry, the products with their tick and book sizes, the quarterly expiries), the instrument
// ids the files carry, and the one random generator every piece draws from.
#pragma once

#include <array>
#include <cstdint>

#include "tickforge/synth/synth.h"
#include "tickforge/util/random.h"

namespace tickforge::synth::internal {

/// Random numbers: xoshiro256** (util/random.h) and explicit transforms, so that the same
/// seed gives the same bytes with any standard library.
using Rng = Xoshiro256;

struct Underlying {
  double base_price;     // USD per unit, around spring 2024
  double daily_vol;      // standard deviation of one day's log return
  double usd_loading;    // correlation with the common USD factor
  double carry;          // futures premium per quarter of expiry (rate differential / 4)
};

enum UnderlyingId { kAud, kEur, kGbp, kJpy, kCad, kChf, kNzd, kMxn, kUnderlyingCount };

inline constexpr std::array<Underlying, kUnderlyingCount> kUnderlyings = {{
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
inline constexpr std::array<Product, 16> kProducts = {{
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
inline constexpr std::array<Expiry, 4> kExpiries = {{
    {"M4", 1.0, 1.0, 1.0},
    {"U4", 0.12, 0.4, 0.7},
    {"Z4", 0.05, 0.25, 0.5},
    {"H5", 0.02, 0.2, 0.4},
}};

/// Return the instrument id of the `index`-th instrument (SymbolNames order).
constexpr uint32_t InstrumentId(int index) {
  constexpr uint32_t kInstrumentIdBase = 1000;
  constexpr uint32_t kInstrumentIdStride = 7;
  return kInstrumentIdBase + kInstrumentIdStride * static_cast<uint32_t>(index);
}

}  // namespace tickforge::synth::internal
