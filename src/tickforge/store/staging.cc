// Staged ingest (see staging.h): attempt folders written without the store's lock, and the
// one commit that takes the attempts a driver names.
#include "tickforge/store/staging.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include <arrow/api.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tickforge/store/ingest.h"
#include "tickforge/store/rules_internal.h"
#include "tickforge/store/transaction_internal.h"
#include "tickforge/store/writer_internal.h"
#include "tickforge/util/io.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/random.h"

namespace tickforge::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr char kJobPrefix[] = "job-";
constexpr char kManifestFormat[] = "tickforge.staged/1";

/// Job and task ids name folders: letters, digits, '-', '_' and '.', not leading '.'.
Status ValidateId(const char* what, const std::string& id) {
  const bool ok = !id.empty() && id.size() <= 100 && id.front() != '.' &&
                  std::all_of(id.begin(), id.end(), [](unsigned char c) {
                    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
                  });
  if (!ok) return Status::Invalid(what, " id '", id, "' must be 1-100 letters, digits, '-', '_' or '.'");
  return Status::OK();
}

/// A suffix no other attempt of the task has, on any machine: a retried attempt never writes
/// into the folder of the one it replaces.
std::string AttemptSuffix() {
  std::random_device device;
  const uint64_t now = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  const uint64_t mixed = MixSeeds({(static_cast<uint64_t>(device()) << 32) | device(), now,
                                   static_cast<uint64_t>(::getpid()), Fnv1a64(host)});
  return fmt::format("{:016x}", mixed);
}

/// Put a staged file where the commit wants it. A hard link leaves the attempt's file in place,
/// so a commit that fails later still finds every staged file; a copy serves filesystems
/// without links.
Status LinkFile(const fs::path& from, const fs::path& to) {
  if (::link(from.c_str(), to.c_str()) == 0) return Status::OK();
  const int link_errno = errno;
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    return Status::IOError("cannot stage ", from.string(), " as ", to.string(), ": ", std::strerror(link_errno),
                           "; copy: ", ec.message());
  }
  return Status::OK();
}

using PartitionValues = std::vector<std::pair<std::string, std::string>>;

/// The staged files of one partition, attempt by attempt in commit order.
struct PartitionFiles {
  std::vector<std::pair<const StagedTask*, const FileEntry*>> files;
  std::set<const StagedTask*> tasks;
};

std::string ParentOf(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace

bool IsJobStagingName(const std::string& name) { return name.rfind(kJobPrefix, 0) == 0; }

fs::path JobStagingDir(const StorePaths& paths, const std::string& job) {
  return paths.meta / "staging" / (kJobPrefix + job);
}

Result<std::string> StageIngest(const fs::path& store_root, const std::string& job, const std::string& task,
                                const std::vector<std::string>& inputs, const IngestOptions& options) {
  ARROW_RETURN_NOT_OK(ValidateId("job", job));
  ARROW_RETURN_NOT_OK(ValidateId("task", task));
  std::error_code ec;
  const StorePaths paths(fs::absolute(store_root));
  if (!fs::exists(paths.meta, ec)) {
    return Status::IOError(paths.root.string(), ": not a tickforge store (no _tickforge folder)");
  }
  const fs::path relative = fs::path("_tickforge") / "staging" / (kJobPrefix + job) / (task + "-" + AttemptSuffix());
  const fs::path dir = paths.root / relative;
  IngestOptions staged = options;
  staged.write.quality = false;
  staged.write.file_visitor = nullptr;
  ARROW_ASSIGN_OR_RAISE(auto attempt, Store::Open(dir, /*create=*/true));
  ARROW_ASSIGN_OR_RAISE(CommitInfo info, attempt->Ingest(inputs, staged));
  ARROW_ASSIGN_OR_RAISE(Snapshot snapshot, attempt->ReadSnapshot());
  ARROW_ASSIGN_OR_RAISE(std::string snapshot_text, SnapshotToJson(snapshot));
  json manifest = {{"format", kManifestFormat},
                   {"job", job},
                   {"task", task},
                   {"dir", relative.generic_string()},
                   {"inputs", inputs},
                   {"rows_in", info.rows_in},
                   {"rows_duplicate", info.rows_duplicate},
                   {"snapshot", json::parse(snapshot_text)}};
  const std::string text = manifest.dump();
  // Written last: an attempt folder without its manifest was never finished.
  ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(dir / "manifest.json"));
  ARROW_RETURN_NOT_OK(file->stream()->Write(text));
  ARROW_RETURN_NOT_OK(file->Commit());
  return text;
}

