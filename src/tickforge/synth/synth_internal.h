// The generator's file writer: the day loop (trading days, the day's market, each
// instrument's share of the rows), the files' metadata, and the merge of the instruments'
// streams into one file per day.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tickforge::synth::internal {

/// Split `rows` by weight with the largest-remainder method, so the shares add up exactly.
[[nodiscard]] std::vector<int64_t> SplitRows(int64_t rows, const std::vector<double>& weights);

/// Return the day of the week of `days` since 1970-01-01: 0 = Sunday ... 6 = Saturday.
[[nodiscard]] int Weekday(int64_t days);

/// Derive an independent stream seed from the run seed and a few labels.
[[nodiscard]] uint64_t DeriveSeed(uint64_t seed, uint64_t a, uint64_t b);

/// Return a dataset's file-name prefix: "GLBX.MDP3" -> "glbx-mdp3".
[[nodiscard]] std::string FilePrefix(const std::string& dataset);

}  // namespace tickforge::synth::internal
