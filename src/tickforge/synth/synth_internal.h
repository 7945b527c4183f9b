// The generator's file writer: the day loop (trading days, the day's market, each
// instrument's share of the rows), the files' metadata, and the merge of the instruments'
// streams into one file per day.
#pragma once

#include <cstdint>
#include <vector>

namespace tickforge::synth::internal {

/// Split `rows` by weight with the largest-remainder method, so the shares add up exactly.
[[nodiscard]] std::vector<int64_t> SplitRows(int64_t rows, const std::vector<double>& weights);

/// Return the day of the week of `days` since 1970-01-01: 0 = Sunday ... 6 = Saturday.
[[nodiscard]] int Weekday(int64_t days);

}  // namespace tickforge::synth::internal