Result<StagedTask> ParseStagedTask(const StorePaths& paths, const std::string& job, const std::string& manifest) {
  StagedTask task;
  std::string dir;
  json snapshot;
  try {
    const json root = json::parse(manifest);
    if (root.at("format").get<std::string>() != kManifestFormat) {
      return Status::Invalid("staged manifest: format '", root.at("format").get<std::string>(), "', not ",
                             kManifestFormat);
    }
    task.job = root.at("job").get<std::string>();
    task.task = root.at("task").get<std::string>();
    dir = root.at("dir").get<std::string>();
    task.inputs = root.at("inputs").get<std::vector<std::string>>();
    task.rows_in = root.at("rows_in").get<int64_t>();
    task.rows_duplicate = root.at("rows_duplicate").get<int64_t>();
    snapshot = root.at("snapshot");
  } catch (const std::exception& e) {
    return Status::Invalid("staged manifest: ", e.what());
  }
  if (task.job != job) return Status::Invalid("staged manifest of job '", task.job, "' given to job '", job, "'");
  // The folder must be an attempt of this job: a manifest never moves files from elsewhere.
  const fs::path expected = fs::path("_tickforge") / "staging" / (kJobPrefix + job);
  const fs::path given(dir);
  if (given.parent_path() != expected || given.filename().string().rfind(task.task + "-", 0) != 0) {
    return Status::Invalid("staged manifest of task '", task.task, "': folder '", dir, "' is not an attempt of job '",
                           job, "'");
  }
  task.dir = paths.root / given;
  ARROW_ASSIGN_OR_RAISE(task.snapshot, SnapshotFromJson(snapshot.dump(), (task.dir / "manifest.json").string()));
  // Staged files lie inside the attempt's folder: no listed path climbs out of it.
  for (const auto& [name, dataset] : task.snapshot.datasets) {
    for (const auto& file : dataset.files) {
      const fs::path path(file.path);
      if (path.is_absolute() || std::any_of(path.begin(), path.end(), [](const fs::path& p) { return p == ".."; })) {
        return Status::Invalid("staged manifest of task '", task.task, "': file '", file.path,
                               "' is not inside its attempt folder");
      }
    }
  }
  return task;
}

