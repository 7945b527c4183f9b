// Quality reports and their JSON form (see report.h).
#include "tickforge/quality/report.h"

namespace tickforge::quality {

using nlohmann::json;

void Report::Add(std::string_view check, const std::string& file, int64_t row, int64_t n, int max_examples) {
  auto& result = files[file].checks[std::string(check)];
  result.count += n;
  if (static_cast<int64_t>(result.rows.size()) < max_examples) result.rows.push_back(row);
}

void Report::Merge(const Report& other, int max_examples) {
  if (type.empty()) type = other.type;
  for (const auto& [path, file] : other.files) {
    auto& mine = files[path];
    mine.rows += file.rows;
    for (const auto& [name, result] : file.checks) {
      auto& into = mine.checks[name];
      into.count += result.count;
      for (int64_t row : result.rows) {
        if (static_cast<int64_t>(into.rows.size()) < max_examples) into.rows.push_back(row);
      }
    }
  }
  notes.insert(notes.end(), other.notes.begin(), other.notes.end());
}

json ToJson(const Report& report) {
  json files = json::object();
  for (const auto& [path, file] : report.files) {
    json checks = json::object();
    for (const auto& [name, result] : file.checks) checks[name] = {{"count", result.count}, {"rows", result.rows}};
    files[path] = {{"rows", file.rows}, {"checks", std::move(checks)}};
  }
  return {{"type", report.type}, {"files", std::move(files)}, {"notes", report.notes}};
}

Result<Report> ReportFromJson(const json& j, const std::string& origin) {
  Report report;
  try {
    report.type = j.value("type", "");
    for (const auto& [path, file] : j.at("files").items()) {
      auto& into = report.files[path];
      into.rows = file.at("rows").get<int64_t>();
      for (const auto& [name, result] : file.at("checks").items()) {
        auto& check = into.checks[name];
        check.count = result.at("count").get<int64_t>();
        check.rows = result.at("rows").get<std::vector<int64_t>>();
      }
    }
    if (j.contains("notes")) report.notes = j.at("notes").get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    return Status::Invalid(origin, ": quality report: ", e.what());
  }
  return report;
}

Result<std::string> AddToCommitQuality(const std::string& existing, const std::string& dataset,
                                       const Report& report, int max_examples) {
  ARROW_ASSIGN_OR_RAISE(auto datasets, CommitQualityFromJson(existing, "the commit's quality"));
  datasets[dataset].Merge(report, max_examples);
  json out = json::object();
  for (const auto& [name, one] : datasets) out[name] = ToJson(one);
  return json{{"datasets", std::move(out)}}.dump();
}

Result<std::map<std::string, Report>> CommitQualityFromJson(const std::string& text, const std::string& origin) {
  std::map<std::string, Report> datasets;
  if (text.empty()) return datasets;
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("datasets") ||
      !parsed.at("datasets").is_object()) {
    return Status::Invalid(origin, ": the quality detail is not {\"datasets\": {...}}");
  }
  for (const auto& [name, one] : parsed.at("datasets").items()) {
    ARROW_ASSIGN_OR_RAISE(datasets[name], ReportFromJson(one, origin + ": dataset '" + name + "'"));
  }
  return datasets;
}

}  // namespace tickforge::quality
