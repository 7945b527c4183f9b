// Transactions (see transaction_internal.h): the writer lock, staging, commit and recovery.
#include "tickforge/store/transaction_internal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <set>

#include <nlohmann/json.hpp>

#include "tickforge/store/checkpoint_internal.h"
#include "tickforge/store/options.h"
#include "tickforge/store/rules_internal.h"
#include "tickforge/store/staging.h"
#include "tickforge/store/totals_internal.h"
#include "tickforge/util/io.h"

namespace tickforge::store {

namespace fs = std::filesystem;
using nlohmann::json;

Status EnsureDirectory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError(dir.string(), ": ", ec.message());
  return Status::OK();
}

namespace {

/// Say that a failure after the commit point left the commit itself in place.
Status WithContext(const Status& status, int64_t version) {
  if (status.ok()) return status;
  return status.WithMessage("version ", version, " is committed, but its checkpoint was not written: ",
                            status.message());
}

Status MoveFile(const fs::path& from, const fs::path& to) {
  ARROW_RETURN_NOT_OK(EnsureDirectory(to.parent_path()));
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Status::IOError("cannot move ", from.string(), " to ", to.string(), ": ", std::strerror(errno));
  }
  return Status::OK();
}

/// Flush every written file of the store's filesystem to disk with one call.
Status SyncStore(const fs::path& root) {
  const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError(root.string(), ": ", std::strerror(errno));
  const int rc = ::syncfs(fd);
  ::close(fd);
  if (rc != 0) return Status::IOError(root.string(), ": syncfs: ", std::strerror(errno));
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<Transaction>> Transaction::Begin(const StorePaths& paths, std::string operation,
                                                        const StoreOptions& options, SnapshotCache* cache,
                                                        BaseListing listing) {
  if (options.checkpoint_interval < 1) {
    return Status::Invalid("checkpoint_interval must be at least 1, not ", options.checkpoint_interval);
  }
  ARROW_RETURN_NOT_OK(EnsureDirectory(paths.meta));
  const int fd = ::open(paths.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(paths.lock.string(), ": ", std::strerror(errno));
  if (::flock(fd, LOCK_EX) != 0) {
    ::close(fd);
    return Status::IOError(paths.lock.string(), ": cannot lock: ", std::strerror(errno));
  }
  std::unique_ptr<Transaction> txn(new Transaction(paths, fd, std::move(operation), options, cache));
  ARROW_RETURN_NOT_OK(txn->Recover());
  // Versions are never reused (each log entry is created exclusively), so a cached snapshot
  // of the newest version is that version.
  const SnapshotCache::Entry cached = cache ? cache->Get() : SnapshotCache::Entry{};
  ARROW_ASSIGN_OR_RAISE(int64_t latest, LatestVersion(paths));
  if (cached.snapshot && cached.snapshot->version == latest) {
    txn->base_ = cached.snapshot;
    txn->source_ = {cached.checkpoint_version > 0 ? SnapshotSource::Kind::kCheckpoint : SnapshotSource::Kind::kEmpty,
                    cached.checkpoint_version, 0};
  } else {
    HeadMiss miss = HeadMiss::kOther;
    if (listing == BaseListing::kTouched && latest > 0) {
      ARROW_ASSIGN_OR_RAISE(txn->head_, ReadStoreHead(paths, latest, &miss));
    }
    if (txn->head_) {
      // The definitions and totals only; partitions are read as the commit asks for them.
      txn->partial_ = true;
      txn->base_totals_ = txn->head_->totals;
      txn->partial_base_ = std::make_shared<Snapshot>(txn->head_->snapshot);
      txn->base_ = txn->partial_base_;
      txn->source_ = {txn->head_->checkpoint_version > 0 ? SnapshotSource::Kind::kCheckpoint
                                                         : SnapshotSource::Kind::kEmpty,
                      txn->head_->checkpoint_version, static_cast<int64_t>(txn->head_->entries.size())};
    } else {
      ARROW_ASSIGN_OR_RAISE(auto base, ReadSnapshotFrom(paths, latest, &txn->source_));
      txn->base_ = std::make_shared<const Snapshot>(std::move(base));
      // An old store's log has no totals: its first such commit writes a checkpoint with them.
      txn->upgrade_ = miss == HeadMiss::kNoTotals && txn->source_.kind != SnapshotSource::Kind::kWholeEntry;
      // Kept at once, so that a transaction that commits nothing (a re-ingest of known rows)
      // does not make the next one read it again. Not an old store's whole entry: its first
      // commit must see that it upgrades.
      if (cache && txn->source_.kind != SnapshotSource::Kind::kWholeEntry) {
        cache->Put({txn->base_, txn->source_.kind == SnapshotSource::Kind::kCheckpoint ? txn->source_.base_version : 0});
      }
    }
  }
  txn->next_ = *txn->base_;
  txn->next_.details.clear();
  txn->next_.version = txn->base_->version + 1;
  txn->version_ = txn->next_.version;
  txn->staging_ = paths.Staging(txn->next_.version);
  return txn;
}

Result<std::vector<FileEntry>> Transaction::CommittedFiles(const std::string& dataset, const PartitionValues& values,
                                                           const std::string& dir) {
  std::lock_guard<std::mutex> lock(load_mutex_);
  const auto it = base_->datasets.find(dataset);
  if (it == base_->datasets.end()) return std::vector<FileEntry>{};
  if (partial_ && loaded_.emplace(dataset, dir).second) {
    CheckpointSelection selection;
    for (const auto& [key, value] : values) selection.key_values.push_back({key, {value}});
    selection.keep = [&values](const FileEntry& file) { return file.partition == values; };
    // Writers name a partition's files under its folder (the search below relies on it too).
    selection.path_prefix = dir + "/";
    std::vector<FileEntry> files;
    auto whole = whole_listings_.find(dataset);
    if (whole == whole_listings_.end() && ++partition_reads_[dataset] > kPartitionReads) {
      // A commit of many partitions reads the dataset's listing once, not row groups by the
      // hundred; partitions are then cut from it.
      ARROW_ASSIGN_OR_RAISE(FileList all, ReadHeadFiles(paths_, *head_, dataset, CheckpointSelection{}));
      whole = whole_listings_.emplace(dataset, std::move(all)).first;
    }
    if (whole != whole_listings_.end()) {
      const FileList& all = whole->second;
      for (size_t i = all.LowerBound(selection.path_prefix);
           i < all.size() && all[i].path.starts_with(selection.path_prefix); ++i) {
        if (selection.keep(all[i])) files.push_back(all[i]);
      }
    } else {
      ARROW_ASSIGN_OR_RAISE(FileList read, ReadHeadFiles(paths_, *head_, dataset, selection));
      files = read.ToVector();
    }
    if (!files.empty()) {
      partial_base_->datasets.at(dataset).files.MergeSorted(files);
      if (auto next = next_.datasets.find(dataset); next != next_.datasets.end()) {
        next->second.files.MergeSorted(std::move(files));
      }
    }
  }
  std::vector<FileEntry> found;
  const FileList& files = it->second.files;
  // Every writer names a file under its partition's folder, so in a listing sorted by path
  // the partition's files are one run: found by a binary search, not by reading a million
  // entries at every commit.
  const std::string prefix = dir + "/";
  if (files.sorted()) {
    for (size_t i = files.LowerBound(prefix); i < files.size() && files[i].path.starts_with(prefix); ++i) {
      if (files[i].partition == values) found.push_back(files[i]);
    }
  } else {
    for (const auto& file : files) {
      if (file.partition == values) found.push_back(file);
    }
  }
  return found;
}

Status Transaction::LoadWhole() {
  if (!partial_) return Status::OK();
  const LogEntry change = DiffSnapshots(*base_, next_);
  SnapshotSource source;
  ARROW_ASSIGN_OR_RAISE(Snapshot whole, ReadSnapshotFrom(paths_, base_->version, &source));
  Snapshot next = whole;
  ARROW_RETURN_NOT_OK(ApplyLogEntry(change, "commit " + std::to_string(version_), &next));
  next.details = next_.details;
  base_ = std::make_shared<const Snapshot>(std::move(whole));
  next_ = std::move(next);
  source_ = source;
  partial_ = false;
  partial_base_.reset();
  return Status::OK();
}

Transaction::~Transaction() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
  ::flock(lock_fd_, LOCK_UN);
  ::close(lock_fd_);
}

Status Transaction::Commit() {
  next_.operation = operation_;
  next_.committed_at = UtcNow();
  std::error_code ec;
  int64_t checkpoint = source_.kind == SnapshotSource::Kind::kEmpty ? 0 : source_.base_version;
  // A checkpoint lists everything: a partial base reads the whole listing for it (once every
  // checkpoint_interval commits).
  if (upgrade_ || next_.version - checkpoint >= options_.checkpoint_interval) ARROW_RETURN_NOT_OK(LoadWhole());
  if (!partial_) base_totals_ = SumSnapshot(*base_);
  LogEntry change = DiffSnapshots(*base_, next_);
  ARROW_ASSIGN_OR_RAISE(std::optional<Totals> totals, ApplyChangeToTotals(base_totals_, *base_, &change));
  if (!totals) {
    // A removed file held a dataset's first or last time: the new range needs every file.
    ARROW_RETURN_NOT_OK(LoadWhole());
    change = DiffSnapshots(*base_, next_);
    totals = SumSnapshot(next_);
    RecordTotals(base_totals_, *totals, &change);
  }
  // Every file the snapshot adds must be staged: never commit a listing of missing data. The
  // files of this version are new, so the change lists all of them.
  std::set<std::string> names;
  for (const auto& [name, files] : change.added) {
    for (const auto& file : files) {
      if (file.version != next_.version) continue;
      if (!names.insert(paths_.Staged(file).string()).second || !fs::exists(paths_.Staged(file), ec)) {
        return Status::UnknownError("commit ", next_.version, ": staged file for ", file.path,
                                    " is missing or named twice; nothing was committed");
      }
    }
  }
  if (fs::exists(staging_, ec)) ARROW_RETURN_NOT_OK(SyncStore(paths_.root));
  ARROW_RETURN_NOT_OK(CommitLogEntry(paths_, change));
  committed_ = true;
  // The pointer follows the commit point at once (before the files move, which takes a while
  // for a large commit), so other tools see the newest version even if this writer dies now.
  // (An old store's upgrade checkpoint is not written yet: none is named until it is.)
  const int64_t pointed = source_.kind == SnapshotSource::Kind::kWholeEntry ? 0 : checkpoint;
  ARROW_RETURN_NOT_OK(WriteManifestPointer(paths_, next_, pointed));
  ARROW_RETURN_NOT_OK(FinishMoves(change));
  // The log alone is complete; a checkpoint only bounds how many entries a reader replays, so
  // a crash before or while it is written leaves a correct store.
  if (source_.kind == SnapshotSource::Kind::kWholeEntry) {
    // An old store's first commit: later opens read this checkpoint, never the old big entry.
    ARROW_RETURN_NOT_OK(WithContext(WriteCheckpoint(paths_, *base_), next_.version));
  }
  if (upgrade_ || next_.version - checkpoint >= options_.checkpoint_interval) {
    ARROW_RETURN_NOT_OK(WithContext(WriteCheckpoint(paths_, next_), next_.version));
    checkpoint = next_.version;
  }
  if (checkpoint != pointed) ARROW_RETURN_NOT_OK(WriteManifestPointer(paths_, next_, checkpoint));
  ARROW_RETURN_NOT_OK(WriteMetadataJson(*totals));
  // A partial snapshot is no base for a later commit; the whole one is.
  if (cache_ && !partial_) cache_->Put({std::make_shared<const Snapshot>(std::move(next_)), checkpoint});
  return Status::OK();
}

Status Transaction::FinishMoves(const LogEntry& change) {
  std::error_code ec;
  for (const auto& [name, files] : change.added) {
    for (const auto& file : files) {
      if (file.version != change.version) continue;
      // Plain rename first: the folder exists (made while writing) and this runs per file.
      const fs::path staged = paths_.Staged(file);
      const fs::path target = paths_.root / file.path;
      if (::rename(staged.c_str(), target.c_str()) != 0 && fs::exists(staged, ec)) {
        ARROW_RETURN_NOT_OK(MoveFile(staged, target));
      }
    }
  }
  for (const auto& [name, paths] : change.removed) {
    std::set<std::string> re_added;
    if (auto it = change.added.find(name); it != change.added.end()) {
      for (const auto& file : it->second) re_added.insert(file.path);
    }
    for (const auto& path : paths) {
      // A path removed and added again (a file entry rewritten) stays where it is.
      const fs::path in_place = paths_.root / path;
      if (!re_added.count(path) && fs::exists(in_place, ec)) {
        ARROW_RETURN_NOT_OK(MoveFile(in_place, paths_.retired / path));
      }
    }
  }
  fs::remove_all(paths_.Staging(change.version), ec);
  return Status::OK();
}

Status Transaction::Recover() {
  std::error_code ec;
  const fs::path staging_root = paths_.meta / "staging";
  if (!fs::exists(staging_root, ec)) return Status::OK();
  ARROW_ASSIGN_OR_RAISE(int64_t latest, LatestVersion(paths_));
  for (const auto& entry : fs::directory_iterator(staging_root, ec)) {
    // A staged job's attempts wait for their driver's commit (staging.h), not for this one.
    if (IsJobStagingName(entry.path().filename().string())) continue;
    int64_t version = -1;
    try {
      version = std::stoll(entry.path().filename().string());
    } catch (const std::exception&) {
    }
    if (version > 0 && version == latest) {
      ARROW_ASSIGN_OR_RAISE(auto entry, ReadLogEntry(paths_, latest));
      if (entry.whole) {
        // A commit of older tickforge (a whole snapshot): its change is the difference.
        ARROW_ASSIGN_OR_RAISE(auto before, ReadSnapshot(paths_, latest - 1));
        entry.change = DiffSnapshots(before, *entry.whole);
      }
      ARROW_RETURN_NOT_OK(FinishMoves(entry.change));
    }
    fs::remove_all(entry.path(), ec);
  }
  return Status::OK();
}

Status Transaction::WriteMetadataJson(const Totals& totals) {
  json root = SummaryJsonOf(next_, totals);
  root["format"] = "tickforge.store";
  for (auto& [name, dataset] : root["datasets"].items()) {
    dataset["path"] = name;
    dataset["partitioning"] = "hive";
  }
  ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(paths_.root / "metadata.json"));
  ARROW_RETURN_NOT_OK(file->stream()->Write(root.dump(2) + "\n"));
  ARROW_RETURN_NOT_OK(file->Commit());
  const fs::path config = paths_.root / "_config.json";
  if (!fs::exists(config)) {
    json partitioning = {{"klines", kKlineKeys}, {"aggtrades", kBinanceKeys},
                         {"funding", kBinanceKeys}, {"dbn", kDbnKeys}};
    json defaults = {{"format", "tickforge.store"},
                     {"partitioning", partitioning},
                     {"compression", "zstd"},
                     {"timestamp_unit", "ms (Binance types), ns (DBN types)"},
                     {"max_rows_per_file", 5'000'000},
                     {"incremental_updates", "use latest_timestamp(dataset, symbol) to resume"}};
    ARROW_ASSIGN_OR_RAISE(auto out, AtomicFile::Create(config));
    ARROW_RETURN_NOT_OK(out->stream()->Write(defaults.dump(2) + "\n"));
    ARROW_RETURN_NOT_OK(out->Commit());
  }
  return Status::OK();
}

}  // namespace tickforge::store
