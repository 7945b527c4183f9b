// One commit in the making: the store's writer lock (flock on _tickforge/lock, so writers of
// several processes serialize), the staging folder new files are written to, the commit (the
// log entry is the commit point, then files move into place), and recovery of what a writer
// killed mid-commit left.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>
#include <string>

#include "tickforge/store/listing_internal.h"
#include "tickforge/store/log_internal.h"
#include "tickforge/store/manifest.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// Create `dir` and its parents; errors name it.
[[nodiscard]] Status EnsureDirectory(const std::filesystem::path& dir);

/// The newest snapshot a store's last commit made, kept so that its next commit in this process
/// need not read it again (a checkpoint of a million files takes a second). A transaction uses
/// it only when the log's newest version is still its version.
class SnapshotCache {
 public:
  struct Entry {
    std::shared_ptr<const Snapshot> snapshot;
    /// The newest checkpoint at or before it (0: none).
    int64_t checkpoint_version = 0;
  };
  [[nodiscard]] Entry Get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entry_;
  }
  void Put(Entry entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    entry_ = std::move(entry);
  }

 private:
  mutable std::mutex mutex_;
  Entry entry_;
};

/// What a transaction's base lists.
enum class BaseListing {
  /// Every file of every dataset.
  kWhole,
  /// Every dataset's definition, but of its files only those of the partitions asked for
  /// through CommittedFiles(), read from the newest checkpoint's matching row groups and the
  /// log entries after it; the totals come from the log. A commit then reads what it touches,
  /// not a million files (issue 12). Falls back to kWhole where only the full read is exact.
  kTouched,
};

/// One commit in the making. Holding it holds the store's writer lock; dropping it uncommitted
/// removes its staging folder.
class Transaction {
 public:
  using PartitionValues = std::vector<std::pair<std::string, std::string>>;

  /// Take the writer lock (waiting for it), recover what an earlier writer left, and start the
  /// commit after the newest snapshot. `paths` must outlive the transaction.
  /// With a `cache`, the base comes from it when current, and the committed snapshot goes into
  /// it (next() is then moved from once Commit() succeeded).
  /// With BaseListing::kTouched (and no current cache), base() and next() list only the
  /// files of partitions CommittedFiles() was asked for: a caller asks for each partition
  /// before it changes that partition's files.
  [[nodiscard]] static Result<std::unique_ptr<Transaction>> Begin(const StorePaths& paths, std::string operation,
                                                                  const StoreOptions& options = {},
                                                                  SnapshotCache* cache = nullptr,
                                                                  BaseListing listing = BaseListing::kWhole);

  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  /// Return the snapshot the commit starts from.
  [[nodiscard]] const Snapshot& base() const { return *base_; }
  /// Number the commit's files: unique across all its writers, since staging is one flat folder.
  [[nodiscard]] int64_t NextFileNumber() { return next_file_.fetch_add(1); }
  /// Return the snapshot being made, to change.
  [[nodiscard]] Snapshot& next() { return next_; }
  [[nodiscard]] int64_t version() const { return version_; }
  [[nodiscard]] const std::filesystem::path& staging() const { return staging_; }
  /// Return whether base() and next() list only the partitions asked for (BaseListing::kTouched).
  [[nodiscard]] bool partial() const { return partial_; }

  /// Return the base's files of `dataset` in the partition with `values`, whose files lie
  /// under folder `dir` (as the writers name them), in listing order. Of a partial base, the
  /// first call for a partition reads its files and adds them to base() and next(); safe to
  /// call from several threads.
  [[nodiscard]] Result<std::vector<FileEntry>> CommittedFiles(const std::string& dataset, const PartitionValues& values,
                                                              const std::string& dir);

  /// Commit: the log entry (what changed, format 2) is the commit point; then staged files
  /// move into place, the files this commit dropped move to the retired folder (older
  /// snapshots still read them), and a checkpoint is written when checkpoint_interval commits
  /// followed the last one (or the base was a format 1 entry: the upgrade of an old store).
  [[nodiscard]] Status Commit();

 private:
  Transaction(const StorePaths& paths, int fd, std::string operation, StoreOptions options, SnapshotCache* cache)
      : paths_(paths), lock_fd_(fd), operation_(std::move(operation)), options_(options), cache_(cache) {}

  /// Move the files `change` added still in staging into place and retire the ones it
  /// removed. Running it twice is harmless, which is what recovery relies on.
  [[nodiscard]] Status FinishMoves(const LogEntry& change);
  /// Finish or undo what a writer killed mid-commit left: roll the newest commit forward,
  /// drop staging folders of commits that never happened.
  [[nodiscard]] Status Recover();
  /// metadata.json (the seed's): what each dataset holds, for people and other tools.
  [[nodiscard]] Status WriteMetadataJson(const Totals& totals);
  /// Read the whole base snapshot and make next() it plus this commit's change (a partial
  /// base's commit that writes a checkpoint, or whose totals need the whole listing).
  [[nodiscard]] Status LoadWhole();

  const StorePaths& paths_;
  int lock_fd_;
  std::string operation_;
  StoreOptions options_;
  /// Where the base snapshot was read from: decides when the next checkpoint is due.
  SnapshotSource source_;
  SnapshotCache* cache_;
  std::shared_ptr<const Snapshot> base_;
  Snapshot next_;
  /// A partial base: the head it was read from, the base's totals, and the partitions read.
  bool partial_ = false;
  std::optional<StoreHead> head_;
  Totals base_totals_;
  std::shared_ptr<Snapshot> partial_base_;
  std::mutex load_mutex_;
  std::set<std::pair<std::string, std::string>> loaded_;
  /// Partitions of one dataset read from the checkpoint's row groups before its whole listing
  /// is read instead (kept here, apart from base and next).
  static constexpr int kPartitionReads = 16;
  std::map<std::string, int> partition_reads_;
  std::map<std::string, FileList> whole_listings_;
  /// The log carries no totals yet (older tickforge): this commit writes a checkpoint with them.
  bool upgrade_ = false;
  int64_t version_ = 0;
  std::filesystem::path staging_;
  std::atomic<int64_t> next_file_{0};
  bool committed_ = false;
};

}  // namespace tickforge::store
