// A Python progress= callable as a ProgressFn (util/progress.h): each update reaches it as a
// dict, with the GIL held; an exception it raises stops the work and is raised again, as it
// was, when the binding returns.
#pragma once

#include <nanobind/nanobind.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tickforge/python/errors.h"
#include "tickforge/util/progress.h"

namespace tickforge::python {

/// Lives on a binding's stack around work run without the GIL.
class PyProgress {
 public:
  /// Wrap `callback` (None: no progress). Call with the GIL held.
  explicit PyProgress(nanobind::object callback);
  PyProgress(const PyProgress&) = delete;
  PyProgress& operator=(const PyProgress&) = delete;

  /// Return the ProgressFn that calls the callback (empty for None). It refers to this object,
  /// so copies of it made without the GIL touch no Python reference count.
  [[nodiscard]] ProgressFn Fn();

  /// With the GIL held after the work: raise what the callback raised, if it did.
  void RaiseIfFailed();

  /// Run `work` (returning Result<T>) without the GIL; raise the callback's exception if it
  /// raised, else return the value or raise the work's error as TickforgeError.
  template <typename Work>
  auto Run(Work&& work) {
    std::optional<decltype(work())> result;
    {
      nanobind::gil_scoped_release release;
      result.emplace(std::forward<Work>(work)());
    }
    RaiseIfFailed();
    return Unwrap(std::move(*result));
  }

 private:
  void Call(const ProgressUpdate& update);

  nanobind::object callback_;
  std::optional<nanobind::python_error> error_;
};

/// Remove `paths` (what work stopped by its callback had written); errors are ignored.
void RemoveFiles(const std::vector<std::string>& paths);

/// Return the update as the dict a callback receives: stage, files_done, files_total,
/// rows_done, rows_total, bytes_done, bytes_total (None when unknown), seconds, final.
[[nodiscard]] nanobind::dict ProgressDict(const ProgressUpdate& update);

}  // namespace tickforge::python
