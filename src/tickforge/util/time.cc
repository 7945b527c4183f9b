#include "tickforge/util/time.h"

#include <array>
#include <charconv>
#include <chrono>
#include <utility>

#include <fmt/format.h>

namespace tickforge {
namespace {

std::chrono::year_month_day CivilOf(uint32_t ymd) {
  using namespace std::chrono;
  return year_month_day{year(static_cast<int>(ymd / 10000)), month(ymd / 100 % 100), day(ymd % 100)};
}

// Binance's kline intervals and their lengths; "1mo" has no fixed length.
constexpr std::array<std::pair<std::string_view, int64_t>, 16> kKlineIntervals = {{
    {"1s", 1'000},
    {"1m", 60'000},
    {"3m", 3 * 60'000},
    {"5m", 5 * 60'000},
    {"15m", 15 * 60'000},
    {"30m", 30 * 60'000},
    {"1h", 3'600'000},
    {"2h", 2 * 3'600'000},
    {"4h", 4 * 3'600'000},
    {"6h", 6 * 3'600'000},
    {"8h", 8 * 3'600'000},
    {"12h", 12 * 3'600'000},
    {"1d", kMillisPerDay},
    {"3d", 3 * kMillisPerDay},
    {"1w", 7 * kMillisPerDay},
    {"1mo", 0},
}};

}  // namespace

bool IsValidYmd(uint32_t ymd) { return CivilOf(ymd).ok(); }

int64_t DaysFromYmd(uint32_t ymd) {
  return std::chrono::sys_days(CivilOf(ymd)).time_since_epoch().count();
}

Result<uint32_t> ParseIsoDate(std::string_view text) {
  const bool dashed = text.size() == 10 && text[4] == '-' && text[7] == '-';
  std::string digits;
  if (dashed) {
    digits = std::string(text.substr(0, 4)) + std::string(text.substr(5, 2)) + std::string(text.substr(8, 2));
  } else if (text.size() == 8) {
    digits = std::string(text);
  }
  uint32_t ymd = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ymd);
  if (digits.size() != 8 || ec != std::errc() || ptr != digits.data() + digits.size() || !IsValidYmd(ymd)) {
    return Status::Invalid("'", text, "' is not a date of the form YYYY-MM-DD");
  }
  return ymd;
}

uint32_t YmdFromDays(int64_t days) {
  using namespace std::chrono;
  const year_month_day date{sys_days(std::chrono::days(days))};
  return static_cast<uint32_t>(static_cast<int>(date.year()) * 10000 + static_cast<unsigned>(date.month()) * 100 +
                               static_cast<unsigned>(date.day()));
}

std::string FormatYmd(uint32_t ymd) {
  return fmt::format("{:04d}-{:02d}-{:02d}", ymd / 10000, ymd / 100 % 100, ymd % 100);
}

std::string FormatTimestampNs(uint64_t ns) {
  const uint64_t per_day = static_cast<uint64_t>(kNanosPerDay);
  const uint32_t ymd = YmdFromDays(static_cast<int64_t>(ns / per_day));
  const uint64_t in_day = ns % per_day;
  const uint64_t seconds = in_day / kNanosPerSecond;
  return fmt::format("{}T{:02d}:{:02d}:{:02d}.{:09d}Z", FormatYmd(ymd), seconds / 3600, seconds / 60 % 60,
                     seconds % 60, in_day % kNanosPerSecond);
}

std::optional<int64_t> KlineIntervalMillis(std::string_view interval) {
  for (const auto& [name, millis] : kKlineIntervals) {
    if (name == interval) return millis > 0 ? std::optional<int64_t>(millis) : std::nullopt;
  }
  return std::nullopt;
}

bool IsKlineInterval(std::string_view interval) {
  for (const auto& [name, millis] : kKlineIntervals) {
    if (name == interval) return true;
  }
  return false;
}

}  // namespace tickforge
