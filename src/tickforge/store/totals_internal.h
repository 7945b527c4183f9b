// Per-dataset summary totals (files, rows, bytes, time range, files per symbol) kept by the log
// instead of summed over the listing: a checkpoint's header holds every dataset's totals, and
// each log entry the new totals of the datasets it touched with its change of files per symbol,
// so a commit reads the newest totals without the listing of a million files (issue 12).
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tickforge/store/manifest.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

struct LogEntry;

/// What metadata.json and `store info` say of one dataset's files.
struct DatasetTotals {
  int64_t files = 0;
  int64_t rows = 0;
  int64_t bytes = 0;
  /// Smallest min_time and largest max_time of the files (the limits when there are none).
  int64_t min_time = std::numeric_limits<int64_t>::max();
  int64_t max_time = std::numeric_limits<int64_t>::min();
  /// Partition value of key `symbol` -> how many files have it. In a log entry: the change of
  /// that count by the commit.
  std::map<std::string, int64_t> symbols;

  bool operator==(const DatasetTotals&) const = default;
};

/// Dataset name -> its totals.
using Totals = std::map<std::string, DatasetTotals>;

/// Sum a listing; each chunk's sum is kept with the chunk (FileList::ChunkMemo), so summing a
/// listing that shares most chunks with one summed before costs the chunks that changed.
[[nodiscard]] DatasetTotals SumFiles(const FileList& files);
[[nodiscard]] Totals SumSnapshot(const Snapshot& snapshot);

/// Return the totals after `change`, whose parent's totals are `before`; `base` is the parent
/// snapshot or a part of it that lists every file the change removes. None when the change
/// removed a file holding a dataset's smallest or largest time: the new range needs the whole
/// listing then. Also fills change.totals (the entry's record).
[[nodiscard]] Result<std::optional<Totals>> ApplyChangeToTotals(const Totals& before, const Snapshot& base,
                                                                LogEntry* change);

/// Fill change.totals from the totals after it (`after`) and before it (for the symbol counts).
void RecordTotals(const Totals& before, const Totals& after, LogEntry* change);

/// Apply an entry's record of totals to the totals of its parent.
void ApplyRecordedTotals(const LogEntry& entry, Totals* totals);

/// Totals as JSON: absolute symbol counts (a checkpoint's header) or changes (a log entry).
[[nodiscard]] nlohmann::json TotalsToJson(const Totals& totals);
/// Read totals; throws nlohmann::json::exception on a missing or mistyped field.
[[nodiscard]] Totals TotalsFromJson(const nlohmann::json& value);

/// The summary of SummaryJson (options.h) from the snapshot's definitions and `totals`.
[[nodiscard]] nlohmann::json SummaryJsonOf(const Snapshot& definitions, const Totals& totals);

}  // namespace tickforge::store
