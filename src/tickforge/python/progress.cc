#include "tickforge/python/progress.h"

#include <nanobind/stl/string.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace nb = nanobind;

namespace tickforge::python {

namespace {

nb::object Total(int64_t total) {
  if (total < 0) return nb::none();
  return nb::int_(total);
}

}  // namespace

void RemoveFiles(const std::vector<std::string>& paths) {
  std::error_code ec;
  for (const auto& path : paths) std::filesystem::remove(path, ec);
}

nb::dict ProgressDict(const ProgressUpdate& u) {
  nb::dict d;
  d["stage"] = std::string(u.stage);
  d["files_done"] = u.files_done;
  d["files_total"] = Total(u.files_total);
  d["rows_done"] = u.rows_done;
  d["rows_total"] = Total(u.rows_total);
  d["bytes_done"] = u.bytes_done;
  d["bytes_total"] = Total(u.bytes_total);
  d["seconds"] = u.seconds;
  d["final"] = u.final;
  return d;
}

PyProgress::PyProgress(nb::object callback) : callback_(std::move(callback)) {}

ProgressFn PyProgress::Fn() {
  if (!callback_.is_valid() || callback_.is_none()) return {};
  return [this](const ProgressUpdate& update) { Call(update); };
}

void PyProgress::Call(const ProgressUpdate& update) {
  nb::gil_scoped_acquire acquire;
  try {
    callback_(ProgressDict(update));
  } catch (nb::python_error& e) {
    // Kept to be raised again as it was; the work sees a plain C++ exception and cancels.
    error_.emplace(std::move(e));
    throw std::runtime_error("the progress callback raised an exception");
  }
}

void PyProgress::RaiseIfFailed() {
  if (!error_) return;
  nb::python_error error = std::move(*error_);
  error_.reset();
  throw error;
}

}  // namespace tickforge::python
