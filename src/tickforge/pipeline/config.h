// The pipeline file (docs/pipeline.md): one YAML or JSON file naming the store, the inputs to
// ingest into it and the labeled dataset to keep current, read through util/config's table
// (unknown keys are errors naming the nearest known key).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/label/config.h"
#include "tickforge/util/config.h"
#include "tickforge/util/status.h"

namespace tickforge::pipeline {

struct PipelineOptions {
  /// The store everything goes into (created by the first ingest).
  std::string store;
  /// Files or folders to ingest (DBN, Binance), searched recursively; none: label only.
  std::vector<std::string> ingest;
  /// Files read at once while ingesting; 0: one per core.
  int ingest_threads = 0;
  /// The labeled dataset, labeled/<name>; empty: ingest only.
  std::string name;
  /// The store dataset labeled (MBP-10 rows).
  std::string dataset = "mbp10";
  /// Only these symbols; all when empty.
  std::vector<std::string> symbols;
  /// Days [start, end) as YYYY-MM-DD; open-ended when empty.
  std::string start;
  std::string end;
  /// A labeling config file (YAML or JSON); its keys apply before `label`'s.
  std::string label_config;
  /// Labeling keys (docs/labeling.md), applied after label_config's; used when the labeled
  /// dataset is first built (fit and build), never to refit it.
  nlohmann::json label = nlohmann::json::object();

  /// Check that a store is named, and a label config only with a name.
  [[nodiscard]] Status Validate() const;
  /// Return the labeling config: label_config's keys, then `label`'s.
  [[nodiscard]] Result<label::LabelConfig> LabelConfig() const;
};

/// Return the table of the keys a pipeline file accepts.
[[nodiscard]] const config::Table<PipelineOptions>& PipelineTable();

/// Read the pipeline file at `path`: its keys onto the defaults, relative paths (store,
/// ingest, label_config) taken from the file's folder. Errors name the file and the key.
[[nodiscard]] Result<PipelineOptions> LoadPipeline(const std::string& path);

}  // namespace tickforge::pipeline
