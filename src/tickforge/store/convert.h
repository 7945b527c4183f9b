// The unified converter (seed 004, "Step 1.5"): consolidated Binance files of a data directory
// into a store, after a backup, with a validation report.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tickforge/store/store.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

struct ConvertOptions {
  /// The store to write; DATA_DIR/unified when empty.
  std::filesystem::path out;
  WriteOptions write;
};

/// Convert `data_dir`'s klines_/aggtrades_/futures_<exchange>_<SYMBOL>[_<tf>]_consolidated.parquet
/// files: copy them into data_dir/backup_<UTC time>/, ingest them in one commit, write
/// _config.json, and return the validation report (also written as validation_report.json in
/// the store): per source file the rows read, rows in the store, duplicates, whether timestamps
/// were increasing, and gaps. Klines are required; aggtrades and futures are optional (a warning).
[[nodiscard]] Result<nlohmann::json> ConvertConsolidated(const std::filesystem::path& data_dir,
                                                         const ConvertOptions& options = {});

/// Format the report for a terminal.
[[nodiscard]] std::string FormatConvertReport(const nlohmann::json& report);

}  // namespace tickforge::store
