// What the data-quality checks found in one commit's files: per file, per check, how many
// defects and the first rows where they are (rows index the store file, from 0).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tickforge/util/status.h"

namespace tickforge::quality {

/// One check's findings in one file.
struct CheckResult {
  int64_t count = 0;
  /// Rows of the first defects, in the order found (at most Options::max_examples).
  std::vector<int64_t> rows;
};

/// The findings of one store file.
struct FileQuality {
  /// Rows the checks saw in the file.
  int64_t rows = 0;
  /// Check name -> findings; checks that found nothing are absent.
  std::map<std::string, CheckResult> checks;
};

/// The findings of one dataset's files in one commit.
struct Report {
  std::string type;
  /// Store file path (as in the manifest) -> findings.
  std::map<std::string, FileQuality> files;
  /// Why some rows went unchecked (a column of an unexpected type, ...); never an error.
  std::vector<std::string> notes;

  /// Count `n` defects of `check` at `row` of `file`, keeping the row as an example while the
  /// check has fewer than `max_examples`.
  void Add(std::string_view check, const std::string& file, int64_t row, int64_t n, int max_examples);
  /// Take in `other`'s files and notes (files of both: counts add up, examples append).
  void Merge(const Report& other, int max_examples);
};

/// Return the report as JSON: {"type", "files": {path: {"rows", "checks": {name: {"count",
/// "rows"}}}}, "notes"}.
[[nodiscard]] nlohmann::json ToJson(const Report& report);

/// Parse a report written by ToJson; `origin` names its source in errors.
[[nodiscard]] Result<Report> ReportFromJson(const nlohmann::json& json, const std::string& origin);

/// Add `report` of `dataset` to a commit's "quality" detail (`existing`: its JSON text so far,
/// empty for none) and return the new text: {"datasets": {name: report}}.
[[nodiscard]] Result<std::string> AddToCommitQuality(const std::string& existing, const std::string& dataset,
                                                     const Report& report, int max_examples);

/// Parse a commit's "quality" detail into dataset -> report.
[[nodiscard]] Result<std::map<std::string, Report>> CommitQualityFromJson(const std::string& text,
                                                                          const std::string& origin);

}  // namespace tickforge::quality
