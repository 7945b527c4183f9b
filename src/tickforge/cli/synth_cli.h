// `tickforge synth dbn / binance`.
#pragma once

#include <CLI/CLI.hpp>

namespace tickforge::cli {

/// Register the synth verbs on `app`; a failing verb prints its error and sets *exit_code.
void AddSynthCommands(CLI::App& app, int* exit_code);

}  // namespace tickforge::cli
