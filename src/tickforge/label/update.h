// Labeled datasets kept current (docs/labeling.md "Updating a labeled dataset"): when the
// store snapshot a labeled/<name> was built from gains days, or has a day replaced, extend it
// with the thresholds it recorded (never refit) in one commit, computing only the rows whose
// windows touch the changed data. The result equals a full `label build` of the new snapshot
// with those thresholds, bit for bit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/util/progress.h"
#include "tickforge/util/status.h"

namespace tickforge::label {

struct UpdateOptions {
  /// Label every row again (a full build with the recorded thresholds) instead of only the
  /// windows that touch changed data.
  bool rebuild = false;
  /// Told the files and rows read as the changed days are split (stage "split"), and the
  /// stages of a rebuild; a callback that throws stops the update with nothing committed.
  ProgressFn progress;
};

/// What an update did.
struct UpdateResult {
  /// The source snapshot holds nothing the labeled dataset lacks; nothing was committed.
  bool up_to_date = false;
  /// "incremental", or "rebuild" when every row was labeled again (`reason` says why).
  std::string method;
  std::string reason;
  std::string dataset;           ///< labeled/<name>
  /// The store version that holds the labeled dataset now: the one committed, or when up to
  /// date the one it was (previous_version), so a loader can be pinned to it either way.
  int64_t version = 0;
  int64_t previous_version = 0;  ///< the labeled version it extends
  int64_t source_version = 0;    ///< the source snapshot labeled now
  int64_t previous_source_version = 0;
  /// Days of the source added, replaced or removed since the previous source version.
  std::vector<std::string> added, replaced, removed;
  nlohmann::ordered_json lineage;
  nlohmann::ordered_json report;  ///< build_report.json of the commit, with "update" per symbol
};

/// Bring labeled/<name> of the store at `root` up to the newest snapshot of the source its
/// lineage names, with the thresholds.json and config it recorded. Symbols the changed days
/// do not touch keep their files; a touched symbol's file is its unchanged rows copied and
/// the rows whose lookback, lookforward or mid-price windows reach changed data computed.
/// Where the changed rows cannot be spliced (a new symbol reaching min_symbol_samples, rows
/// of other days interleaving in time) every row is labeled again. The commit's lineage adds
/// "previous_version" and "update" (previous source version, days added/replaced/removed).
[[nodiscard]] Result<UpdateResult> UpdateLabeled(const std::string& root, const std::string& name,
                                                 const UpdateOptions& options = {});

/// Return `result` as JSON: its fields by name, the lineage and report included.
[[nodiscard]] nlohmann::ordered_json UpdateJson(const UpdateResult& result);

/// Return the lines a person reads after an update.
[[nodiscard]] std::string SummarizeUpdate(const UpdateResult& result);

}  // namespace tickforge::label
