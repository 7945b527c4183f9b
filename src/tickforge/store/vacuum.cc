// Store::Vacuum: delete retired files that no retained version lists (see store.h).
#include "tickforge/store/vacuum_internal.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>
#include <vector>

#include "tickforge/store/log_internal.h"
#include "tickforge/store/store.h"
#include "tickforge/store/staging.h"
#include "tickforge/store/transaction_internal.h"
#include "tickforge/util/io.h"

namespace tickforge::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

int64_t CountStaging(const StorePaths& paths) {
  std::error_code ec;
  int64_t count = 0;
  const fs::path root = paths.meta / "staging";
  if (!fs::exists(root, ec)) return 0;
  for (const auto& entry : fs::directory_iterator(root, ec)) count += entry.is_directory(ec) ? 1 : 0;
  return count;
}

}  // namespace

Status CheckNotVacuumed(const StorePaths& paths, int64_t version, const FileEntry& file, const fs::path& resolved) {
  std::error_code ec;
  if (fs::exists(resolved, ec) || !fs::exists(paths.vacuum, ec)) return Status::OK();
  try {
    std::ifstream in(paths.vacuum);
    const json record = json::parse(in);
    const int64_t oldest = record.at("oldest_retained_version").get<int64_t>();
    if (version >= oldest) return Status::OK();
    return Status::IOError(paths.root.string(), ": version ", version, " can no longer be scanned: its file ",
                           file.path, " was deleted by the vacuum of ", record.at("vacuumed_at").get<std::string>(),
                           ", which kept the files of versions ", oldest, " and newer only");
  } catch (const std::exception& e) {
    return Status::Invalid(paths.vacuum.string(), ": malformed vacuum record: ", e.what());
  }
}

Result<VacuumReport> Store::Vacuum(const VacuumOptions& options) {
  if (!(options.older_than_seconds >= 0)) {
    return Status::Invalid("vacuum: older_than must not be negative, not ", options.older_than_seconds);
  }
  if (options.retain_versions < 0) return Status::Invalid("vacuum: retain_versions must not be negative");
  VacuumReport report;
  report.dry_run = options.dry_run;
  // A real vacuum holds the writer lock (no commit retires files under it) and lets recovery
  // finish or drop what killed writers left; a dry run changes nothing, so it takes neither.
  std::unique_ptr<Transaction> txn;
  const int64_t staging = CountStaging(paths_);
  if (!options.dry_run) {
    ARROW_ASSIGN_OR_RAISE(txn, Transaction::Begin(paths_, "vacuum", options_));
    // Staged jobs whose driver died before its commit (staging.h), idle past the window.
    ARROW_RETURN_NOT_OK(RemoveStaleJobs(paths_, options.older_than_seconds).status());
    report.staging_removed = staging - CountStaging(paths_);
    report.latest_version = txn->base().version;
  } else {
    report.staging_removed = staging;
    ARROW_ASSIGN_OR_RAISE(report.latest_version, LatestVersion(paths_));
  }
  const int64_t latest = report.latest_version;
  // Versions are committed in time order: walk back while they are recent, and keep the first
  // older one too (it was the newest when the window opened).
  const std::string cutoff = UtcSecondsAgo(options.older_than_seconds);
  std::vector<ParsedLogEntry> entries;  // newest first
  int64_t oldest = latest;
  bool passed_cutoff = false;
  for (int64_t v = latest; v > 0; --v) {
    ARROW_ASSIGN_OR_RAISE(auto entry, ReadLogEntry(paths_, v));
    const std::string& committed_at = entry.whole ? entry.whole->committed_at : entry.change.committed_at;
    const bool in_window = committed_at >= cutoff;
    if (!in_window && passed_cutoff && v <= latest - options.retain_versions) break;
    passed_cutoff = passed_cutoff || !in_window;
    entries.push_back(std::move(entry));
    oldest = v;
  }
  report.oldest_retained_version = oldest;
  // The files retained versions list: the oldest one's, plus each later commit's additions.
  std::unordered_set<std::string> listed;
  if (oldest > 0) {
    ARROW_ASSIGN_OR_RAISE(auto base, store::ReadSnapshot(paths_, oldest));
    for (const auto& [name, dataset] : base.datasets) {
      for (const auto& file : dataset.files) listed.insert(file.path);
    }
    for (const auto& entry : entries) {
      if (entry.whole) {
        for (const auto& [name, dataset] : entry.whole->datasets) {
          for (const auto& file : dataset.files) listed.insert(file.path);
        }
      } else {
        for (const auto& [name, files] : entry.change.added) {
          for (const auto& file : files) listed.insert(file.path);
        }
      }
    }
  }
  std::error_code ec;
  if (fs::exists(paths_.retired, ec)) {
    std::vector<fs::path> folders;
    for (auto it = fs::recursive_directory_iterator(paths_.retired, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_directory(ec)) {
        folders.push_back(it->path());
        continue;
      }
      const std::string relative = it->path().lexically_relative(paths_.retired).generic_string();
      if (listed.count(relative)) {
        ++report.files_kept;
        continue;
      }
      const auto size = fs::file_size(it->path(), ec);
      if (ec) return Status::IOError(it->path().string(), ": ", ec.message());
      if (!options.dry_run && !fs::remove(it->path(), ec)) {
        return Status::IOError(it->path().string(), ": cannot delete: ", ec.message());
      }
      ++report.files_deleted;
      report.bytes_freed += static_cast<int64_t>(size);
      report.deleted.push_back(relative);
    }
    if (ec) return Status::IOError(paths_.retired.string(), ": ", ec.message());
    if (!options.dry_run) {
      // Deepest first, so emptied parents go too; folders still holding files stay.
      std::sort(folders.begin(), folders.end(), [](const fs::path& a, const fs::path& b) {
        return a.string().size() > b.string().size();
      });
      for (const auto& folder : folders) {
        if (fs::is_empty(folder, ec)) fs::remove(folder, ec);
      }
    }
  }
  std::sort(report.deleted.begin(), report.deleted.end());
  if (!options.dry_run && report.files_deleted > 0) {
    const json record = {{"vacuumed_at", UtcNow()},
                         {"oldest_retained_version", oldest},
                         {"latest_version", latest},
                         {"older_than_seconds", options.older_than_seconds},
                         {"files_deleted", report.files_deleted},
                         {"bytes_freed", report.bytes_freed}};
    ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(paths_.vacuum));
    ARROW_RETURN_NOT_OK(file->stream()->Write(record.dump(1) + "\n"));
    ARROW_RETURN_NOT_OK(file->Commit());
  }
  return report;
}

}  // namespace tickforge::store
