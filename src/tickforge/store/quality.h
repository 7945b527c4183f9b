// A store's data quality at one snapshot: the quality each commit recorded for the files it
// added (store writer, details["quality"]), summed over the files still live in the snapshot,
// so a file a later compaction retired no longer counts.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tickforge/store/manifest.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

struct QualityQuery {
  /// Only this dataset; empty: all.
  std::string dataset;
  /// Only files of this symbol partition; empty: all.
  std::string symbol;
  /// Only files whose partition date is on or after this YYYY-MM-DD; empty: all.
  std::string since;
  /// The snapshot; the newest when absent.
  std::optional<int64_t> version;
  /// Example (file, row) pairs kept per check and dataset.
  int max_examples = 10;
  /// Add each file's rows and counts per check ("by_file"), for reports that place them.
  bool by_file = false;
};

/// Read a query from JSON (dataset, symbol, since, version, max_examples, by_file); unknown
/// keys are errors.
[[nodiscard]] Result<QualityQuery> QualityQueryFromJson(const nlohmann::json& json);

/// Return the quality of the live files: {"version", "datasets": {name: {"type", "files",
/// "files_unchecked", "rows", "checks": {check: {"count", "examples": [{"file", "row"}]}},
/// "notes"[, "by_file": {path: {"rows", "checked", "checks": {check: count}}}]}}, "totals":
/// {check: count}}. by_file lists every selected file, unchecked ones too.
[[nodiscard]] Result<nlohmann::json> StoreQuality(const StorePaths& paths, const QualityQuery& query);

}  // namespace tickforge::store
