// Checkpoints: the whole snapshot of one version as `_tickforge/checkpoints/<version>.parquet`,
// one row per file (dataset, path, rows, bytes, partition values, min/max time, version) with
// the datasets' definitions and the commit's header as Parquet key-value metadata, so opening
// a large store reads a few columnar arrays instead of a large JSON text.
#pragma once

#include <arrow/io/type_fwd.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tickforge/store/manifest.h"
#include "tickforge/store/totals_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// The Parquet key-value metadata key holding the checkpoint's header and definitions.
inline constexpr const char* kCheckpointKey = "tickforge.checkpoint";
/// Columns `partition.<key>` repeat each file's value of a partition key as plain text, so
/// a filtered read skips row groups by their statistics (readers of the listing ignore them).
inline constexpr std::string_view kKeyColumnPrefix = "partition.";
/// Rows per row group: small enough that a one-symbol read decodes a few thousand files.
inline constexpr int64_t kCheckpointRowGroupRows = 1 << 14;

/// Write the checkpoint of snapshot.version atomically (a reader never sees half of it), then
/// the `_last_checkpoint` hint.
[[nodiscard]] Status WriteCheckpoint(const StorePaths& paths, const Snapshot& snapshot);

/// Read a checkpoint file; errors name it and what is wrong (a bad footer, a missing column,
/// a row count that disagrees with its header).
[[nodiscard]] Result<Snapshot> ReadCheckpoint(const std::string& path);
[[nodiscard]] Result<Snapshot> ReadCheckpoint(std::shared_ptr<arrow::io::RandomAccessFile> file,
                                              const std::string& origin);

/// What a filtered read of a checkpoint keeps of one dataset.
struct CheckpointSelection {
  /// Partition key -> the values a wanted file has one of (several terms: each must hold):
  /// row groups whose statistics hold none of them are not read.
  std::vector<std::pair<std::string, std::vector<std::string>>> key_values;
  /// Keep only files this holds for (all when empty).
  std::function<bool(const FileEntry&)> keep;
  /// Keep only files whose path starts with this (all when empty): row groups whose path
  /// statistics hold no such path are not read, and other rows are not converted.
  std::string path_prefix;
};

/// A filtered read of a checkpoint: every dataset's definition and count of files, and the
/// selected files of one dataset.
struct CheckpointListing {
  /// Definitions of every dataset; only the selected dataset lists files (the selected ones).
  Snapshot snapshot;
  std::map<std::string, int64_t> file_counts;
  /// Whether the selected dataset's whole listing is sorted by path (false when the
  /// checkpoint does not say: written by an older tickforge).
  bool sorted = false;
  /// The datasets whose listing is sorted by path.
  std::set<std::string> sorted_datasets;
  /// Every dataset's totals (none: a checkpoint of older tickforge).
  std::optional<Totals> totals;
};

/// Read the checkpoint at `path`: its header, and of `dataset` the files `select` (called with
/// the dataset's definition) selects, decoding only the row groups that may hold them.
[[nodiscard]] Result<CheckpointListing> ReadCheckpointSelection(
    const std::string& path, const std::string& dataset,
    const std::function<CheckpointSelection(const DatasetEntry&)>& select);

/// Read a checkpoint's header alone (its footer's key-value metadata): definitions, counts of
/// files, sortedness and totals; no file of any dataset.
[[nodiscard]] Result<CheckpointListing> ReadCheckpointHeader(const std::string& path);

/// Return the versions that have a checkpoint file, ascending (temporary files left out).
[[nodiscard]] Result<std::vector<int64_t>> ListCheckpoints(const StorePaths& paths);

}  // namespace tickforge::store
