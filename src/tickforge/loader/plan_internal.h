// The loader's epoch plan (DESIGN.md §3.5): which samples each batch of an epoch holds, a
// seeded function of (seed, epoch, rank) alone, so any batch can be planned again (resume,
// DataLoader workers) without rendering the ones before it.
#pragma once

#include <cstdint>
#include <vector>

#include "tickforge/loader/index_internal.h"
#include "tickforge/loader/loader.h"
#include "tickforge/util/random.h"

namespace tickforge::loader::internal {

/// Return the plan's generator for `key`: the SplitMix64 sequence from key × golden gamma (so
/// that consecutive keys start far apart).
[[nodiscard]] inline Rng PlanRng(uint64_t key) { return Rng(key * kGoldenGamma); }

/// Return the epoch's batches back to back: batch b is plan[b·B, (b+1)·B), indices into
/// index.samples. Each batch holds floor(B/C) samples of each of the C classes this rank has,
/// and one more of B mod C classes drawn per batch; each class's samples are used in passes,
/// each pass in a seeded order (segment block by segment block when options.locality).
/// class_symbol_uniform spreads each class's count evenly over the symbols holding that class
/// (a stream per class and symbol); natural deals one seeded order of every rank's samples out
/// in global batches, batch g to rank g mod world_size (docs/loader.md).
[[nodiscard]] std::vector<uint32_t> PlanEpoch(const SampleIndex& index, const LoaderOptions& options, int64_t epoch);

}  // namespace tickforge::loader::internal
