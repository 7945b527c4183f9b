// `tickforge panel build`.
#pragma once

#include <CLI/CLI.hpp>

namespace tickforge::cli {

/// Register the panel verbs on `app`; a failing verb prints its error and sets *exit_code.
void AddPanelCommands(CLI::App& app, int* exit_code);

}  // namespace tickforge::cli
