// `tickforge book build`.
#pragma once

#include <CLI/CLI.hpp>

namespace tickforge::cli {

/// Register the book verbs on `app`; a failing verb prints its error and sets *exit_code.
void AddBookCommands(CLI::App& app, int* exit_code);

}  // namespace tickforge::cli
