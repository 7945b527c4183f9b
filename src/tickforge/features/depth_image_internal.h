// Pieces of the depth-image aggregation (DESIGN.md §3.4) shared by its other implementations
// (sliding_bins) and by the rendering from bins (render_bins), so they compute the same floats
// the same way.
#pragma once

#include <cstddef>
#include <cstdint>

// x86-64 builds target the baseline (SSE2); a few hot functions are also compiled for AVX2
// and called where the processor has it (HaveAvx2). Other architectures use the scalar loops.
#if defined(__x86_64__)
#define TICKFORGE_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define TICKFORGE_TARGET_AVX2
#endif

namespace tickforge::features::internal {

/// Return whether the processor has AVX2 (checked once).
[[nodiscard]] bool HaveAvx2();

/// Return the sample variance (ddof 1) of v[0..n) by the two-pass formula, summing in row
/// order in double (0 for fewer than two values).
[[nodiscard]] float SampleVariance(const uint32_t* v, size_t n);

}  // namespace tickforge::features::internal
