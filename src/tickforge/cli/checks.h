// Option checks that say the rule ("must be 0 or more") where CLI11's own print the range of a
// double.
#pragma once

#include <CLI/CLI.hpp>

namespace tickforge::cli {

/// A number of at least 0 (a version, a row, a count).
[[nodiscard]] CLI::Validator NonNegative();

/// A number of at least 1 (a batch size, rows per group).
[[nodiscard]] CLI::Validator Positive();

}  // namespace tickforge::cli
