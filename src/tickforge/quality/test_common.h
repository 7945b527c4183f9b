// What the quality/ tests share: the times their kline rows are made of.
#pragma once

#include <cstdint>

namespace tickforge::quality {

inline constexpr int64_t kMinute = 60'000;            // ms
inline constexpr int64_t k20240101 = 1704067200000LL;  // 2024-01-01 00:00 UTC, ms

}  // namespace tickforge::quality
