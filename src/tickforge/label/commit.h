// Labeled datasets as store commits (DESIGN.md §4, docs/labeling.md "Into a store"): a label
// build's outputs become the store dataset labeled/<name> in one atomic commit whose log entry
// records the lineage: the source, the config and thresholds with their hashes, the tickforge
// version and the time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/label/config.h"
#include "tickforge/label/label.h"
#include "tickforge/util/status.h"

namespace tickforge::label {

/// The store and name a build commits to.
struct CommitTarget {
  std::string root;
  std::string name;
};

/// What committing gave.
struct CommitResult {
  int64_t version = 0;
  std::string dataset;  ///< labeled/<name>
  nlohmann::ordered_json lineage;
  nlohmann::ordered_json report;
};

/// Return the store dataset a target names: labeled/<name>; an error for a name that is empty,
/// holds '/', '\\', "..", control characters or starts with '.' or '_'.
[[nodiscard]] Result<std::string> LabeledDatasetName(const std::string& name);

/// Return the lineage of raw input files: their names, sizes and sha256.
[[nodiscard]] Result<nlohmann::ordered_json> RawLineage(const std::vector<InputFile>& files);

/// Label `files` (with `thresholds` when given, as Build does; else fit them, as Run does)
/// into a scratch folder of the target store, then commit the datasets, thresholds.json and
/// build_report.json as labeled/<name> (files under labeled/<name>/v<version>/, so earlier
/// versions stay readable) with details["lineage"]: {"source": `source`, "config", "config_sha256",
/// "thresholds_sha256", "tickforge_version", "created_at"} and the keys of `extra_lineage` (an
/// object, or null) after them. A process killed at any point leaves the previous snapshot and
/// the previous labeled/<name> version complete.
[[nodiscard]] Result<CommitResult> LabelIntoStore(const std::vector<InputFile>& files,
                                                  const nlohmann::ordered_json* thresholds,
                                                  const LabelConfig& config, const CommitTarget& target,
                                                  const nlohmann::ordered_json& source,
                                                  const BuildOptions& options = {},
                                                  const nlohmann::ordered_json& extra_lineage = nullptr);

/// Commit the outputs of a label build in `dir` (a hidden folder inside the store at `root`:
/// the datasets `report` lists, thresholds.json and build_report.json, moved by rename) as
/// labeled/<name> with the lineage LabelIntoStore records: its last step, also the commit of a
/// build whose symbols were labeled elsewhere (tickforge.ray).
[[nodiscard]] Result<CommitResult> CommitLabeledDir(const std::string& root, const std::string& name,
                                                    const std::filesystem::path& dir,
                                                    const nlohmann::ordered_json& report, const LabelConfig& config,
                                                    const nlohmann::ordered_json& source,
                                                    const nlohmann::ordered_json& extra_lineage = nullptr);

/// Return the lineage a commit of `dataset` recorded at `version` (the newest commit that
/// changed it when absent), with "version" and "dataset" added; an error naming what is missing.
[[nodiscard]] Result<nlohmann::ordered_json> ReadLineage(const std::string& root, const std::string& dataset,
                                                         std::optional<int64_t> version = std::nullopt);

/// A labeled dataset at one committed version: where its dataset files lie now.
struct LabeledSnapshot {
  int64_t version = 0;
  std::vector<std::string> files;  ///< the *_dataset.parquet files the snapshot lists, resolved
  /// Where loaders of the dataset keep the statistics they fit (STORE/_tickforge/stats/DATASET):
  /// outside the data files, and found by a validation loader started anywhere.
  std::string stats_dir;
  std::optional<nlohmann::ordered_json> lineage;
};

/// Resolve labeled `dataset` of the store at `root` at `version` (the newest when absent):
/// exactly the files that snapshot lists. A store, version or dataset that does not exist is an
/// error naming it and listing what exists.
[[nodiscard]] Result<LabeledSnapshot> ResolveLabeled(const std::string& root, const std::string& dataset,
                                                     std::optional<int64_t> version = std::nullopt);

}  // namespace tickforge::label
