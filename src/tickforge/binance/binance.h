// Binance public market data (data.binance.vision): klines, aggTrades and futures funding rates
// as CSV, zip archives of one CSV, or the seed's consolidated Parquet files, normalized to one
// Arrow schema per kind. Timestamps become int64 milliseconds, and the *_us columns keep the
// exact microsecond value, because Binance spot files switched to microseconds on 2025-01-01.
// This header is the module's API; the implementation is one file per idea, listed in binance.cc.
#pragma once

#include <arrow/record_batch.h>
#include <arrow/result.h>
#include <arrow/table.h>
#include <arrow/type_fwd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tickforge::binance {

enum class Kind { kKlines, kAggTrades, kFunding };

/// Return the kind's name: "klines", "aggtrades" or "funding".
[[nodiscard]] std::string_view KindName(Kind kind);

/// Parse a kind name; "futures" (the seed's name for funding rates) means kFunding.
[[nodiscard]] arrow::Result<Kind> ParseKind(std::string_view name);

/// What a file name says about its contents.
struct FileInfo {
  Kind kind;
  std::string symbol;
  /// The kline interval ("1m", "1h", "1mo", ...); empty for aggTrades and funding.
  std::string timeframe;
  std::string exchange;
  /// "um" or "cm" for a file under data.binance.vision's futures/um/ or futures/cm/ folders
  /// (USD-M and COIN-M futures, whose files are named as spot's are); empty otherwise.
  std::string market;
  /// True for the seed's "<kind>_<exchange>_<symbol>[_<tf>]_consolidated.parquet" files.
  bool consolidated = false;
};


/// Infer kind, symbol and timeframe from a data.binance.vision file name (optionally .zip),
/// e.g. BTCUSDT-1m-2024-02.csv, BTCUSDT-aggTrades-2024-02-01.zip,
/// BTCUSDT-fundingRate-2024-02.csv, or from a consolidated Parquet name such as
/// klines_binance_BTCUSDT_1m_consolidated.parquet.
[[nodiscard]] arrow::Result<FileInfo> InferFileInfo(const std::string& path);

struct ReadOptions {
  /// Most rows per record batch.
  int64_t batch_rows = 1 << 17;
  /// Verify a sibling "<file>.CHECKSUM" (sha256) before reading, when one exists.
  bool verify_checksum = true;
  /// Parse blocks of a file on Arrow's CPU thread pool.
  bool use_threads = true;
};

/// Return the normalized schema of `kind` (column order and types are part of the API).
[[nodiscard]] std::shared_ptr<arrow::Schema> NormalizedSchema(Kind kind);

/// Stream the normalized record batches of one file: a .csv, a .zip holding one .csv, or a
/// consolidated .parquet. Errors name the file and the line (CSV) or byte offset (zip).
[[nodiscard]] arrow::Result<std::shared_ptr<arrow::RecordBatchReader>> OpenFile(
    const std::string& path, Kind kind, const ReadOptions& options = {});

/// Read a whole file into a table; see OpenFile().
[[nodiscard]] arrow::Result<std::shared_ptr<arrow::Table>> ReadFile(const std::string& path, Kind kind,
                                                                    const ReadOptions& options = {});

/// Parse CSV bytes already in memory (no checksum, no zip); `name` is used in error messages.
[[nodiscard]] arrow::Result<std::shared_ptr<arrow::Table>> ParseCsv(std::string_view bytes, Kind kind,
                                                                    const std::string& name,
                                                                    const ReadOptions& options = {});

/// Return the lowercase hex sha256 of a file's bytes.
[[nodiscard]] arrow::Result<std::string> Sha256File(const std::string& path);

/// Check `path` against "<path>.CHECKSUM" ("<sha256 hex>  <name>") when that file exists.
[[nodiscard]] arrow::Status VerifyChecksum(const std::string& path);

}  // namespace tickforge::binance
