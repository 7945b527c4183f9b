// Format 2 log entries: what one commit changed (files added and removed per dataset, the
// definitions of datasets it created or redefined), and the reader that turns the newest
// checkpoint or whole-snapshot entry at or before a version plus the entries after it into
// that version's snapshot.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tickforge/store/manifest.h"
#include "tickforge/store/totals_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// One commit's change: its header, and per dataset the files it added and removed.
struct LogEntry {
  int64_t version = 0;
  /// The version the commit started from (version - 1).
  int64_t parent = 0;
  std::string operation;
  std::string committed_at;
  /// The commit's own details, key -> JSON text (Snapshot::details).
  std::map<std::string, std::string> details;
  /// Datasets the commit created or whose rules or schema it changed (files left empty).
  std::map<std::string, DatasetEntry> defined;
  std::map<std::string, std::vector<FileEntry>> added;
  std::map<std::string, std::vector<std::string>> removed;
  /// Datasets the commit dropped.
  std::vector<std::string> dropped;
  /// Of each dataset the commit defined or changed the files of: its totals after the commit,
  /// with the change of its files per symbol (totals_internal.h). None: an entry of older
  /// tickforge, which recorded no totals.
  std::optional<std::map<std::string, DatasetTotals>> totals;
};

/// Return what turns `before` into `after` (after.version's commit).
[[nodiscard]] LogEntry DiffSnapshots(const Snapshot& before, const Snapshot& after);

/// Apply `entry` to the snapshot of its parent, giving the snapshot of entry.version; `origin`
/// names the entry in errors (a removed file the snapshot does not list, an unknown dataset).
[[nodiscard]] Status ApplyLogEntry(const LogEntry& entry, const std::string& origin, Snapshot* snapshot);

/// Serialize a format 2 entry; an error names a detail that is not JSON.
[[nodiscard]] Result<std::string> LogEntryToJson(const LogEntry& entry);

/// A parsed log entry of either format: a whole snapshot (format 1) or a change (format 2).
struct ParsedLogEntry {
  std::optional<Snapshot> whole;
  LogEntry change;
};

/// Parse a log entry of format 1 or 2; errors name `origin` and where the text went wrong.
[[nodiscard]] Result<ParsedLogEntry> ParseLogEntry(std::string_view text, const std::string& origin);

/// Read and parse the log entry of `version`; a missing one is a KeyError naming the newest.
[[nodiscard]] Result<ParsedLogEntry> ReadLogEntry(const StorePaths& paths, int64_t version);

/// Create the log entry of entry.version exclusively: the commit point. An error if another
/// writer committed that version first.
[[nodiscard]] Status CommitLogEntry(const StorePaths& paths, const LogEntry& entry);

/// Where a snapshot read started from.
struct SnapshotSource {
  enum class Kind { kEmpty, kCheckpoint, kWholeEntry };
  Kind kind = Kind::kEmpty;
  /// The version of the checkpoint or whole entry (0 when empty).
  int64_t base_version = 0;
  /// Format 2 entries applied on top of it.
  int64_t replayed = 0;
};

/// ReadSnapshot, also saying where the read started.
[[nodiscard]] Result<Snapshot> ReadSnapshotFrom(const StorePaths& paths, std::optional<int64_t> version,
                                                SnapshotSource* source);

/// Write manifest.json: the newest version, its log entry and the newest checkpoint (a small
/// pointer for other tools; readers list the log themselves).
[[nodiscard]] Status WriteManifestPointer(const StorePaths& paths, const Snapshot& snapshot,
                                          int64_t checkpoint_version);

}  // namespace tickforge::store
