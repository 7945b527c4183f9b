// Store options and results as JSON: one reader for the Python module's keyword arguments,
// one writer for the command line's --json output and Python's result dictionaries.
#pragma once

#include <nlohmann/json.hpp>

#include "tickforge/store/store.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// Read write options (compression, max_rows_per_file, min_rows_per_group, max_rows_per_group,
/// metadata, dedup, constants); unknown keys are errors.
[[nodiscard]] Result<WriteOptions> WriteOptionsFromJson(const nlohmann::json& json);

/// Read scan options: columns, filters ([column, op, value] or [column, "in", [values]]),
/// batch_size, version, use_threads.
[[nodiscard]] Result<ScanOptions> ScanOptionsFromJson(const nlohmann::json& json);

/// Read ingest options: kind, symbol, exchange, verify_checksum, threads, plus write options.
[[nodiscard]] Result<IngestOptions> IngestOptionsFromJson(const nlohmann::json& json);

/// Read compaction options: target_rows, min_files, plus write options.
[[nodiscard]] Result<CompactOptions> CompactOptionsFromJson(const nlohmann::json& json);

/// Read store options (checkpoint_interval); unknown keys are errors.
[[nodiscard]] Result<StoreOptions> StoreOptionsFromJson(const nlohmann::json& json);

/// Read vacuum options: older_than (seconds, or text such as "7d", "12h", "30m", "45s"),
/// retain_versions, dry_run.
[[nodiscard]] Result<VacuumOptions> VacuumOptionsFromJson(const nlohmann::json& json);

/// Parse a duration: a number of seconds, or a number followed by s, m, h, d or w.
[[nodiscard]] Result<double> ParseDurationSeconds(const std::string& text);

/// Return every option with its value (the defaults for a default-constructed struct).
[[nodiscard]] nlohmann::ordered_json ToJson(const WriteOptions& options);
[[nodiscard]] nlohmann::ordered_json ToJson(const ScanOptions& options);
[[nodiscard]] nlohmann::ordered_json ToJson(const IngestOptions& options);
[[nodiscard]] nlohmann::ordered_json ToJson(const CompactOptions& options);
[[nodiscard]] nlohmann::ordered_json ToJson(const StoreOptions& options);
[[nodiscard]] nlohmann::ordered_json ToJson(const VacuumOptions& options);

[[nodiscard]] nlohmann::json ToJson(const FileEntry& file);
[[nodiscard]] nlohmann::json ToJson(const CommitInfo& info);
[[nodiscard]] nlohmann::json ToJson(const VacuumReport& report);

/// Return the Arrow memory pool's statistics: backend, bytes allocated now, peak, allocations.
[[nodiscard]] nlohmann::json MemoryPoolJson();

/// Summarize a snapshot: version, and per dataset its type, keys, rows, files, bytes, symbols.
[[nodiscard]] nlohmann::json SummaryJson(const Snapshot& snapshot);

}  // namespace tickforge::store
