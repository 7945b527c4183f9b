// The pipeline file's keys, and paths in it read relative to the file.
#include "tickforge/pipeline/config.h"

#include <filesystem>

namespace tickforge::pipeline {

namespace fs = std::filesystem;

const config::Table<PipelineOptions>& PipelineTable() {
  static const auto* table = [] {
    auto* t = new config::Table<PipelineOptions>();
    using P = PipelineOptions;
    t->Field("store", &P::store, "the store directory (created by the first ingest)")
        .Field("ingest", &P::ingest, "files or folders to ingest each run; what is in the store already adds nothing")
        .Field("ingest_threads", &P::ingest_threads, "files read at once while ingesting; 0: one per core")
        .Field("name", &P::name, "the labeled dataset labeled/<name> kept current; empty: ingest only")
        .Field("dataset", &P::dataset, "the store dataset labeled")
        .Field("symbols", &P::symbols, "only these symbols; all when empty")
        .Field("start", &P::start, "the first day labeled, YYYY-MM-DD")
        .Field("end", &P::end, "the day after the last labeled, YYYY-MM-DD")
        .Field("label_config", &P::label_config, "a labeling config file (YAML or JSON)")
        .Custom(
            "label",
            [](const nlohmann::json& value, P* options, std::string_view source, std::string_view key) -> Status {
              if (!value.is_object()) return config::WrongType(source, key, "a mapping of labeling keys", value);
              // Checked now, so a misspelled labeling key is reported with the pipeline file.
              label::LabelConfig probe;
              ARROW_RETURN_NOT_OK(label::ApplyJson(value, &probe, std::string(source) + ": label"));
              options->label = value;
              return Status::OK();
            },
            [](const P& options) { return nlohmann::ordered_json(options.label); },
            "labeling keys (docs/labeling.md), applied after label_config's");
    return t;
  }();
  return *table;
}

Status PipelineOptions::Validate() const {
  if (store.empty()) return Status::Invalid("pipeline: 'store' is required");
  if (name.empty() && (!label_config.empty() || !label.empty())) {
    return Status::Invalid("pipeline: a labeling config needs 'name', the labeled dataset to keep current");
  }
  if (ingest_threads < 0) return Status::Invalid("pipeline: ingest_threads must be >= 0, got ", ingest_threads);
  return Status::OK();
}

Result<label::LabelConfig> PipelineOptions::LabelConfig() const {
  label::LabelConfig config;
  if (!label_config.empty()) ARROW_RETURN_NOT_OK(label::ApplyFile(label_config, &config));
  ARROW_RETURN_NOT_OK(label::ApplyJson(label, &config, "pipeline: label"));
  ARROW_RETURN_NOT_OK(config.Validate());
  return config;
}

Result<PipelineOptions> LoadPipeline(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto json, config::LoadFile(path));
  PipelineOptions options;
  ARROW_RETURN_NOT_OK(PipelineTable().Apply(json, &options, path));
  // Paths in the file mean what they say from the file's folder, wherever it is run from.
  const fs::path base = fs::path(path).parent_path();
  const auto resolve = [&](std::string& p) {
    if (!p.empty() && fs::path(p).is_relative()) p = (base / p).lexically_normal().string();
  };
  resolve(options.store);
  resolve(options.label_config);
  for (auto& input : options.ingest) resolve(input);
  ARROW_RETURN_NOT_OK(WithPath(options.Validate(), path));
  return options;
}

}  // namespace tickforge::pipeline
