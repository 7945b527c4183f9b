// Progress of long operations (ingest, label, book and panel builds): one update type, a
// callback type, and the reporter the work calls as it goes. It throttles the callback,
// serializes it across threads and turns a callback that throws into a Cancelled status, so a
// caller (the Python progress= hook) can stop the work cleanly. Nothing here prints; the CLI
// renders updates (cli/format.h ProgressLine), Python passes them on as dicts.
#pragma once

#include <arrow/record_batch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tickforge/util/status.h"

namespace tickforge {

/// Where a long operation stands. A count or total it cannot know is -1; counts start at 0
/// with each stage and never go down within it.
struct ProgressUpdate {
  std::string_view stage;
  int64_t files_done = 0, files_total = -1;
  int64_t rows_done = 0, rows_total = -1;
  int64_t bytes_done = 0, bytes_total = -1;
  /// Seconds since the stage began.
  double seconds = 0;
  /// The stage's last update (its counts are final).
  bool final = false;
};

/// Receives updates: at most about ten a second, the first and the last of each stage always.
/// A callback that throws stops the work (see ProgressReporter).
using ProgressFn = std::function<void(const ProgressUpdate&)>;

/// The byte-level hook of dbn::ConvertToParquet and book::BuildBookFile: (bytes read, bytes in
/// total) of one file. ProgressReporter::ForFile turns it into updates.
using ByteProgressFn = std::function<void(int64_t done, int64_t total)>;

/// The work's side of a ProgressFn. Every method may be called from any thread; the callback
/// runs under a lock, so it sees one update at a time. Without a callback every call is cheap
/// and returns OK. Once the callback throws, it is not called again and every method returns
/// Status::Cancelled with the exception's message: the work stops at its next report.
class ProgressReporter {
 public:
  /// Report to `fn` (may be empty), at most once per `interval` apart from forced updates.
  explicit ProgressReporter(ProgressFn fn, std::chrono::nanoseconds interval = std::chrono::milliseconds(100));
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  /// Return whether a callback is set.
  [[nodiscard]] bool enabled() const { return static_cast<bool>(fn_); }

  /// Start `stage` with these totals (-1: unknown), counts at 0; always reported.
  [[nodiscard]] Status Begin(std::string stage, int64_t files_total = -1, int64_t rows_total = -1,
                             int64_t bytes_total = -1);
  /// Count `rows`, `bytes` and `files` more done.
  [[nodiscard]] Status Add(int64_t rows, int64_t bytes = 0, int64_t files = 0);
  /// Set the bytes done (never below the count so far).
  [[nodiscard]] Status SetBytes(int64_t bytes_done);
  /// Report the stage's counts as final; always reported. Totals left unknown become the counts.
  [[nodiscard]] Status End();
  /// Return OK, or the Cancelled status of a callback that threw.
  [[nodiscard]] Status status() const;

  /// Return a ByteProgressFn for one file whose first byte is `base` bytes into the stage: it
  /// sets the bytes done to base + its bytes. Empty when no callback is set. The file's hook
  /// cannot fail, so a cancel takes effect at the next Add or End.
  [[nodiscard]] ByteProgressFn ForFile(int64_t base);

 private:
  // Call the callback with the current counts when forced or `interval_` has passed.
  Status ReportLocked(bool force, bool final);

  ProgressFn fn_;
  std::chrono::nanoseconds interval_;
  mutable std::mutex mutex_;
  std::string stage_;
  ProgressUpdate counts_;
  std::chrono::steady_clock::time_point start_{}, last_{};
  Status status_;
};

/// Return the size of each file (0 where it cannot be read): the bytes a stage over them counts.
[[nodiscard]] std::vector<int64_t> FileSizes(const std::vector<std::string>& paths);

/// Return `reader` reporting to `progress` as it is read: each batch's rows, and at its end
/// one file and `bytes` (the file's size). A cancel ends the stream with the Cancelled status.
[[nodiscard]] std::shared_ptr<arrow::RecordBatchReader> ReportRows(std::shared_ptr<arrow::RecordBatchReader> reader,
                                                                   ProgressReporter* progress, int64_t bytes = 0);

}  // namespace tickforge