Result<CommitInfo> CommitStaged(const StorePaths& paths, const StoreOptions& options, const std::string& job,
                                const std::vector<std::string>& manifests, const WriteOptions& write) {
  ARROW_RETURN_NOT_OK(ValidateId("job", job));
  ARROW_RETURN_NOT_OK(write.Validate());
  std::vector<StagedTask> tasks;
  tasks.reserve(manifests.size());
  for (const auto& text : manifests) {
    ARROW_ASSIGN_OR_RAISE(auto task, ParseStagedTask(paths, job, text));
    tasks.push_back(std::move(task));
  }
  // Every listed file must be there before anything changes.
  std::error_code ec;
  for (const auto& task : tasks) {
    const StorePaths task_paths(task.dir);
    for (const auto& [name, dataset] : task.snapshot.datasets) {
      for (const auto& file : dataset.files) {
        if (!fs::exists(ResolveFile(task_paths, file), ec)) {
          return Status::IOError(ResolveFile(task_paths, file).string(), ": staged file of task '", task.task,
                                 "' is missing; nothing was committed");
        }
      }
    }
  }
  std::map<std::string, std::vector<std::pair<const StagedTask*, const DatasetEntry*>>> by_dataset;
  CommitInfo info;
  for (const auto& task : tasks) {
    info.rows_in += task.rows_in;
    info.rows_duplicate += task.rows_duplicate;
    for (const auto& [name, dataset] : task.snapshot.datasets) by_dataset[name].emplace_back(&task, &dataset);
  }

  ARROW_ASSIGN_OR_RAISE(auto txn, Transaction::Begin(paths, "ingest", options));
  ARROW_RETURN_NOT_OK(EnsureDirectory(txn->staging()));
  WriteOptions rewrite = write;
  rewrite.quality = false;
  rewrite.file_visitor = nullptr;
  for (const auto& [name, staged] : by_dataset) {
    const DatasetEntry& first = *staged.front().second;
    DataTypeRules rules;
    bool is_new = false;
    ARROW_ASSIGN_OR_RAISE(DatasetEntry * entry,
                          DatasetFor(txn->next(), name, first.type, first.time_column, &rules, &is_new));
    DatasetEntry& dataset = *entry;
    arrow::FieldVector fields;
    for (const auto& [task, entry] : staged) {
      if (entry->type != first.type) {
        return Status::Invalid("dataset '", name, "': task '", task->task, "' staged ", entry->type, ", task '",
                               staged.front().first->task, "' ", first.type);
      }
      AddMissingFields(fields, entry->schema->fields());
    }
    ARROW_RETURN_NOT_OK(PrepareDataset(dataset, rules, arrow::Schema(fields), is_new));

    std::set<PartitionValues> in_store;
    for (const auto& file : txn->base().datasets.count(name) ? txn->base().datasets.at(name).files
                                                              : std::vector<FileEntry>{}) {
      in_store.insert(file.partition);
    }
    std::map<PartitionValues, PartitionFiles> partitions;
    std::set<const StagedTask*> other_schema;
    for (const auto& [task, entry] : staged) {
      if (!entry->schema->Equals(*dataset.schema, /*check_metadata=*/false)) other_schema.insert(task);
      for (const auto& file : entry->files) {
        auto& partition = partitions[file.partition];
        partition.files.emplace_back(task, &file);
        partition.tasks.insert(task);
      }
    }
    std::vector<FileEntry> taken;
    for (const auto& [values, partition] : partitions) {
      bool as_staged = partition.tasks.size() == 1 && !other_schema.count(*partition.tasks.begin());
      // With dedup a partition the store holds, or several attempts wrote, has rows to drop.
      if (write.dedup) as_staged = as_staged && !in_store.count(values);
      if (as_staged) {
        for (const auto& [task, file] : partition.files) {
          FileEntry entry = *file;
          const std::string folder = ParentOf(file->path);
          entry.path = fmt::format("{}/part-{:06d}-{:05d}.parquet", folder, txn->version(), txn->NextFileNumber());
          entry.version = txn->version();
          ARROW_RETURN_NOT_OK(EnsureDirectory(paths.root / folder));
          ARROW_RETURN_NOT_OK(LinkFile(ResolveFile(StorePaths(task->dir), *file), paths.Staged(entry)));
          taken.push_back(std::move(entry));
        }
        continue;
      }
      WriteOptions constants = rewrite;
      for (const auto& [key, value] : values) {
        if (!IsDateKey(key)) constants.constants[key] = value;
      }
      std::vector<LazySource> readers;
      for (const auto& [task, file] : partition.files) {
        const std::string path = ResolveFile(StorePaths(task->dir), *file).string();
        readers.push_back(LazySource{path, [path]() { return ReadParquetBatches(path); }});
      }
      // One thread: of rows with one key, the earliest attempt's is kept, on every run.
      CommitInfo written;
      ARROW_RETURN_NOT_OK(WriteReaders(paths, *txn, dataset, constants, readers, 1, &written));
      info.rows_duplicate += written.rows_duplicate;
      info.rows_conflicting += written.rows_conflicting;
      info.warnings.insert(info.warnings.end(), written.warnings.begin(), written.warnings.end());
      info.rows_written += written.rows_written;
      info.added.insert(info.added.end(), written.added.begin(), written.added.end());
    }
    // Listings stay sorted by path, as the writer keeps them: the taken files merge in sorted.
    std::vector<FileEntry> sorted_taken(taken.begin(), taken.end());
    std::sort(sorted_taken.begin(), sorted_taken.end(), ByPath);
    dataset.files.MergeSorted(std::move(sorted_taken));
    for (const auto& file : taken) info.rows_written += file.rows;
    info.added.insert(info.added.end(), taken.begin(), taken.end());
  }
  if (info.added.empty()) {
    // Nothing new (every row known already): no version is made, as for a local ingest.
    info.version = txn->base().version;
  } else {
    ARROW_RETURN_NOT_OK(txn->Commit());
    info.version = txn->version();
    if (write.file_visitor) {
      for (const auto& file : info.added) write.file_visitor(file);
    }
  }
  return info;
}

Status DiscardStagedJob(const StorePaths& paths, const std::string& job) {
  ARROW_RETURN_NOT_OK(ValidateId("job", job));
  std::error_code ec;
  const fs::path dir = JobStagingDir(paths, job);
  fs::remove_all(dir, ec);
  if (ec) return Status::IOError(dir.string(), ": cannot remove: ", ec.message());
  return Status::OK();
}

Result<int64_t> RemoveStaleJobs(const StorePaths& paths, double older_than_seconds) {
  std::error_code ec;
  const fs::path root = paths.meta / "staging";
  if (!fs::exists(root, ec)) return 0;
  const auto now = fs::file_time_type::clock::now();
  const auto age = std::chrono::duration_cast<fs::file_time_type::duration>(
      std::chrono::duration<double>(older_than_seconds));
  int64_t removed = 0;
  for (const auto& job : fs::directory_iterator(root, ec)) {
    if (!job.is_directory(ec) || !IsJobStagingName(job.path().filename().string())) continue;
    // A live job creates attempt folders (and their stores) as it goes: its newest is recent.
    auto newest = fs::last_write_time(job.path(), ec);
    for (const auto& attempt : fs::directory_iterator(job.path(), ec)) {
      newest = std::max(newest, fs::last_write_time(attempt.path(), ec));
    }
    if (now - newest < age) continue;
    fs::remove_all(job.path(), ec);
    if (ec) return Status::IOError(job.path().string(), ": cannot remove: ", ec.message());
    ++removed;
  }
  return removed;
}

}  // namespace tickforge::store
