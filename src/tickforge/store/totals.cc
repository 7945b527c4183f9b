// Summary totals kept by the log (see totals_internal.h).
#include "tickforge/store/totals_internal.h"

#include <arrow/type.h>

#include <algorithm>
#include <memory>
#include <set>

#include "tickforge/store/log_internal.h"

namespace tickforge::store {

using nlohmann::json;

namespace {

/// One chunk's totals, kept with the chunk.
struct ChunkTotals : FileList::Memo {
  DatasetTotals totals;
};

void AddFile(const FileEntry& file, int64_t sign, DatasetTotals* totals) {
  totals->files += sign;
  totals->rows += sign * file.rows;
  totals->bytes += sign * file.bytes;
  for (const auto& [key, value] : file.partition) {
    if (key != "symbol") continue;
    auto [it, inserted] = totals->symbols.try_emplace(value, 0);
    it->second += sign;
    if (it->second == 0) totals->symbols.erase(it);
  }
  if (sign > 0) {
    totals->min_time = std::min(totals->min_time, file.min_time);
    totals->max_time = std::max(totals->max_time, file.max_time);
  }
}

std::shared_ptr<const ChunkTotals> SumChunk(const FileList::Chunk& files) {
  auto sum = std::make_shared<ChunkTotals>();
  for (const auto& file : files) AddFile(file, 1, &sum->totals);
  return sum;
}

/// The files of `files` whose path is `path` (a sorted listing: a binary search).
const FileEntry* FindFile(const FileList& files, const std::string& path) {
  if (files.sorted()) {
    const size_t at = files.LowerBound(path);
    return at < files.size() && files[at].path == path ? &files[at] : nullptr;
  }
  for (const auto& file : files) {
    if (file.path == path) return &file;
  }
  return nullptr;
}

std::set<std::string> TouchedDatasets(const LogEntry& change) {
  std::set<std::string> names;
  for (const auto& [name, _] : change.defined) names.insert(name);
  for (const auto& [name, _] : change.added) names.insert(name);
  for (const auto& [name, _] : change.removed) names.insert(name);
  return names;
}

}  // namespace

DatasetTotals SumFiles(const FileList& files) {
  DatasetTotals totals;
  for (size_t k = 0; k < files.chunk_count(); ++k) {
    const auto sum = files.ChunkMemo<ChunkTotals>(k, SumChunk);
    const DatasetTotals& part = sum->totals;
    totals.files += part.files;
    totals.rows += part.rows;
    totals.bytes += part.bytes;
    totals.min_time = std::min(totals.min_time, part.min_time);
    totals.max_time = std::max(totals.max_time, part.max_time);
    for (const auto& [symbol, count] : part.symbols) totals.symbols[symbol] += count;
  }
  return totals;
}

Totals SumSnapshot(const Snapshot& snapshot) {
  Totals totals;
  for (const auto& [name, dataset] : snapshot.datasets) totals.emplace(name, SumFiles(dataset.files));
  return totals;
}

Result<std::optional<Totals>> ApplyChangeToTotals(const Totals& before, const Snapshot& base, LogEntry* change) {
  Totals after = before;
  for (const auto& name : change->dropped) after.erase(name);
  static const FileList kNone;
  for (const auto& name : TouchedDatasets(*change)) {
    DatasetTotals& totals = after[name];
    const auto old = before.find(name);
    const DatasetTotals was = old == before.end() ? DatasetTotals{} : old->second;
    const auto listed = base.datasets.find(name);
    const FileList& files = listed == base.datasets.end() ? kNone : listed->second.files;
    // The range stays known unless a removed file held one of its ends and no added file
    // reaches that end again.
    bool lost_min = false, lost_max = false;
    if (auto it = change->removed.find(name); it != change->removed.end()) {
      for (const auto& path : it->second) {
        const FileEntry* file = FindFile(files, path);
        if (!file) {
          return Status::Invalid("commit ", change->version, " removes ", path, " of dataset '", name,
                                 "', which its base does not list");
        }
        AddFile(*file, -1, &totals);
        lost_min = lost_min || file->min_time <= was.min_time;
        lost_max = lost_max || file->max_time >= was.max_time;
      }
    }
    int64_t added_min = std::numeric_limits<int64_t>::max(), added_max = std::numeric_limits<int64_t>::min();
    if (auto it = change->added.find(name); it != change->added.end()) {
      for (const auto& file : it->second) {
        AddFile(file, 1, &totals);
        added_min = std::min(added_min, file.min_time);
        added_max = std::max(added_max, file.max_time);
      }
    }
    if (totals.files == 0) {
      totals.min_time = DatasetTotals{}.min_time;
      totals.max_time = DatasetTotals{}.max_time;
    } else if ((lost_min && added_min > was.min_time) || (lost_max && added_max < was.max_time)) {
      return std::optional<Totals>();
    }
  }
  RecordTotals(before, after, change);
  return std::optional<Totals>(std::move(after));
}

void RecordTotals(const Totals& before, const Totals& after, LogEntry* change) {
  Totals record;
  for (const auto& name : TouchedDatasets(*change)) {
    const auto now = after.find(name);
    if (now == after.end()) continue;
    DatasetTotals entry = now->second;
    const auto old = before.find(name);
    // Dropped and defined again in one commit: its counts start from none.
    const bool carried = old != before.end() &&
                         std::find(change->dropped.begin(), change->dropped.end(), name) == change->dropped.end();
    if (carried) {
      for (const auto& [symbol, count] : old->second.symbols) entry.symbols[symbol] -= count;
      std::erase_if(entry.symbols, [](const auto& item) { return item.second == 0; });
    }
    record.emplace(name, std::move(entry));
  }
  change->totals = std::move(record);
}

void ApplyRecordedTotals(const LogEntry& entry, Totals* totals) {
  for (const auto& name : entry.dropped) totals->erase(name);
  if (!entry.totals) return;
  for (const auto& [name, record] : *entry.totals) {
    DatasetTotals& now = (*totals)[name];
    std::map<std::string, int64_t> symbols = std::move(now.symbols);
    for (const auto& [symbol, change] : record.symbols) {
      if ((symbols[symbol] += change) == 0) symbols.erase(symbol);
    }
    now = record;
    now.symbols = std::move(symbols);
  }
}

json TotalsToJson(const Totals& totals) {
  json root = json::object();
  for (const auto& [name, t] : totals) {
    root[name] = {{"files", t.files},        {"rows", t.rows},         {"bytes", t.bytes},
                  {"min_time", t.min_time},  {"max_time", t.max_time}, {"symbols", t.symbols}};
  }
  return root;
}

Totals TotalsFromJson(const json& value) {
  Totals totals;
  for (const auto& [name, item] : value.items()) {
    DatasetTotals& t = totals[name];
    t.files = item.at("files").get<int64_t>();
    t.rows = item.at("rows").get<int64_t>();
    t.bytes = item.at("bytes").get<int64_t>();
    t.min_time = item.at("min_time").get<int64_t>();
    t.max_time = item.at("max_time").get<int64_t>();
    t.symbols = item.at("symbols").get<std::map<std::string, int64_t>>();
  }
  return totals;
}

json SummaryJsonOf(const Snapshot& definitions, const Totals& totals) {
  json datasets = json::object();
  static const DatasetTotals kNone;
  for (const auto& [name, dataset] : definitions.datasets) {
    const auto found = totals.find(name);
    const DatasetTotals& t = found == totals.end() ? kNone : found->second;
    json symbols = json::array();
    for (const auto& [symbol, count] : t.symbols) {
      if (count > 0) symbols.push_back(symbol);
    }
    json columns = json::array();
    for (const auto& field : dataset.schema->fields()) columns.push_back({field->name(), field->type()->ToString()});
    datasets[name] = {{"type", dataset.type},
                      {"partition_keys", dataset.partition_keys},
                      {"natural_key", dataset.natural_key},
                      {"time_column", dataset.time_column},
                      {"columns", columns},
                      {"rows", t.rows},
                      {"files", t.files},
                      {"bytes", t.bytes},
                      {"symbols", symbols}};
    if (t.files > 0) {
      datasets[name]["min_time"] = t.min_time;
      datasets[name]["max_time"] = t.max_time;
    }
  }
  return {{"version", definitions.version},
          {"operation", definitions.operation},
          {"committed_at", definitions.committed_at},
          {"datasets", datasets}};
}

}  // namespace tickforge::store
