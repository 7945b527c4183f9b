// The error model: Arrow's Status and Result<T>, plus helpers that put the file and the
// byte offset (binary formats) or the line (text formats) into every message about bad input.
#pragma once

#include <arrow/result.h>
#include <arrow/status.h>

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace tickforge {

using arrow::Result;
using arrow::Status;

/// Return an Invalid status naming the file and the byte offset where the input went wrong.
template <typename... Args>
[[nodiscard]] Status InputError(std::string_view path, uint64_t offset,
                                fmt::format_string<Args...> format, Args&&... args) {
  return Status::Invalid(path, ": byte ", offset, ": ",
                         fmt::format(format, std::forward<Args>(args)...));
}

/// Return an Invalid status naming the file and the 1-based line where a text input went wrong.
template <typename... Args>
[[nodiscard]] Status InputLineError(std::string_view path, int64_t line,
                                    fmt::format_string<Args...> format, Args&&... args) {
  return Status::Invalid(path, ": line ", line, ": ",
                         fmt::format(format, std::forward<Args>(args)...));
}

/// Return the message a person reads: the status's message and its detail (an I/O error's
/// operating-system reason, e.g. "[errno 28] No space left on device"), which message() omits.
[[nodiscard]] inline std::string Describe(const Status& status) {
  std::string text = status.message();
  if (const auto& detail = status.detail()) text += ": " + detail->ToString();
  return text;
}

/// Return `status` with `path` prefixed to its message unless the message already names it.
[[nodiscard]] inline Status WithPath(const Status& status, std::string_view path) {
  if (status.ok() || status.message().find(path) != std::string::npos) return status;
  return status.WithMessage(std::string(path) + ": " + status.message());
}

}  // namespace tickforge
