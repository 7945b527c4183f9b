// One dataset's files at one version without the whole snapshot: a filtered plan reads, of the
// newest checkpoint at or before the version, only the row groups that may hold the files it
// wants, then the log entries after it, keeping only wanted files. Exact: the files kept are
// those the full snapshot lists that `keep` holds for, in its order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tickforge/store/checkpoint_internal.h"
#include "tickforge/store/log_internal.h"
#include "tickforge/store/manifest.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// A partial snapshot: every dataset's definition, and of one dataset its selected files.
struct DatasetListing {
  /// Its datasets list no files but the selected dataset's selected ones.
  Snapshot snapshot;
  /// Each dataset's number of files at that version (the whole listing's).
  std::map<std::string, int64_t> file_counts;
  /// How the read went: from a checkpoint's selected row groups, or the full snapshot (a store
  /// without checkpoints, a dataset redefined or listed out of path order since the checkpoint).
  bool filtered = false;
};

/// Read the files of `dataset` at `version` (the newest when absent) that `select` (given the
/// dataset's definition) selects; other datasets come with their definitions only.
[[nodiscard]] Result<DatasetListing> ReadDatasetListing(
    const StorePaths& paths, std::optional<int64_t> version, const std::string& dataset,
    const std::function<CheckpointSelection(const DatasetEntry&)>& select);

/// The newest state of a store without any listing: what a commit needs to start (issue 12).
struct StoreHead {
  /// Every dataset's definition, listing no files, and the header of the version.
  Snapshot snapshot;
  /// Every dataset's totals at the version.
  Totals totals;
  /// The checkpoint the read started from (0: none, the log from version 1 on).
  int64_t checkpoint_version = 0;
  /// The format 2 entries after it, oldest first.
  std::vector<LogEntry> entries;
};

/// Why a head could not be read.
enum class HeadMiss {
  kNone,
  /// The checkpoint or an entry after it was written by older tickforge and records no totals.
  kNoTotals,
  /// A format 1 entry, an unreadable checkpoint or entry, a listing not sorted by path.
  kOther,
};

/// Read the head of `version` (a committed one): the newest checkpoint's header at or before it
/// and the entries after. None, with `why`, where only the full read is exact.
[[nodiscard]] Result<std::optional<StoreHead>> ReadStoreHead(const StorePaths& paths, int64_t version,
                                                             HeadMiss* why);

/// Return the files of `dataset` at the head's version that `selection` selects, in listing
/// order: of the checkpoint the row groups `selection.key_values` may hold, then the entries.
[[nodiscard]] Result<FileList> ReadHeadFiles(const StorePaths& paths, const StoreHead& head,
                                             const std::string& dataset, const CheckpointSelection& selection);

}  // namespace tickforge::store
