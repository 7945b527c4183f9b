// How the bindings turn a Status into a Python error: every failure the engine reports is
// raised as tickforge.TickforgeError (a ValueError) with the Status message and its detail.
#pragma once

#include <nanobind/nanobind.h>

#include <stdexcept>
#include <utility>

#include "tickforge/util/status.h"

namespace tickforge::python {

/// The C++ side of TickforgeError; nanobind translates it when it leaves a binding.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Throw Error with the message (and the operating system's reason) of a failed `status`.
inline void Check(const Status& status) {
  if (!status.ok()) throw Error(Describe(status));
}

/// Return the value of `result`, or throw Error with its message.
template <typename T>
T Unwrap(Result<T> result) {
  Check(result.status());
  return std::move(result).ValueUnsafe();
}

/// Register TickforgeError on the module `m`.
void BindErrors(nanobind::module_& m);

}  // namespace tickforge::python
