// `tickforge store ingest / convert / scan / info / compact / migrate / materialize / cache`.
#pragma once

#include <CLI/CLI.hpp>

namespace tickforge::cli {

/// Register the store verbs on `app`; a failing verb prints its error and sets *exit_code.
void AddStoreCommands(CLI::App& app, int* exit_code);

}  // namespace tickforge::cli
