// `tickforge store ...` verbs, kept apart from main.cc's other commands.
#pragma once

#include <CLI/CLI.hpp>

namespace tickforge {

/// Register the store verbs on `app`; a failing verb prints its error and sets *exit_code.
CLI::App* AddStoreCommands(CLI::App& app, int* exit_code);

}  // namespace tickforge
