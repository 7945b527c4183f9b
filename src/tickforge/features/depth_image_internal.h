// Pieces of the depth-image aggregation (DESIGN.md §3.4) shared by its other implementations
// (sliding_bins), so they compute the same floats the same way.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tickforge::features::internal {

/// Return the sample variance (ddof 1) of v[0..n) by the two-pass formula, summing in row
/// order in double (0 for fewer than two values).
[[nodiscard]] float SampleVariance(const uint32_t* v, size_t n);

}  // namespace tickforge::features::internal
