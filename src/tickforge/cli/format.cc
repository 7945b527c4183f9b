#include "tickforge/cli/format.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "tickforge/util/time.h"

namespace tickforge::cli {

int ReportError(const Status& status) {
  fmt::print(stderr, "tickforge: error: {}\n", Describe(status));
  return kExitError;
}

std::function<void()> RunCommand(int* exit_code, std::function<Status()> command) {
  return [exit_code, command = std::move(command)] {
    if (const Status status = command(); !status.ok()) *exit_code = ReportError(status);
  };
}

std::string FormatBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", bytes, units[unit]);
}

std::string FormatTimestampOrDash(uint64_t ns, uint64_t undefined) {
  return ns == undefined ? "-" : FormatTimestampNs(ns);
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string FormatCount(double count) {
  if (count < 1e3) return fmt::format("{:.0f}", count);
  if (count < 1e6) return fmt::format("{:.1f}k", count / 1e3);
  if (count < 1e9) return fmt::format("{:.1f}M", count / 1e6);
  return fmt::format("{:.1f}G", count / 1e9);
}

std::string FormatDuration(double seconds) {
  const auto total = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  const int64_t h = total / 3600, m = total / 60 % 60, s = total % 60;
  return h > 0 ? fmt::format("{}:{:02d}:{:02d}", h, m, s) : fmt::format("{}:{:02d}", m, s);
}

std::string FormatProgress(std::string_view prefix, const ProgressUpdate& u) {
  std::string line = fmt::format("{}{} ", prefix, u.stage);
  if (u.files_total > 0) line += fmt::format(" [{}/{} files]", u.files_done, u.files_total);
  if (u.rows_total >= 0 && !u.final) {
    line += fmt::format(" {}/{} rows", FormatCount(static_cast<double>(u.rows_done)),
                        FormatCount(static_cast<double>(u.rows_total)));
  } else {
    line += fmt::format(" {} rows", FormatCount(static_cast<double>(u.rows_done)));
  }
  if (u.seconds > 0 && u.rows_done > 0) {
    line += fmt::format("  {} rows/s", FormatCount(static_cast<double>(u.rows_done) / u.seconds));
  } else if (u.seconds > 0 && u.bytes_done > 0) {
    line += fmt::format("  {}/s", FormatBytes(static_cast<double>(u.bytes_done) / u.seconds));
  }
  if (u.final) return line + fmt::format("  {}", FormatDuration(u.seconds));
  // The fraction done, from the most even measure the stage knows.
  double fraction = -1;
  if (u.bytes_total > 0 && u.bytes_done > 0) {
    fraction = static_cast<double>(u.bytes_done) / static_cast<double>(u.bytes_total);
  } else if (u.files_total > 0 && u.files_done > 0) {
    fraction = static_cast<double>(u.files_done) / static_cast<double>(u.files_total);
  } else if (u.rows_total > 0 && u.rows_done > 0) {
    fraction = static_cast<double>(u.rows_done) / static_cast<double>(u.rows_total);
  }
  if (fraction > 0 && u.seconds > 0) {
    line += fmt::format("  ETA {}", FormatDuration(u.seconds * (1 - std::min(fraction, 1.0)) / fraction));
  }
  return line;
}

ProgressLine::ProgressLine(std::string prefix, bool enabled) : prefix_(std::move(prefix)), enabled_(enabled) {}

ProgressLine::~ProgressLine() { Close(); }

void ProgressLine::Close() {
  enabled_ = false;
  if (shown_width_ == 0) return;
  shown_width_ = 0;
  fmt::print(stderr, "\n");
  std::fflush(stderr);
}

void ProgressLine::Clear() {
  if (shown_width_ == 0) return;
  shown_width_ = 0;
  fmt::print(stderr, "\r\033[K");
  std::fflush(stderr);
}

bool ProgressLine::IsTerminal() { return ::isatty(2) != 0; }

ProgressFn ProgressLine::Fn() {
  if (!enabled_) return {};
  return [this](const ProgressUpdate& update) { Draw(update); };
}

void ProgressLine::Draw(const ProgressUpdate& update) {
  if (!enabled_) return;
  const std::string line = FormatProgress(prefix_, update);
  // \033[K clears what a longer previous line left to the right.
  fmt::print(stderr, "\r{}\033[K", line);
  std::fflush(stderr);
  shown_width_ = std::max<size_t>(line.size(), 1);
}

}  // namespace tickforge::cli
