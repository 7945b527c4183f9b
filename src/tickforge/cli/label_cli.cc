// `tickforge label fit`, `label build` and `label run`.
#include "tickforge/cli/label_cli.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tickforge/cli/format.h"
#include "tickforge/label/config.h"
#include "tickforge/label/label.h"

namespace tickforge::cli {
namespace {

struct LabelArgs {
  std::string config_file, thresholds_path, out_dir;
  std::vector<std::string> inputs, assignments;
  bool skip_bad_files = false, keep_intermediate = false;
};

enum class Verb { kFit, kBuild, kRun };

// The config file first, then each --set in order, then the flags.
Result<label::LabelConfig> ConfigOf(const LabelArgs& args) {
  label::LabelConfig config;
  if (!args.config_file.empty()) ARROW_RETURN_NOT_OK(label::ApplyFile(args.config_file, &config));
  for (const auto& assignment : args.assignments) ARROW_RETURN_NOT_OK(label::ApplyAssignment(assignment, &config));
  if (args.keep_intermediate) {
    config.keep_intermediate = true;
    config.explicit_keys.insert("keep_intermediate");
  }
  return config;
}

Status Fit(const LabelArgs& args, const label::LabelConfig& config, const label::BuildOptions& options) {
  ARROW_ASSIGN_OR_RAISE(auto doc, label::Fit(args.inputs, config, args.thresholds_path, options));
  fmt::print("{}: {} boundaries from {} fit samples ({} mode)\n", args.thresholds_path,
             doc["nbins"].get<int>() + 1, doc["sample_size"].get<int64_t>(), doc["mode"].get<std::string>());
  for (const auto& warning : doc["warnings"]) fmt::print(stderr, "warning: {}\n", warning.get<std::string>());
  return Status::OK();
}

Status Label(const LabelArgs& args, Verb verb) {
  ARROW_ASSIGN_OR_RAISE(auto config, ConfigOf(args));
  const label::BuildOptions options{args.skip_bad_files};
  if (verb == Verb::kFit) return Fit(args, config, options);
  Result<nlohmann::ordered_json> report;
  if (verb == Verb::kBuild) {
    std::ifstream in(args.thresholds_path);
    nlohmann::ordered_json thresholds;
    try {
      thresholds = nlohmann::ordered_json::parse(in);
    } catch (const std::exception& e) {
      return Status::Invalid(args.thresholds_path, ": ", e.what());
    }
    report = label::Build(args.inputs, thresholds, config, args.out_dir, options);
  } else {
    report = label::Run(args.inputs, config, args.out_dir, options);
  }
  ARROW_RETURN_NOT_OK(report.status());
  fmt::print("{}", label::Summarize(*report));
  fmt::print("wrote {}/build_report.json\n", args.out_dir);
  return Status::OK();
}

}  // namespace

void AddLabelCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<LabelArgs>();
  auto* label_cmd = app.add_subcommand("label", "Leakage-free labels: thresholds fit on early files, symbol datasets");
  label_cmd->require_subcommand(1);
  auto add_common = [&](CLI::App* cmd, Verb verb) {
    cmd->add_option("--config", args->config_file, "YAML or JSON file with the labeling keys")->check(CLI::ExistingFile);
    cmd->add_option("--input", args->inputs, "DBN files or directories of them")->required()->expected(1, -1);
    cmd->add_option("--set", args->assignments, "Override a config key, e.g. --set nbins=21 (repeatable)");
    cmd->add_flag("--skip-bad-files", args->skip_bad_files, "Record unreadable files in the report instead of failing");
    cmd->footer("Config keys (--config FILE, --set key=value) and their defaults:\n" + label::LabelConfigTable().Help());
    cmd->callback(RunCommand(exit_code, [args, verb] { return Label(*args, verb); }));
  };
  auto* label_fit = label_cmd->add_subcommand("fit", "Fit quantile thresholds on the first fit_fraction of the files");
  add_common(label_fit, Verb::kFit);
  label_fit->add_option("--out", args->thresholds_path, "thresholds.json to write")->required();
  auto* label_build = label_cmd->add_subcommand("build", "Label all files with fitted thresholds, one dataset per symbol");
  add_common(label_build, Verb::kBuild);
  label_build->add_option("--thresholds", args->thresholds_path, "thresholds.json from label fit")->required()->check(CLI::ExistingFile);
  label_build->add_option("--out", args->out_dir, "Output directory")->required();
  label_build->add_flag("--keep-intermediate", args->keep_intermediate, "Keep the per-file symbol splits");
  auto* label_run = label_cmd->add_subcommand("run", "Fit and build in one command");
  add_common(label_run, Verb::kRun);
  label_run->add_option("--out", args->out_dir, "Output directory")->required();
  label_run->add_flag("--keep-intermediate", args->keep_intermediate, "Keep the per-file symbol splits");
}

}  // namespace tickforge::cli
