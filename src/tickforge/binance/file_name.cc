// The file-name grammar of Binance's data: kind names, data.binance.vision file names
// ("<SYMBOL>-<interval|aggTrades|fundingRate>-<YYYY>-<MM>[-<DD>].csv|.zip") and the seed's
// consolidated Parquet names ("<kind>_<exchange>_<symbol>[_<interval>]_consolidated.parquet").
#include <arrow/util/string.h>

#include <algorithm>
#include <filesystem>

#include "tickforge/binance/binance.h"
#include "tickforge/util/time.h"

namespace tickforge::binance {
namespace {

constexpr std::string_view kConsolidatedSuffix = "_consolidated.parquet";

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kKlines:
      return "klines";
    case Kind::kAggTrades:
      return "aggtrades";
    case Kind::kFunding:
      return "funding";
  }
  return "unknown";
}

Result<Kind> ParseKind(std::string_view name) {
  const std::string n = arrow::internal::AsciiToLower(name);
  if (n == "klines") return Kind::kKlines;
  if (n == "aggtrades") return Kind::kAggTrades;
  if (n == "funding" || n == "futures" || n == "fundingrate") return Kind::kFunding;
  return Status::Invalid("unknown Binance data kind '", name, "' (klines, aggtrades, funding or futures)");
}

Result<FileInfo> InferFileInfo(const std::string& path) {
  const std::string original = std::filesystem::path(path).filename().string();
  std::string_view name = original;
  auto unknown = [&] {
    return Status::Invalid(path, ": cannot tell the data kind from the file name '", original,
                           "' (expected e.g. BTCUSDT-1m-2024-02.csv, BTCUSDT-aggTrades-2024-02-01.zip, "
                           "BTCUSDT-fundingRate-2024-02.csv or klines_binance_BTCUSDT_1m_consolidated.parquet)");
  };
  FileInfo info{Kind::kKlines, "", "", "binance", "", false};
  // data.binance.vision keeps futures under futures/um/ and futures/cm/.
  std::string previous;
  for (const auto& component : std::filesystem::path(path).parent_path()) {
    if (previous == "futures" && (component == "um" || component == "cm")) info.market = component.string();
    previous = component.string();
  }
  if (name.ends_with(kConsolidatedSuffix)) {
    name.remove_suffix(kConsolidatedSuffix.size());
    const auto parts = arrow::internal::SplitString(name, '_');
    if (parts.size() < 3) return unknown();
    auto kind = ParseKind(parts[0]);
    if (!kind.ok()) return unknown();
    info.kind = *kind;
    info.exchange = parts[1];
    size_t last = parts.size();
    if (info.kind == Kind::kKlines) {
      if (parts.size() < 4 || !IsKlineInterval(parts.back())) return unknown();
      info.timeframe = parts.back();
      --last;
    }
    // A symbol may hold '_' itself (BTCUSD_PERP).
    for (size_t i = 2; i < last; ++i) {
      if (i > 2) info.symbol += '_';
      info.symbol += parts[i];
    }
    if (info.symbol.empty() || info.exchange.empty()) return unknown();
    info.consolidated = true;
    return info;
  }
  // Binance names archives "<stem>.zip" holding "<stem>.csv"; accept "<stem>.csv.zip" too.
  bool stripped = false;
  if (name.ends_with(".zip")) name.remove_suffix(4), stripped = true;
  if (name.ends_with(".csv")) name.remove_suffix(4), stripped = true;
  if (!stripped) return unknown();
  const auto parts = arrow::internal::SplitString(name, '-');
  // SYMBOL-TYPE-YYYY-MM[-DD]
  if (parts.size() != 4 && parts.size() != 5) return unknown();
  for (size_t i = 2; i < parts.size(); ++i) {
    if (!AllDigits(parts[i])) return unknown();
  }
  if (parts[0].empty()) return unknown();
  info.symbol = parts[0];
  if (parts[1] == "aggTrades") {
    info.kind = Kind::kAggTrades;
  } else if (parts[1] == "fundingRate") {
    info.kind = Kind::kFunding;
  } else if (IsKlineInterval(parts[1])) {
    info.kind = Kind::kKlines;
    info.timeframe = parts[1];
  } else {
    return unknown();
  }
  return info;
}

}  // namespace tickforge::binance
