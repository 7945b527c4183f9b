// Staged ingest: many processes (Ray tasks on many machines) each ingest a few inputs into
// their own attempt folder under STORE/_tickforge/staging/job-<id>/, and one driver commits the
// attempts it was told about as one ingest, with the rows, partitions and deduplication a local
// ingest of the same inputs gives (docs/ray.md "Ingest on Ray").
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tickforge/store/manifest.h"
#include "tickforge/store/store.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// What one task attempt staged, as its manifest says.
struct StagedTask {
  std::string job;
  std::string task;
  /// The attempt's folder: a private store whose snapshot lists the staged files.
  std::filesystem::path dir;
  std::vector<std::string> inputs;
  Snapshot snapshot;
  int64_t rows_in = 0;
  int64_t rows_duplicate = 0;
};

/// Return where the tasks of `job` stage: STORE/_tickforge/staging/job-<job>/.
[[nodiscard]] std::filesystem::path JobStagingDir(const StorePaths& paths, const std::string& job);

/// Ingest `inputs` as `task` of `job` into a new attempt folder of its own (partitioned and
/// deduplicated within the inputs, as the store's writer does), write the attempt's manifest
/// last and atomically, and return it as JSON text. Takes no lock on the store: attempts of
/// any number of processes run at once, and an attempt killed midway is never committed.
[[nodiscard]] Result<std::string> StageIngest(const std::filesystem::path& store_root, const std::string& job,
                                              const std::string& task, const std::vector<std::string>& inputs,
                                              const IngestOptions& options = {});

/// Parse a manifest StageIngest returned; it must name an attempt folder of `job` in the store.
[[nodiscard]] Result<StagedTask> ParseStagedTask(const StorePaths& paths, const std::string& job,
                                                 const std::string& manifest);

/// Commit the attempts of `manifests` (never a listing of the folder, so what killed attempts
/// left is ignored) as one ingest: partitions only one attempt wrote and the store does not
/// hold yet take the staged files as they are; the others are written again through the
/// store's writer, attempts in the given order, dropping rows whose natural key the store or an
/// earlier attempt holds. A failure commits nothing and leaves the staged files in place; the
/// job's folder stays either way (DiscardStagedJob removes it: thousands of small deletes, kept
/// out of the commit). Quality checks are not run (`write.quality` is ignored).
[[nodiscard]] Result<CommitInfo> CommitStaged(const StorePaths& paths, const StoreOptions& options,
                                              const std::string& job, const std::vector<std::string>& manifests,
                                              const WriteOptions& write = {});

/// Remove the staging folder of `job` (after its commit, or of a failed job).
[[nodiscard]] Status DiscardStagedJob(const StorePaths& paths, const std::string& job);

/// Remove job folders nothing was written to for `older_than_seconds` (jobs whose driver died
/// before its commit); return how many.
[[nodiscard]] Result<int64_t> RemoveStaleJobs(const StorePaths& paths, double older_than_seconds);

/// Return whether a staging folder's name is a job's (transactions leave those alone).
[[nodiscard]] bool IsJobStagingName(const std::string& name);

}  // namespace tickforge::store
