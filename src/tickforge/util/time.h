// Calendar and clock arithmetic shared by every module: days since the epoch and YYYYMMDD dates
// (through std::chrono's civil calendar), floor division for negative times, nanosecond
// timestamps as text, and the Binance kline intervals.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tickforge/util/status.h"

namespace tickforge {

inline constexpr int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr int64_t kNanosPerDay = 86'400 * kNanosPerSecond;
inline constexpr int64_t kMillisPerDay = 86'400'000;

/// Return a / b rounded toward negative infinity (b != 0).
[[nodiscard]] constexpr int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/// Parse "YYYY-MM-DD" or "YYYYMMDD" into a YYYYMMDD integer, checking it is a real date.
[[nodiscard]] Result<uint32_t> ParseIsoDate(std::string_view text);
/// Return whether `ymd` (YYYYMMDD) names a real calendar date.
[[nodiscard]] bool IsValidYmd(uint32_t ymd);
/// Convert a YYYYMMDD date to days since 1970-01-01.
[[nodiscard]] int64_t DaysFromYmd(uint32_t ymd);
/// Convert days since 1970-01-01 to a YYYYMMDD date.
[[nodiscard]] uint32_t YmdFromDays(int64_t days);
/// Format a YYYYMMDD date as "YYYY-MM-DD".
[[nodiscard]] std::string FormatYmd(uint32_t ymd);
/// Format UNIX nanoseconds as "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ".
[[nodiscard]] std::string FormatTimestampNs(uint64_t ns);

/// Return the length of a Binance kline interval ("1s" ... "1w") in milliseconds, or nullopt
/// for an unknown name and for "1mo", whose length varies.
[[nodiscard]] std::optional<int64_t> KlineIntervalMillis(std::string_view interval);
/// Return whether `interval` is one of Binance's kline intervals ("1mo" included).
[[nodiscard]] bool IsKlineInterval(std::string_view interval);

}  // namespace tickforge
