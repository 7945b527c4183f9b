// `tickforge label fit / build / run`.
#pragma once

#include <CLI/CLI.hpp>

namespace tickforge::cli {

/// Register the label verbs on `app`; a failing verb prints its error and sets *exit_code.
void AddLabelCommands(CLI::App& app, int* exit_code);

}  // namespace tickforge::cli
