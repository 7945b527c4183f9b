// Checkpoints: the whole snapshot of one version as `_tickforge/checkpoints/<version>.parquet`,
// one row per file (dataset, path, rows, bytes, partition values, min/max time, version) with
// the datasets' definitions and the commit's header as Parquet key-value metadata, so opening
// a large store reads a few columnar arrays instead of a large JSON text.
#pragma once

#include <arrow/io/type_fwd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tickforge/store/manifest.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// The Parquet key-value metadata key holding the checkpoint's header and definitions.
inline constexpr const char* kCheckpointKey = "tickforge.checkpoint";

/// Write the checkpoint of snapshot.version atomically (a reader never sees half of it), then
/// the `_last_checkpoint` hint.
[[nodiscard]] Status WriteCheckpoint(const StorePaths& paths, const Snapshot& snapshot);

/// Read a checkpoint file; errors name it and what is wrong (a bad footer, a missing column,
/// a row count that disagrees with its header).
[[nodiscard]] Result<Snapshot> ReadCheckpoint(const std::string& path);
[[nodiscard]] Result<Snapshot> ReadCheckpoint(std::shared_ptr<arrow::io::RandomAccessFile> file,
                                              const std::string& origin);

/// Return the versions that have a checkpoint file, ascending (temporary files left out).
[[nodiscard]] Result<std::vector<int64_t>> ListCheckpoints(const StorePaths& paths);

}  // namespace tickforge::store
