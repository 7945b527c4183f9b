// The store's snapshots: which files make up each dataset at each committed version.
//
// `_tickforge/log/<version>.json` is the commit point of each version (created exclusively, so
// two writers cannot both commit the same version). Format 2 entries hold what the commit
// changed (log_internal.h); every `checkpoint_interval` commits a Parquet checkpoint holds the
// whole snapshot (checkpoint_internal.h). Format 1 entries, written by older tickforge, hold
// the whole snapshot and are still read. `_tickforge/manifest.json` points at the newest
// version for other tools.
#pragma once

#include <arrow/type_fwd.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tickforge/store/file_list.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// A dataset: its rules and its files.
struct DatasetEntry {
  std::string name;
  /// The data type whose rules it follows (klines, aggtrades, funding, mbp10, ..., generic).
  std::string type;
  std::vector<std::string> partition_keys;
  /// Columns whose values identify a row; re-ingested rows with a known key are dropped.
  std::vector<std::string> natural_key;
  std::string time_column;
  /// The columns a scan returns: the files' columns, then the partition keys.
  std::shared_ptr<arrow::Schema> schema;
  /// Sorted by path as the writers keep it; shared with the snapshots it was copied from.
  FileList files;

  [[nodiscard]] int64_t rows() const;
  [[nodiscard]] int64_t bytes() const;
};

/// The committed state of a store at one version.
struct Snapshot {
  int64_t version = 0;
  std::string operation;
  /// UTC, ISO 8601.
  std::string committed_at;
  std::map<std::string, DatasetEntry> datasets;
  /// The commit's own record beyond its files, key -> JSON text (for example "lineage" of a
  /// labeled dataset, "quality" of the data it added). It describes this commit only, so a new
  /// commit starts with none.
  std::map<std::string, std::string> details;

  /// Return the dataset called `name` or an error listing the ones there are.
  [[nodiscard]] Result<const DatasetEntry*> Find(const std::string& name) const;
};

/// How a store keeps its log.
struct StoreOptions {
  /// Write a Parquet checkpoint of the whole snapshot once this many commits followed the last.
  int64_t checkpoint_interval = 100;
};

/// Serialize a snapshot as a format 1 (whole snapshot) log entry.
[[nodiscard]] Result<std::string> SnapshotToJson(const Snapshot& snapshot);

/// Parse a format 1 log entry (a whole snapshot); `origin` names the file in errors.
[[nodiscard]] Result<Snapshot> SnapshotFromJson(const std::string& text, const std::string& origin);

/// The store's bookkeeping paths.
struct StorePaths {
  explicit StorePaths(std::filesystem::path root_dir);
  std::filesystem::path root;
  std::filesystem::path meta;      // _tickforge
  std::filesystem::path log;       // _tickforge/log
  std::filesystem::path manifest;  // _tickforge/manifest.json
  std::filesystem::path checkpoints;      // _tickforge/checkpoints
  std::filesystem::path last_checkpoint;  // _tickforge/_last_checkpoint: a hint only
  std::filesystem::path vacuum;           // _tickforge/vacuum.json: what the last vacuum kept
  std::filesystem::path lock;      // _tickforge/lock
  std::filesystem::path retired;   // _tickforge/retired: files a later commit replaced
  std::filesystem::path cache;     // _cache
  [[nodiscard]] std::filesystem::path LogEntry(int64_t version) const;
  [[nodiscard]] std::filesystem::path Checkpoint(int64_t version) const;
  /// Where the commit of `version` writes its new files before they move into place.
  [[nodiscard]] std::filesystem::path Staging(int64_t version) const;
  /// Where `file` waits until its commit moves it into place: flat in its version's staging
  /// folder (file names are unique within a version), so a commit makes no directory tree twice.
  [[nodiscard]] std::filesystem::path Staged(const FileEntry& file) const;
};

/// Return the newest committed version (0 for an empty store).
[[nodiscard]] Result<int64_t> LatestVersion(const StorePaths& paths);

/// Read the snapshot of `version` (the newest when absent; an empty one at version 0): the
/// newest readable checkpoint or format 1 entry at or before it, plus the entries after that
/// (log_internal.h).
[[nodiscard]] Result<Snapshot> ReadSnapshot(const StorePaths& paths,
                                            std::optional<int64_t> version = std::nullopt);

/// Commit `snapshot` as a format 1 log entry (the whole snapshot), created exclusively (an
/// error if another writer committed that version first), and copy it to manifest.json: the
/// format older tickforge wrote, kept for tests of upgrades and of recovery. Transactions
/// write format 2 entries instead.
[[nodiscard]] Status WriteSnapshot(const StorePaths& paths, const Snapshot& snapshot);

/// Return where a listed file lies now: its path, the staging folder of the commit that added
/// it (a commit still moving files into place), or the retired folder (a file a later commit
/// replaced).
[[nodiscard]] std::filesystem::path ResolveFile(const StorePaths& paths, const FileEntry& file);

/// Return the current UTC time as ISO 8601 text.
[[nodiscard]] std::string UtcNow();

/// Return `seconds_ago` before now as UtcNow() writes it (same width, so texts compare in
/// time order).
[[nodiscard]] std::string UtcSecondsAgo(double seconds_ago);

}  // namespace tickforge::store
