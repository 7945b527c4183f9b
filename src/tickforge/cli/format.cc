#include "tickforge/cli/format.h"

#include <fmt/format.h>
#include <unistd.h>

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

Progress::Progress(std::string label) : label_(std::move(label)), enabled_(::isatty(2) != 0) {}

Progress::~Progress() {
  if (shown_) fmt::print(stderr, "\r\033[K");
}

void Progress::operator()(int64_t done, int64_t total) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  // Redrawing more often than ten times a second only costs time.
  if (now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  shown_ = true;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double fraction = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0;
  const int width = 30;
  const int filled = static_cast<int>(fraction * width);
  fmt::print(stderr, "\r{} [{}{}] {:5.1f}% {}/s", label_, std::string(filled, '#'),
             std::string(width - filled, ' '), fraction * 100,
             FormatBytes(seconds > 0 ? static_cast<double>(done) / seconds : 0));
}

}  // namespace tickforge::cli
