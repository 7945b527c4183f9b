// Labeling as tasks (docs/ray.md "Labeling on Ray"): the steps of Fit, Build and Run cut where
// a task per input file (the split) or per symbol (fit candidates, build) can run them on other
// machines, with what passes between them as JSON documents and candidate blobs. A driver that
// runs the steps in order gets what the local Fit, Build and Run give, bit for bit: each step
// calls the code the local ones call.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/label/config.h"
#include "tickforge/label/label.h"
#include "tickforge/label/split_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::label::distributed {

/// Return the plan every task of one job reads: {"files": the inputs (each with its index and
/// the run's size scale), "config", "columns" (what the split reads; the label columns alone
/// for a fit), "size_scale", "skip_bad_files"}. `config` is the one the steps use (for a build, the config
/// ConfigForThresholds made).
[[nodiscard]] Result<nlohmann::ordered_json> MakePlan(std::vector<InputFile> files, const LabelConfig& config,
                                                      bool fit_only, bool skip_bad_files);

/// Return the config a build with `thresholds` uses: `given` with the keys thresholds.json
/// decides taken from it (an error where `given` sets one to another value), as Build does.
[[nodiscard]] Result<LabelConfig> BuildConfig(const nlohmann::ordered_json& thresholds, const LabelConfig& given);

/// Return the config a plan (or a header of MergeSplits) carries.
[[nodiscard]] Result<LabelConfig> PlanConfig(const nlohmann::ordered_json& plan);

/// Split input `index` of `plan` into scratch parts under `dir` (one task's own folder) and
/// return what the merge needs: {"index", "schema" (IPC, base64), "valid", "symbols": {name:
/// {"rows_in", "parts": [{"path", "rows", "first", "last"}]}}}. A file that fails is an error
/// naming it and leaves no parts.
[[nodiscard]] Result<nlohmann::ordered_json> SplitTask(const nlohmann::ordered_json& plan, int index,
                                                       const std::filesystem::path& dir);

/// Merge the split results of every input (in plan order; {"bad": {"path", "error"}} for one a
/// task skipped) as Split merges its files: the first good input's columns are the schema, an
/// input with other columns fails (or is skipped under skip_bad_files), skipped inputs take no
/// place in the order. Return {"header": files, file_valid, bad_files, schema, size_scale,
/// config; "symbols": {name: {"sym", "rows_in", "valid", "first_ts", "last_ts", "parts"}}}.
[[nodiscard]] Result<nlohmann::ordered_json> MergeSplits(const nlohmann::ordered_json& plan,
                                                         const std::vector<nlohmann::ordered_json>& results);

/// Return the workspace of a merge's header and `symbols` (some or all of its symbols; the
/// scratch folder stays when it goes).
[[nodiscard]] Result<std::unique_ptr<internal::Workspace>> WorkspaceOf(const nlohmann::ordered_json& header,
                                                                       const nlohmann::ordered_json& symbols);

/// Return the fit candidates of one symbol (an entry of MergeSplits' "symbols", named
/// `symbol`) as a blob: per candidate its key, row, movement, file and symbol index, packed
/// (32 bytes each), file by file, in row order, each file's already cut to the cap.
[[nodiscard]] Result<std::string> FitCandidatesTask(const nlohmann::ordered_json& header, const std::string& symbol,
                                                    const nlohmann::ordered_json& info);

/// Pool the symbols' candidate blobs (any order) as the local fit does and return the
/// thresholds document; the mid-price fit, when the config asks for one, reads the scratch
/// parts here.
[[nodiscard]] Result<nlohmann::ordered_json> FitMerge(const nlohmann::ordered_json& merged,
                                                      const std::vector<std::string>& blobs);

/// Build one symbol's dataset into `out_dir` (atomically) with `thresholds` and return its
/// build_report.json entry.
[[nodiscard]] Result<nlohmann::ordered_json> BuildTask(const nlohmann::ordered_json& header, const std::string& symbol,
                                                       const nlohmann::ordered_json& info,
                                                       const nlohmann::ordered_json& thresholds,
                                                       const std::filesystem::path& out_dir);

/// Return the build report of the symbols' entries (by name, any order) taking `seconds`.
[[nodiscard]] Result<nlohmann::ordered_json> BuildReportOf(const nlohmann::ordered_json& merged,
                                                           const nlohmann::ordered_json& thresholds,
                                                           const nlohmann::ordered_json& entries, double seconds);

/// Write `doc` to `path` as the local Fit, Build and Run write their JSON (atomically).
[[nodiscard]] Status WriteJsonDoc(const std::filesystem::path& path, const nlohmann::ordered_json& doc);

}  // namespace tickforge::label::distributed
