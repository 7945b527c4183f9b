// The data-quality checks' settings (their defaults live here only).
#pragma once

#include <cstdint>

namespace tickforge::quality {

struct Options {
  /// Example rows kept per check and file.
  int max_examples = 5;
  /// A book's mid moves "too far" when |Δmid| exceeds this many MADs of the partition's
  /// nonzero mid changes (MAD about zero: the median of |Δmid|).
  double mid_jump_mads = 25.0;
  /// The MAD comes from the first this many nonzero mid changes of a partition (all of them
  /// when it has fewer, or those seen before the writer evicts the partition); later changes
  /// are compared with that threshold as they stream by. 24 bytes a change while it waits.
  int64_t mad_window = 1 << 14;
};

}  // namespace tickforge::quality
