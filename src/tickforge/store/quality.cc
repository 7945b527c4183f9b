// A store's quality at a snapshot, from its commits' records (see quality.h).
#include "tickforge/store/quality.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "tickforge/quality/report.h"
#include "tickforge/util/config.h"
#include "tickforge/util/time.h"

namespace tickforge::store {

using nlohmann::json;

namespace {

const config::Table<QualityQuery>& QueryTable() {
  static const auto* table = [] {
    auto* t = new config::Table<QualityQuery>();
    using config::Null;
    t->Field("dataset", &QualityQuery::dataset, "only this dataset (null: all)", Null::kClear)
        .Field("symbol", &QualityQuery::symbol, "only this symbol (null: all)", Null::kClear)
        .Field("since", &QualityQuery::since, "only partitions on or after YYYY-MM-DD (null: all)", Null::kClear)
        .Field("version", &QualityQuery::version, "the snapshot (null: the newest)")
        .Field("max_examples", &QualityQuery::max_examples, "example rows per check and dataset")
        .Field("by_file", &QualityQuery::by_file, "add each file's rows and counts");
    return t;
  }();
  return *table;
}

/// The date of a file's partition as YYYYMMDD (0 when it has no year/month/day).
uint32_t PartitionYmd(const FileEntry& file) {
  uint32_t year = 0, month = 0, day = 0;
  for (const auto& [key, value] : file.partition) {
    if (key == "year") year = static_cast<uint32_t>(std::stoul(value));
    else if (key == "month") month = static_cast<uint32_t>(std::stoul(value));
    else if (key == "day") day = static_cast<uint32_t>(std::stoul(value));
  }
  return year * 10000 + month * 100 + day;
}

std::string PartitionValue(const FileEntry& file, const std::string& key) {
  for (const auto& [k, v] : file.partition) {
    if (k == key) return v;
  }
  return {};
}

}  // namespace

Result<QualityQuery> QualityQueryFromJson(const json& j) {
  QualityQuery query;
  ARROW_RETURN_NOT_OK(QueryTable().Apply(j, &query, "quality options"));
  return query;
}

Result<json> StoreQuality(const StorePaths& paths, const QualityQuery& query) {
  uint32_t since = 0;
  if (!query.since.empty()) {
    auto parsed = ParseIsoDate(query.since);
    if (!parsed.ok()) return Status::Invalid("--since '", query.since, "': ", parsed.status().message());
    since = *parsed;
  }
  ARROW_ASSIGN_OR_RAISE(auto snapshot, ReadSnapshot(paths, query.version));
  if (!query.dataset.empty()) ARROW_RETURN_NOT_OK(snapshot.Find(query.dataset).status());
  // Each commit's record, read once: version -> dataset -> report.
  std::map<int64_t, std::map<std::string, quality::Report>> commits;
  auto commit_quality = [&](int64_t version) -> Result<const std::map<std::string, quality::Report>*> {
    auto it = commits.find(version);
    if (it != commits.end()) return &it->second;
    ARROW_ASSIGN_OR_RAISE(auto entry, ReadSnapshot(paths, version));
    auto detail = entry.details.find("quality");
    std::map<std::string, quality::Report> parsed;
    if (detail != entry.details.end()) {
      ARROW_ASSIGN_OR_RAISE(parsed, quality::CommitQualityFromJson(detail->second, paths.LogEntry(version).string()));
    }
    return &commits.emplace(version, std::move(parsed)).first->second;
  };
  json datasets = json::object();
  std::map<std::string, int64_t> totals;
  for (const auto& [name, dataset] : snapshot.datasets) {
    if (!query.dataset.empty() && name != query.dataset) continue;
    int64_t files = 0, unchecked = 0, rows = 0;
    std::map<std::string, std::pair<int64_t, json>> checks;
    std::set<std::string> notes;
    json by_file = json::object();
    for (const auto& file : dataset.files) {
      if (!query.symbol.empty() && PartitionValue(file, "symbol") != query.symbol) continue;
      if (since != 0 && PartitionYmd(file) < since) continue;
      ARROW_ASSIGN_OR_RAISE(const auto* commit, commit_quality(file.version));
      auto report = commit->find(name);
      const quality::FileQuality* found = nullptr;
      if (report != commit->end()) {
        auto it = report->second.files.find(file.path);
        if (it != report->second.files.end()) found = &it->second;
        for (const auto& note : report->second.notes) {
          if (note.rfind(file.path + ":", 0) == 0) notes.insert(note);
        }
      }
      if (!found) {
        ++unchecked;
        if (query.by_file) by_file[file.path] = {{"rows", file.rows}, {"checked", false}, {"checks", json::object()}};
        continue;
      }
      ++files;
      rows += found->rows;
      if (query.by_file) {
        json counts = json::object();
        for (const auto& [check, result] : found->checks) counts[check] = result.count;
        by_file[file.path] = {{"rows", file.rows}, {"checked", true}, {"checks", std::move(counts)}};
      }
      for (const auto& [check, result] : found->checks) {
        auto& [count, examples] = checks[check];
        if (examples.is_null()) examples = json::array();
        count += result.count;
        for (int64_t row : result.rows) {
          if (static_cast<int>(examples.size()) < query.max_examples) examples.push_back({{"file", file.path}, {"row", row}});
        }
      }
    }
    json out_checks = json::object();
    for (const auto& [check, entry] : checks) {
      out_checks[check] = {{"count", entry.first}, {"examples", entry.second}};
      totals[check] += entry.first;
    }
    datasets[name] = {{"type", dataset.type},   {"files", files},           {"files_unchecked", unchecked},
                      {"rows", rows},           {"checks", out_checks},     {"notes", notes}};
    if (query.by_file) datasets[name]["by_file"] = std::move(by_file);
  }
  return json{{"version", snapshot.version}, {"datasets", datasets}, {"totals", totals}};
}

}  // namespace tickforge::store
