// The pipeline's stages: the store's own ingest (which drops what it holds already), then
// label build or label update, each reporting what it did.
#include "tickforge/pipeline/run.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "tickforge/label/commit.h"
#include "tickforge/label/label.h"
#include "tickforge/label/source.h"
#include "tickforge/label/update.h"
#include "tickforge/store/manifest.h"
#include "tickforge/store/options.h"
#include "tickforge/store/store.h"

namespace tickforge::pipeline {
namespace {

namespace fs = std::filesystem;

Result<StageResult> Ingest(const PipelineOptions& options, const ProgressFn& progress) {
  StageResult stage{"ingest", false, "", nlohmann::ordered_json::object()};
  if (options.ingest.empty()) {
    stage.summary = "ingest: no inputs named; nothing to ingest\n";
    return stage;
  }
  ARROW_ASSIGN_OR_RAISE(auto store, store::Store::Open(options.store));
  ARROW_ASSIGN_OR_RAISE(const int64_t before, store::LatestVersion(store->paths()));
  store::IngestOptions ingest;
  ingest.threads = options.ingest_threads;
  ingest.progress = progress;
  ARROW_ASSIGN_OR_RAISE(auto info, store->Ingest(options.ingest, ingest));
  stage.detail = nlohmann::ordered_json::parse(store::ToJson(info).dump());
  stage.changed = info.rows_written > 0 || !info.added.empty() || !info.removed.empty();
  if (stage.changed) {
    stage.summary = fmt::format("ingest: version {} -> {}: {} rows read, {} written, {} already in the store, {} files added\n",
                                before, info.version, info.rows_in, info.rows_written, info.rows_duplicate,
                                info.added.size());
  } else {
    stage.summary = fmt::format("ingest: nothing new: {} rows read, all already in the store (version {})\n",
                                info.rows_in, before);
  }
  for (const auto& warning : info.warnings) stage.summary += fmt::format("  warning: {}\n", warning);
  return stage;
}

// Return whether the store at `root` has `dataset` in its newest snapshot.
Result<bool> HasDataset(const std::string& root, const std::string& dataset) {
  const store::StorePaths paths{fs::path(root)};
  std::error_code ec;
  if (!fs::is_directory(paths.meta, ec)) return false;
  ARROW_ASSIGN_OR_RAISE(const int64_t latest, store::LatestVersion(paths));
  if (latest == 0) return false;
  ARROW_ASSIGN_OR_RAISE(auto snapshot, store::ReadSnapshot(paths, std::nullopt));
  return snapshot.Find(dataset).ok();
}

// The labeling keys where the pipeline's config and the one labeled/<name> recorded differ.
std::string ConfigDifferences(const label::LabelConfig& config, const nlohmann::ordered_json& recorded) {
  std::string keys;
  const auto mine = config.ToJson();
  for (const auto& [key, value] : mine.items()) {
    if (key == "keep_intermediate") continue;
    if (!recorded.contains(key) || recorded.at(key) != value) keys += (keys.empty() ? "" : ", ") + key;
  }
  return keys;
}

Result<StageResult> Label(const PipelineOptions& options, const ProgressFn& progress) {
  StageResult stage{"label", false, "", nlohmann::ordered_json::object()};
  if (options.name.empty()) {
    stage.summary = "label: no name given; nothing to label\n";
    return stage;
  }
  ARROW_ASSIGN_OR_RAISE(const std::string dataset, label::LabeledDatasetName(options.name));
  ARROW_ASSIGN_OR_RAISE(auto config, options.LabelConfig());
  ARROW_ASSIGN_OR_RAISE(const bool exists, HasDataset(options.store, dataset));
  if (!exists) {
    label::StoreSelection selection{options.store, options.dataset, std::nullopt, options.symbols, options.start,
                                    options.end};
    ARROW_ASSIGN_OR_RAISE(auto inputs, label::ListStoreInputs(selection));
    label::BuildOptions build;
    build.progress = progress;
    ARROW_ASSIGN_OR_RAISE(auto committed, label::LabelIntoStore(inputs.files, nullptr, config,
                                                                 {options.store, options.name}, inputs.lineage, build));
    stage.changed = true;
    stage.detail = {{"method", "build"}, {"version", committed.version}, {"lineage", committed.lineage},
                    {"report", committed.report}};
    stage.summary = fmt::format("label: built {} as version {} from {}@{} (thresholds fit on {} of {} days)\n", dataset,
                                committed.version, options.dataset, inputs.version,
                                committed.report.at("fit_files").size(), inputs.files.size()) +
                    label::Summarize(committed.report);
    return stage;
  }
  // An existing dataset keeps the config and thresholds it was fitted with: say so when the
  // pipeline file now says otherwise, rather than refit silently or ignore it silently.
  ARROW_ASSIGN_OR_RAISE(auto lineage, label::ReadLineage(options.store, dataset));
  const std::string differ = ConfigDifferences(config, lineage.value("config", nlohmann::ordered_json::object()));
  ARROW_ASSIGN_OR_RAISE(auto result, label::UpdateLabeled(options.store, options.name, {.progress = progress}));
  stage.changed = !result.up_to_date;
  stage.detail = label::UpdateJson(result);
  stage.summary = "label: " + label::SummarizeUpdate(result);
  if (!differ.empty()) {
    stage.detail["config_differs"] = differ;
    stage.summary += fmt::format("  note: the pipeline's labeling keys {} differ from those {} was built with; an update "
                                 "keeps the recorded config and thresholds (label run under a new name to refit)\n",
                                 differ, dataset);
  }
  return stage;
}

}  // namespace

bool PipelineResult::changed() const {
  for (const auto& stage : stages) {
    if (stage.changed) return true;
  }
  return false;
}

Result<PipelineResult> RunPipeline(const PipelineOptions& options, const ProgressFn& progress) {
  ARROW_RETURN_NOT_OK(options.Validate());
  PipelineResult result;
  ARROW_ASSIGN_OR_RAISE(auto ingest, Ingest(options, progress));
  result.stages.push_back(std::move(ingest));
  ARROW_ASSIGN_OR_RAISE(auto label, Label(options, progress));
  result.stages.push_back(std::move(label));
  return result;
}

nlohmann::ordered_json PipelineJson(const PipelineResult& result) {
  auto stages = nlohmann::ordered_json::array();
  for (const auto& stage : result.stages) {
    stages.push_back({{"stage", stage.stage}, {"changed", stage.changed}, {"summary", stage.summary}, {"detail", stage.detail}});
  }
  return {{"changed", result.changed()}, {"stages", stages}};
}

std::string SummarizePipeline(const PipelineResult& result) {
  std::string out;
  for (const auto& stage : result.stages) out += stage.summary;
  if (!result.changed()) out += "nothing to do: no new input, the labeled dataset is up to date\n";
  return out;
}

}  // namespace tickforge::pipeline
