// `tickforge dbn inspect / to-parquet`.
#pragma once

#include <CLI/CLI.hpp>

namespace tickforge::cli {

/// Register the dbn verbs on `app`; a failing verb prints its error and sets *exit_code.
void AddDbnCommands(CLI::App& app, int* exit_code);

}  // namespace tickforge::cli
