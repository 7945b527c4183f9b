// `tickforge pipeline run pipeline.yaml`: ingest, then label build or update (docs/pipeline.md).
#include "tickforge/cli/pipeline_cli.h"

#include <fmt/format.h>

#include <memory>
#include <string>

#include "tickforge/cli/format.h"
#include "tickforge/pipeline/config.h"
#include "tickforge/pipeline/run.h"

namespace tickforge::cli {
namespace {

struct PipelineArgs {
  std::string file;
  bool json = false;
};

Status Run(const PipelineArgs& args) {
  ARROW_ASSIGN_OR_RAISE(auto options, pipeline::LoadPipeline(args.file));
  Result<pipeline::PipelineResult> run;
  {
    ProgressLine line("pipeline ");
    run = pipeline::RunPipeline(options, line.Fn());
  }
  ARROW_ASSIGN_OR_RAISE(auto result, std::move(run));
  if (args.json) {
    fmt::print("{}\n", pipeline::PipelineJson(result).dump(2));
  } else {
    fmt::print("{}", pipeline::SummarizePipeline(result));
  }
  return Status::OK();
}

}  // namespace

void AddPipelineCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<PipelineArgs>();
  auto* cmd = app.add_subcommand("pipeline", "Ingest new files and keep a labeled dataset current, from one file");
  cmd->require_subcommand(1);
  auto* run = cmd->add_subcommand("run", "Ingest the inputs, then build or update the labeled dataset");
  run->add_option("file", args->file, "pipeline.yaml (YAML or JSON)")->required()->check(CLI::ExistingFile);
  run->add_flag("--json", args->json, "Print what each stage did as JSON");
  run->footer("Pipeline keys and their defaults:\n" + pipeline::PipelineTable().Help());
  run->callback(RunCommand(exit_code, [args] { return Run(*args); }));
}

}  // namespace tickforge::cli
