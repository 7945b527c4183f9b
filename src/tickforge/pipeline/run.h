// `tickforge pipeline run` (docs/pipeline.md): ingest the named inputs into the store, then
// build the labeled dataset (first run) or bring it up to date (label update), saying per
// stage what it did; a run with nothing new does nothing and says so.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/pipeline/config.h"
#include "tickforge/util/progress.h"
#include "tickforge/util/status.h"

namespace tickforge::pipeline {

/// What one stage did.
struct StageResult {
  std::string stage;      ///< "ingest" or "label"
  bool changed = false;   ///< it committed something new
  std::string summary;    ///< the lines a person reads
  nlohmann::ordered_json detail;
};

/// What a run did, stage by stage.
struct PipelineResult {
  std::vector<StageResult> stages;
  /// Return whether any stage committed something.
  [[nodiscard]] bool changed() const;
};

/// Run the pipeline `options` describes: ingest (when inputs are named), then label (when a
/// name is given): build labeled/<name> from the store snapshot when it does not exist yet,
/// else update it with the thresholds it recorded. `progress` is told each stage's files and
/// rows as it goes ("ingest", then the label stages); a callback that throws stops the run.
[[nodiscard]] Result<PipelineResult> RunPipeline(const PipelineOptions& options, const ProgressFn& progress = {});

/// Return `result` as JSON: {"changed", "stages": [{stage, changed, summary, detail}]}.
[[nodiscard]] nlohmann::ordered_json PipelineJson(const PipelineResult& result);

/// Return the lines a person reads: one block per stage, and a last line when nothing changed.
[[nodiscard]] std::string SummarizePipeline(const PipelineResult& result);

}  // namespace tickforge::pipeline
