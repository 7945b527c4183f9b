// Synthetic Binance public-data dumps (data.binance.vision): klines, aggTrades and futures
// funding rates in the exact file formats, names and folder layout Binance publishes, so the
// ingest path can be tested and benchmarked at any size without downloading. The output is a
// deterministic function of the options.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tickforge/binance/binance.h"
#include "tickforge/util/status.h"

namespace tickforge::synth {

struct BinanceOptions {
  std::filesystem::path out_dir;
  /// Symbol names; when empty, `symbol_count` names from BinanceSymbolNames().
  std::vector<std::string> symbols;
  int symbol_count = 2;
  /// First day, YYYYMMDD.
  uint32_t start_date = 20240101;
  int days = 1;
  /// "spot", "um" (USD-M futures) or "cm" (COIN-M futures).
  std::string market = "spot";
  std::vector<binance::Kind> kinds = {binance::Kind::kKlines};
  /// Kline interval: 1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h or 1d.
  std::string interval = "1m";
  /// One file per month instead of per day (funding files are monthly either way, as on Binance).
  bool monthly = false;
  /// Header row; unset means as Binance: futures files have one, spot files do not.
  std::optional<bool> header;
  /// Write "<name>.zip" plus "<name>.zip.CHECKSUM" instead of "<name>.csv".
  bool zip = false;
  /// Mean aggTrades per minute per symbol.
  double aggtrades_per_minute = 60;
  uint64_t seed = 1;
};

/// One written file.
struct BinanceFile {
  std::string path;
  binance::Kind kind;
  std::string symbol;
  int64_t rows = 0;
};

/// Write the dumps under `out_dir` in Binance's layout, e.g.
/// data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.csv and
/// data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-01.csv; return them in
/// (kind, symbol, date) order. Spot times are in microseconds for dates from 2025-01-01 on, as
/// Binance writes them; everything else is in milliseconds.
[[nodiscard]] arrow::Result<std::vector<BinanceFile>> WriteBinanceDumps(const BinanceOptions& options);

/// Return `n` symbol names: BTCUSDT, ETHUSDT, ... (real large caps), then SYM0001USDT, ...
/// For the "cm" market the quote is "USD_PERP" (BTCUSD_PERP).
[[nodiscard]] std::vector<std::string> BinanceSymbolNames(int n, const std::string& market = "spot");

}  // namespace tickforge::synth
