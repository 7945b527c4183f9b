// What every `tickforge` command prints the same way: errors and exit codes, byte sizes,
// timestamps, elapsed times and the progress line.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "tickforge/util/progress.h"
#include "tickforge/util/status.h"

namespace tickforge::cli {

/// The exit code of a command that failed after its arguments parsed (CLI11 has its own).
inline constexpr int kExitError = 1;

/// Print `status` as "tickforge: error: MESSAGE" on stderr and return kExitError.
int ReportError(const Status& status);

/// Wrap a command as a CLI11 callback: run it; on failure report its error and set *exit_code.
[[nodiscard]] std::function<void()> RunCommand(int* exit_code, std::function<Status()> command);

/// Format a size as "12.3 MiB" (binary units, one decimal).
[[nodiscard]] std::string FormatBytes(double bytes);

/// Format UNIX nanoseconds as util/time.h does, or "-" when `ns` equals `undefined`.
[[nodiscard]] std::string FormatTimestampOrDash(uint64_t ns, uint64_t undefined);

/// Return the seconds elapsed since `start`.
[[nodiscard]] double SecondsSince(std::chrono::steady_clock::time_point start);

/// Format a count as "812", "12.3k", "1.2M" or "3.4G".
[[nodiscard]] std::string FormatCount(double count);

/// Format seconds as "0:42", "12:05" or "1:02:03".
[[nodiscard]] std::string FormatDuration(double seconds);

/// Return the progress line of `update` after `prefix` (e.g. "label "): the stage, files and
/// rows done of total, the rows (or bytes) per second and the ETA (from bytes, else files,
/// else rows), e.g. "label build  [12/48 files] 1.2M rows  310k rows/s  ETA 0:42".
[[nodiscard]] std::string FormatProgress(std::string_view prefix, const ProgressUpdate& update);

/// The terminal view of a ProgressFn: one line on stderr rewritten in place (with \r) when
/// stderr is a terminal, nothing otherwise. When shown, the line is ended with a newline on
/// destruction, so what the command prints next starts on a clean line.
class ProgressLine {
 public:
  /// Show updates after `prefix`; `enabled` says whether to draw (default: stderr is a terminal).
  explicit ProgressLine(std::string prefix, bool enabled = IsTerminal());
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  /// Return the ProgressFn that draws on this line (empty when not enabled, so the work
  /// skips its reports).
  [[nodiscard]] ProgressFn Fn();

  /// Erase the line so text printed now starts at the left; the next update draws it again.
  void Clear();

  /// End the line (a newline when one was drawn) before the command prints its result; later
  /// updates are not drawn.
  void Close();

  /// Return whether stderr is a terminal.
  [[nodiscard]] static bool IsTerminal();

 private:
  void Draw(const ProgressUpdate& update);

  std::string prefix_;
  bool enabled_;
  size_t shown_width_ = 0;
};

}  // namespace tickforge::cli
