// One dataset's files at one version without the whole snapshot: a filtered plan reads, of the
// newest checkpoint at or before the version, only the row groups that may hold the files it
// wants, then the log entries after it, keeping only wanted files. Exact: the files kept are
// those the full snapshot lists that `keep` holds for, in its order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "tickforge/store/checkpoint_internal.h"
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

}  // namespace tickforge::store
