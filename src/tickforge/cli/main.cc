// The `tickforge` command line tool. Each command group registers its verbs from its own file;
// errors end there, as a message on stderr and an exit code (cli/format.h).
#include <CLI/CLI.hpp>

#include <string>

#include "tickforge/cli/book_cli.h"
#include "tickforge/cli/dbn_cli.h"
#include "tickforge/cli/features_cli.h"
#include "tickforge/cli/label_cli.h"
#include "tickforge/cli/panel_cli.h"
#include "tickforge/cli/pipeline_cli.h"
#include "tickforge/cli/store_cli.h"
#include "tickforge/cli/synth_cli.h"
#include "tickforge/api.h"  // the whole public API compiles as one unit
#include "tickforge/util/version.h"

int main(int argc, char** argv) {
  using namespace tickforge::cli;
  CLI::App app{"tickforge: leakage-free labeled datasets from raw market data"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tickforge " + std::string(tickforge::kVersion));

  // The verb that runs sets this when it fails; CLI11_PARSE returns CLI11's own codes for bad
  // arguments. Groups are added in the order `tickforge --help` lists them.
  int exit_code = 0;
  AddDbnCommands(app, &exit_code);
  AddBookCommands(app, &exit_code);
  AddSynthCommands(app, &exit_code);
  AddLabelCommands(app, &exit_code);
  AddFeaturesCommands(app, &exit_code);
  AddPanelCommands(app, &exit_code);
  AddStoreCommands(app, &exit_code);
  AddPipelineCommands(app, &exit_code);

  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
