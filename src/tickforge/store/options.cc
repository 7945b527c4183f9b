#include "tickforge/store/options.h"

#include <arrow/memory_pool.h>
#include <arrow/type.h>

#include <algorithm>
#include <limits>
#include <set>

namespace tickforge::store {

using nlohmann::json;

namespace {

/// Fail on keys outside `known`, so a misspelt option is not silently ignored.
Status CheckKeys(const json& object, std::initializer_list<std::initializer_list<const char*>> known_sets) {
  if (!object.is_object()) return Status::Invalid("options must be a JSON object");
  std::set<std::string> known;
  for (const auto& set : known_sets) {
    for (const char* key : set) known.insert(key);
  }
  for (const auto& [key, _] : object.items()) {
    if (!known.count(key)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return Status::Invalid("unknown option '", key, "' (known: ", list, ")");
    }
  }
  return Status::OK();
}

const std::initializer_list<const char*> kWriteKeys = {
    "compression", "max_rows_per_file", "min_rows_per_group", "max_rows_per_group", "metadata", "dedup", "constants"};

Status ApplyWrite(const json& j, WriteOptions* options) {
  try {
    if (j.contains("compression")) options->compression = j.at("compression").get<std::string>();
    if (j.contains("max_rows_per_file")) options->max_rows_per_file = j.at("max_rows_per_file").get<int64_t>();
    if (j.contains("min_rows_per_group")) options->min_rows_per_group = j.at("min_rows_per_group").get<int64_t>();
    if (j.contains("max_rows_per_group")) options->max_rows_per_group = j.at("max_rows_per_group").get<int64_t>();
    if (j.contains("metadata")) options->metadata = j.at("metadata").get<std::map<std::string, std::string>>();
    if (j.contains("dedup")) options->dedup = j.at("dedup").get<bool>();
    if (j.contains("constants")) options->constants = j.at("constants").get<std::map<std::string, std::string>>();
  } catch (const json::exception& e) {
    return Status::Invalid("write options: ", e.what());
  }
  return options->Validate();
}

Result<Value> ValueFromJson(const json& j) {
  if (j.is_boolean()) return Value(j.get<bool>());
  if (j.is_number_integer()) return Value(j.get<int64_t>());
  if (j.is_number()) return Value(j.get<double>());
  if (j.is_string()) return Value(j.get<std::string>());
  return Status::Invalid("filter value ", j.dump(), " is not a number, string or boolean");
}

}  // namespace

Result<WriteOptions> WriteOptionsFromJson(const json& j) {
  ARROW_RETURN_NOT_OK(CheckKeys(j, {kWriteKeys}));
  WriteOptions options;
  ARROW_RETURN_NOT_OK(ApplyWrite(j, &options));
  return options;
}

Result<ScanOptions> ScanOptionsFromJson(const json& j) {
  ARROW_RETURN_NOT_OK(CheckKeys(j, {{"columns", "filters", "batch_size", "version", "use_threads"}}));
  ScanOptions options;
  try {
    if (j.contains("columns") && !j.at("columns").is_null()) options.columns = j.at("columns").get<std::vector<std::string>>();
    if (j.contains("batch_size") && !j.at("batch_size").is_null()) options.batch_size = j.at("batch_size").get<int64_t>();
    if (j.contains("version") && !j.at("version").is_null()) options.version = j.at("version").get<int64_t>();
    if (j.contains("use_threads")) options.use_threads = j.at("use_threads").get<bool>();
    if (j.contains("filters") && !j.at("filters").is_null()) {
      for (const auto& term : j.at("filters")) {
        if (term.is_string()) {
          ARROW_ASSIGN_OR_RAISE(auto predicate, ParsePredicate(term.get<std::string>()));
          options.filters.push_back(std::move(predicate));
          continue;
        }
        if (!term.is_array() || term.size() != 3) {
          return Status::Invalid("filter ", term.dump(), " must be [column, op, value] or 'column op value'");
        }
        Predicate predicate{term.at(0).get<std::string>(), term.at(1).get<std::string>(), {}};
        if (term.at(2).is_array()) {
          for (const auto& value : term.at(2)) {
            ARROW_ASSIGN_OR_RAISE(auto v, ValueFromJson(value));
            predicate.values.push_back(std::move(v));
          }
        } else {
          ARROW_ASSIGN_OR_RAISE(auto v, ValueFromJson(term.at(2)));
          predicate.values.push_back(std::move(v));
        }
        options.filters.push_back(std::move(predicate));
      }
    }
  } catch (const json::exception& e) {
    return Status::Invalid("scan options: ", e.what());
  }
  return options;
}

Result<IngestOptions> IngestOptionsFromJson(const json& j) {
  ARROW_RETURN_NOT_OK(CheckKeys(j, {kWriteKeys, {"kind", "symbol", "exchange", "verify_checksum", "threads"}}));
  IngestOptions options;
  try {
    if (j.contains("kind") && !j.at("kind").is_null()) options.kind = j.at("kind").get<std::string>();
    if (j.contains("symbol") && !j.at("symbol").is_null()) options.symbol = j.at("symbol").get<std::string>();
    if (j.contains("exchange")) options.exchange = j.at("exchange").get<std::string>();
    if (j.contains("verify_checksum")) options.verify_checksum = j.at("verify_checksum").get<bool>();
    if (j.contains("threads")) options.threads = j.at("threads").get<int>();
  } catch (const json::exception& e) {
    return Status::Invalid("ingest options: ", e.what());
  }
  ARROW_RETURN_NOT_OK(ApplyWrite(j, &options.write));
  return options;
}

Result<CompactOptions> CompactOptionsFromJson(const json& j) {
  ARROW_RETURN_NOT_OK(CheckKeys(j, {kWriteKeys, {"target_rows", "min_files"}}));
  CompactOptions options;
  try {
    if (j.contains("target_rows")) options.target_rows = j.at("target_rows").get<int64_t>();
    if (j.contains("min_files")) options.min_files = j.at("min_files").get<int>();
  } catch (const json::exception& e) {
    return Status::Invalid("compact options: ", e.what());
  }
  ARROW_RETURN_NOT_OK(ApplyWrite(j, &options.write));
  return options;
}

json ToJson(const FileEntry& file) {
  json partition = json::object();
  for (const auto& [key, value] : file.partition) partition[key] = value;
  return {{"path", file.path}, {"rows", file.rows}, {"bytes", file.bytes}, {"partition", partition},
          {"min_time", file.min_time}, {"max_time", file.max_time}, {"version", file.version}};
}

json ToJson(const CommitInfo& info) {
  json added = json::array(), removed = json::array();
  for (const auto& file : info.added) added.push_back(ToJson(file));
  for (const auto& file : info.removed) removed.push_back(ToJson(file));
  return {{"version", info.version},     {"rows_in", info.rows_in},
          {"rows_written", info.rows_written}, {"rows_duplicate", info.rows_duplicate},
          {"added", added},              {"removed", removed},
          {"warnings", info.warnings}};
}

json MemoryPoolJson() {
  arrow::MemoryPool* pool = arrow::default_memory_pool();
  return {{"backend", pool->backend_name()},
          {"bytes_allocated", pool->bytes_allocated()},
          {"max_memory", pool->max_memory()},
          {"num_allocations", pool->num_allocations()}};
}

json SummaryJson(const Snapshot& snapshot) {
  json datasets = json::object();
  for (const auto& [name, dataset] : snapshot.datasets) {
    std::set<std::string> symbols;
    int64_t min_time = std::numeric_limits<int64_t>::max(), max_time = std::numeric_limits<int64_t>::min();
    for (const auto& file : dataset.files) {
      for (const auto& [key, value] : file.partition) {
        if (key == "symbol") symbols.insert(value);
      }
      min_time = std::min(min_time, file.min_time);
      max_time = std::max(max_time, file.max_time);
    }
    json columns = json::array();
    for (const auto& field : dataset.schema->fields()) columns.push_back({field->name(), field->type()->ToString()});
    datasets[name] = {{"type", dataset.type},
                      {"partition_keys", dataset.partition_keys},
                      {"natural_key", dataset.natural_key},
                      {"time_column", dataset.time_column},
                      {"columns", columns},
                      {"rows", dataset.rows()},
                      {"files", dataset.files.size()},
                      {"bytes", dataset.bytes()},
                      {"symbols", symbols}};
    if (!dataset.files.empty()) {
      datasets[name]["min_time"] = min_time;
      datasets[name]["max_time"] = max_time;
    }
  }
  return {{"version", snapshot.version},
          {"operation", snapshot.operation},
          {"committed_at", snapshot.committed_at},
          {"datasets", datasets}};
}

}  // namespace tickforge::store
