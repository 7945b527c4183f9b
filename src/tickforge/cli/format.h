// What every `tickforge` command prints the same way: errors and exit codes, byte sizes,
// timestamps, elapsed times and the progress bar.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

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

/// A one-line progress display on a terminal; silent when stderr is not a terminal. Its call
/// operator is a dbn::ProgressFn (bytes done, bytes total); the line is erased on destruction.
class Progress {
 public:
  explicit Progress(std::string label);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void operator()(int64_t done, int64_t total);

 private:
  std::string label_;
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace tickforge::cli
