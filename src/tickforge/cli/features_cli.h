// `tickforge features render`.
#pragma once

#include <CLI/CLI.hpp>

namespace tickforge::cli {

/// Register the features verbs on `app`; a failing verb prints its error and sets *exit_code.
void AddFeaturesCommands(CLI::App& app, int* exit_code);

}  // namespace tickforge::cli
