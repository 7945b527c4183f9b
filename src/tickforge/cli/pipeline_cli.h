// `tickforge pipeline run`.
#pragma once

#include <CLI/CLI.hpp>

namespace tickforge::cli {

/// Register the pipeline verbs on `app`; a failing verb prints its error and sets *exit_code.
void AddPipelineCommands(CLI::App& app, int* exit_code);

}  // namespace tickforge::cli
