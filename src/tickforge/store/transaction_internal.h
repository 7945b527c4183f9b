// One commit in the making: the store's writer lock (flock on _tickforge/lock, so writers of
// several processes serialize), the staging folder new files are written to, the commit (the
// log entry is the commit point, then files move into place), and recovery of what a writer
// killed mid-commit left.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "tickforge/store/log_internal.h"
#include "tickforge/store/manifest.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// Create `dir` and its parents; errors name it.
[[nodiscard]] Status EnsureDirectory(const std::filesystem::path& dir);

/// One commit in the making. Holding it holds the store's writer lock; dropping it uncommitted
/// removes its staging folder.
class Transaction {
 public:
  /// Take the writer lock (waiting for it), recover what an earlier writer left, and start the
  /// commit after the newest snapshot. `paths` must outlive the transaction.
  [[nodiscard]] static Result<std::unique_ptr<Transaction>> Begin(const StorePaths& paths, std::string operation,
                                                                  const StoreOptions& options = {});

  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  /// Return the snapshot the commit starts from.
  [[nodiscard]] const Snapshot& base() const { return base_; }
  /// Number the commit's files: unique across all its writers, since staging is one flat folder.
  [[nodiscard]] int64_t NextFileNumber() { return next_file_.fetch_add(1); }
  /// Return the snapshot being made, to change.
  [[nodiscard]] Snapshot& next() { return next_; }
  [[nodiscard]] int64_t version() const { return next_.version; }
  [[nodiscard]] const std::filesystem::path& staging() const { return staging_; }

  /// Commit: the log entry (what changed, format 2) is the commit point; then staged files
  /// move into place, the files this commit dropped move to the retired folder (older
  /// snapshots still read them), and a checkpoint is written when checkpoint_interval commits
  /// followed the last one (or the base was a format 1 entry: the upgrade of an old store).
  [[nodiscard]] Status Commit();

 private:
  Transaction(const StorePaths& paths, int fd, std::string operation, StoreOptions options)
      : paths_(paths), lock_fd_(fd), operation_(std::move(operation)), options_(options) {}

  /// Move the files `change` added still in staging into place and retire the ones it
  /// removed. Running it twice is harmless, which is what recovery relies on.
  [[nodiscard]] Status FinishMoves(const LogEntry& change);
  /// Finish or undo what a writer killed mid-commit left: roll the newest commit forward,
  /// drop staging folders of commits that never happened.
  [[nodiscard]] Status Recover();
  /// metadata.json (the seed's): what each dataset holds, for people and other tools.
  [[nodiscard]] Status WriteMetadataJson();

  const StorePaths& paths_;
  int lock_fd_;
  std::string operation_;
  StoreOptions options_;
  /// Where the base snapshot was read from: decides when the next checkpoint is due.
  SnapshotSource source_;
  Snapshot base_;
  Snapshot next_;
  std::filesystem::path staging_;
  std::atomic<int64_t> next_file_{0};
  bool committed_ = false;
};

}  // namespace tickforge::store
