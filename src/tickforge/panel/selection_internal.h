// The cross-sectional selection of max_cs_samples as the panel computes it row by row: the
// selection hash from hashes made once per panel and per symbol, and a row's place in the
// ranking. The plan's first pass finds each timestamp's threshold with them; the per-symbol
// streams keep the rows under it.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>

#include "tickforge/util/random.h"

namespace tickforge::panel {

/// Return SelectionHash() from splitmix64(seed) and fnv1a64(symbol), hashed once beforehand.
[[nodiscard]] inline uint64_t SelectionHashOf(uint64_t seed_hash, int64_t t, uint64_t symbol_hash) {
  return SplitMix64(SplitMix64(seed_hash ^ static_cast<uint64_t>(t)) ^ symbol_hash);
}

/// A row's place in the max_cs_samples ranking: smaller is chosen first.
struct SelectionKey {
  uint64_t hash;
  uint32_t symbol;
  auto operator<=>(const SelectionKey&) const = default;
};

/// The threshold of a timestamp with fewer than max_cs_samples candidates: every row is kept.
inline constexpr SelectionKey kSelectAll{std::numeric_limits<uint64_t>::max(), std::numeric_limits<uint32_t>::max()};

}  // namespace tickforge::panel
