// `tickforge label fit`, `label build` and `label run`.
#include "tickforge/cli/label_cli.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tickforge/cli/checks.h"
#include "tickforge/cli/format.h"
#include "tickforge/label/config.h"
#include "tickforge/label/commit.h"
#include "tickforge/label/label.h"
#include "tickforge/label/source.h"
#include "tickforge/label/update.h"

namespace tickforge::cli {
namespace {

struct LabelArgs {
  std::string config_file, thresholds_path, out_dir;
  std::vector<std::string> inputs, assignments;
  bool skip_bad_files = false, keep_intermediate = false, json = false;
  // A store snapshot as the input, instead of --input.
  std::string store, dataset = "mbp10", start, end;
  int64_t version = -1;
  std::vector<std::string> symbols;
  // A store to commit the labeled datasets to, as labeled/<name>.
  std::string into, name;
};

// The inputs, in their order, and what a lineage record says of them.
struct Inputs {
  std::vector<label::InputFile> files;
  nlohmann::ordered_json source;
};

Result<Inputs> InputsOf(const LabelArgs& args, bool want_lineage) {
  if (args.store.empty() == args.inputs.empty()) {
    return Status::Invalid("give the input as --input FILES... or as --store STORE (not both)");
  }
  Inputs out;
  if (!args.store.empty()) {
    label::StoreSelection selection{args.store, args.dataset,
                                    args.version >= 0 ? std::optional<int64_t>(args.version) : std::nullopt,
                                    args.symbols, args.start, args.end};
    ARROW_ASSIGN_OR_RAISE(auto resolved, label::ListStoreInputs(selection));
    out.files = std::move(resolved.files);
    out.source = std::move(resolved.lineage);
    return out;
  }
  ARROW_ASSIGN_OR_RAISE(out.files, label::ListInputs(args.inputs));
  if (want_lineage) {
    ARROW_ASSIGN_OR_RAISE(out.source, label::RawLineage(out.files));
  }
  return out;
}

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
  ARROW_ASSIGN_OR_RAISE(auto inputs, InputsOf(args, false));
  Result<nlohmann::ordered_json> fitted;
  {
    ProgressLine line("label ");
    label::BuildOptions reported = options;
    reported.progress = line.Fn();
    fitted = label::FitInputs(inputs.files, config, args.thresholds_path, reported);
  }
  ARROW_ASSIGN_OR_RAISE(auto doc, std::move(fitted));
  if (args.json) {
    fmt::print("{}\n", doc.dump());
    return Status::OK();
  }
  fmt::print("{}: {} boundaries from {} fit samples ({} mode)\n", args.thresholds_path,
             doc["nbins"].get<int>() + 1, doc["sample_size"].get<int64_t>(), doc["mode"].get<std::string>());
  for (const auto& warning : doc["warnings"]) fmt::print(stderr, "warning: {}\n", warning.get<std::string>());
  return Status::OK();
}

Status Label(const LabelArgs& args, Verb verb) {
  ARROW_ASSIGN_OR_RAISE(auto config, ConfigOf(args));
  label::BuildOptions options;
  options.skip_bad_files = args.skip_bad_files;
  if (verb == Verb::kFit) return Fit(args, config, options);
  if (args.into.empty() == args.out_dir.empty()) {
    return Status::Invalid("give the output as --out DIR or as --into STORE --name NAME (not both)");
  }
  if (args.into.empty() != args.name.empty()) return Status::Invalid("--into STORE and --name NAME go together");
  ARROW_ASSIGN_OR_RAISE(auto inputs, InputsOf(args, !args.into.empty()));
  nlohmann::ordered_json thresholds;
  if (verb == Verb::kBuild) {
    std::ifstream in(args.thresholds_path);
    try {
      thresholds = nlohmann::ordered_json::parse(in);
    } catch (const std::exception& e) {
      return Status::Invalid(args.thresholds_path, ": ", e.what());
    }
  }
  const auto* given = verb == Verb::kBuild ? &thresholds : nullptr;
  ProgressLine line("label ");
  options.progress = line.Fn();
  if (!args.into.empty()) {
    auto committed = label::LabelIntoStore(inputs.files, given, config, {args.into, args.name}, inputs.source, options);
    line.Close();
    ARROW_ASSIGN_OR_RAISE(auto result, std::move(committed));
    if (args.json) {
      auto doc = result.report;
      doc["committed"] = {{"dataset", result.dataset}, {"version", result.version}};
      fmt::print("{}\n", doc.dump());
      return Status::OK();
    }
    fmt::print("{}", label::Summarize(result.report));
    fmt::print("committed {} as version {} of {}\n", result.dataset, result.version, args.into);
    return Status::OK();
  }
  Result<nlohmann::ordered_json> report =
      given ? label::BuildInputs(inputs.files, *given, config, args.out_dir, options)
            : label::RunInputs(inputs.files, config, args.out_dir, options);
  line.Close();
  ARROW_RETURN_NOT_OK(report.status());
  if (args.json) {
    fmt::print("{}\n", report->dump());
    return Status::OK();
  }
  fmt::print("{}", label::Summarize(*report));
  fmt::print("wrote {}/build_report.json\n", args.out_dir);
  return Status::OK();
}

struct UpdateArgs {
  std::string store, name;
  bool rebuild = false, json = false;
};

Status Update(const UpdateArgs& args) {
  Result<label::UpdateResult> update;
  {
    ProgressLine line("label ");
    update = label::UpdateLabeled(args.store, args.name, {.rebuild = args.rebuild, .progress = line.Fn()});
  }
  ARROW_ASSIGN_OR_RAISE(auto result, std::move(update));
  if (args.json) {
    fmt::print("{}\n", label::UpdateJson(result).dump(2));
  } else {
    fmt::print("{}", label::SummarizeUpdate(result));
  }
  return Status::OK();
}

}  // namespace

void AddLabelCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<LabelArgs>();
  auto* label_cmd = app.add_subcommand("label", "Leakage-free labels: thresholds fit on early files, symbol datasets");
  label_cmd->require_subcommand(1);
  auto add_common = [&](CLI::App* cmd, Verb verb) {
    cmd->add_option("--config", args->config_file, "YAML or JSON file with the labeling keys")->check(CLI::ExistingFile);
    cmd->add_option("--input", args->inputs, "DBN or MBP-10 Parquet files, or directories of them")->expected(1, -1);
    cmd->add_option("--store", args->store, "Read a store snapshot instead of --input files");
    cmd->add_option("--dataset", args->dataset, "With --store: the MBP-10 dataset")->capture_default_str();
    cmd->add_option("--version", args->version, "With --store: the snapshot version (default: newest)")
        ->check(NonNegative());
    cmd->add_option("--symbols", args->symbols, "With --store: only these symbols (comma separated)")->delimiter(',');
    cmd->add_option("--start", args->start, "With --store: the first day, YYYY-MM-DD");
    cmd->add_option("--end", args->end, "With --store: the day after the last, YYYY-MM-DD");
    cmd->add_option("--set", args->assignments, "Override a config key, e.g. --set nbins=21 (repeatable)");
    cmd->add_flag("--skip-bad-files", args->skip_bad_files, "Record unreadable files in the report instead of failing");
    cmd->add_flag("--json", args->json, "Print the result (thresholds or build report) as one JSON object");
    cmd->footer("Config keys (--config FILE, --set key=value) and their defaults:\n" + label::LabelConfigTable().Help());
    cmd->callback(RunCommand(exit_code, [args, verb] { return Label(*args, verb); }));
  };
  auto* label_fit = label_cmd->add_subcommand("fit", "Fit quantile thresholds on the first fit_fraction of the files");
  add_common(label_fit, Verb::kFit);
  label_fit->add_option("--out", args->thresholds_path, "thresholds.json to write")->required();
  auto* label_build = label_cmd->add_subcommand("build", "Label all files with fitted thresholds, one dataset per symbol");
  add_common(label_build, Verb::kBuild);
  label_build->add_option("--thresholds", args->thresholds_path, "thresholds.json from label fit")->required()->check(CLI::ExistingFile);
  label_build->add_option("--out", args->out_dir, "Output directory");
  label_build->add_option("--into", args->into, "Commit the datasets to this store as labeled/NAME instead");
  label_build->add_option("--name", args->name, "With --into: the labeled dataset's name");
  label_build->add_flag("--keep-intermediate", args->keep_intermediate, "Keep the per-file symbol splits");
  auto* label_run = label_cmd->add_subcommand("run", "Fit and build in one command");
  add_common(label_run, Verb::kRun);
  label_run->add_option("--out", args->out_dir, "Output directory");
  label_run->add_option("--into", args->into, "Commit the datasets to this store as labeled/NAME instead");
  label_run->add_option("--name", args->name, "With --into: the labeled dataset's name");
  label_run->add_flag("--keep-intermediate", args->keep_intermediate, "Keep the per-file symbol splits");
  auto update_args = std::make_shared<UpdateArgs>();
  auto* label_update = label_cmd->add_subcommand(
      "update", "Extend labeled/NAME to the newest source snapshot with its recorded thresholds (never refit)");
  label_update->add_option("--store", update_args->store, "The store holding labeled/NAME")->required();
  label_update->add_option("--name", update_args->name, "The labeled dataset's name")->required();
  label_update->add_flag("--rebuild", update_args->rebuild, "Label every row again instead of the changed windows only");
  label_update->add_flag("--json", update_args->json, "Print what was done as JSON");
  label_update->callback(RunCommand(exit_code, [update_args] { return Update(*update_args); }));
}

}  // namespace tickforge::cli
