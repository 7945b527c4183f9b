#include "tickforge/store/manifest.h"

#include "tickforge/store/manifest_internal.h"

#include <arrow/buffer.h>
#include <arrow/io/memory.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/type.h>
#include <arrow/util/base64.h>
#include <arrow/util/utf8.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "tickforge/util/io.h"
#include "tickforge/util/files.h"

namespace tickforge::store {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t DatasetEntry::rows() const {
  int64_t total = 0;
  for (const auto& file : files) total += file.rows;
  return total;
}

int64_t DatasetEntry::bytes() const {
  int64_t total = 0;
  for (const auto& file : files) total += file.bytes;
  return total;
}

Result<const DatasetEntry*> Snapshot::Find(const std::string& name) const {
  auto it = datasets.find(name);
  if (it != datasets.end()) return &it->second;
  std::string known;
  for (const auto& [key, _] : datasets) known += (known.empty() ? "" : ", ") + key;
  return Status::KeyError("the store has no dataset '", name, "' at version ", version,
                          " (datasets: ", known.empty() ? "none" : known, ")");
}

namespace {

// A definition lists its columns' names and types as JSON, which must be UTF-8; neither
// Parquet footers nor IPC check their strings. A type's text holds its children's names and a
// timestamp's zone.
Status CheckUtf8(const arrow::Schema& schema) {
  arrow::util::InitializeUTF8();  // the validator's tables; until then it accepts any bytes
  for (int i = 0; i < schema.num_fields(); ++i) {
    const auto& field = *schema.field(i);
    for (const std::string& text : {field.name(), field.type()->ToString()}) {
      if (!arrow::util::ValidateUTF8(text)) {
        return Status::Invalid("the name or type of column ", i, " of the schema is not UTF-8");
      }
    }
  }
  return Status::OK();
}

}  // namespace

Result<std::string> EncodeSchema(const arrow::Schema& schema) {
  ARROW_RETURN_NOT_OK(CheckUtf8(schema));
  ARROW_ASSIGN_OR_RAISE(auto buffer, arrow::ipc::SerializeSchema(schema));
  return arrow::util::base64_encode(std::string_view(buffer->data_as<char>(), buffer->size()));
}

Result<std::shared_ptr<arrow::Schema>> DecodeSchema(const std::string& text) {
  ARROW_ASSIGN_OR_RAISE(auto bytes, arrow::util::base64_decode(text));
  arrow::io::BufferReader reader(arrow::Buffer::FromString(std::move(bytes)));
  ARROW_ASSIGN_OR_RAISE(auto schema, arrow::ipc::ReadSchema(&reader, nullptr));
  ARROW_RETURN_NOT_OK(CheckUtf8(*schema));
  return schema;
}

Result<json> DefinitionToJson(const DatasetEntry& dataset) {
  json columns = json::array();
  for (const auto& field : dataset.schema->fields()) {
    columns.push_back({field->name(), field->type()->ToString()});
  }
  ARROW_ASSIGN_OR_RAISE(auto schema, EncodeSchema(*dataset.schema));
  return json{{"type", dataset.type},
              {"partition_keys", dataset.partition_keys},
              {"natural_key", dataset.natural_key},
              {"time_column", dataset.time_column},
              {"columns", columns},
              {"arrow_schema", schema}};
}

Result<DatasetEntry> DefinitionFromJson(const std::string& name, const json& value) {
  DatasetEntry dataset;
  dataset.name = name;
  dataset.type = value.at("type").get<std::string>();
  dataset.partition_keys = value.at("partition_keys").get<std::vector<std::string>>();
  dataset.natural_key = value.at("natural_key").get<std::vector<std::string>>();
  dataset.time_column = value.at("time_column").get<std::string>();
  ARROW_ASSIGN_OR_RAISE(dataset.schema, DecodeSchema(value.at("arrow_schema").get<std::string>()));
  return dataset;
}

json FileToJson(const FileEntry& file) {
  json partition = json::array();
  for (const auto& [key, value] : file.partition) partition.push_back({key, value});
  return {{"path", file.path},         {"rows", file.rows},         {"bytes", file.bytes},
          {"partition", partition},    {"min_time", file.min_time}, {"max_time", file.max_time},
          {"version", file.version}};
}

FileEntry FileFromJson(const json& item) {
  FileEntry file;
  file.path = item.at("path").get<std::string>();
  file.rows = item.at("rows").get<int64_t>();
  file.bytes = item.at("bytes").get<int64_t>();
  for (const auto& pair : item.at("partition")) {
    file.partition.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
  }
  file.min_time = item.at("min_time").get<int64_t>();
  file.max_time = item.at("max_time").get<int64_t>();
  file.version = item.at("version").get<int64_t>();
  return file;
}

Result<json> DetailsToJson(const Snapshot& snapshot) {
  json details = json::object();
  for (const auto& [key, text] : snapshot.details) {
    try {
      details[key] = json::parse(text);
    } catch (const json::exception& e) {
      return Status::Invalid("commit ", snapshot.version, ": detail '", key, "' is not JSON: ", e.what());
    }
  }
  return details;
}

Result<std::string> SnapshotToJson(const Snapshot& snapshot) {
  json datasets = json::object();
  for (const auto& [name, dataset] : snapshot.datasets) {
    json files = json::array();
    for (const auto& file : dataset.files) files.push_back(FileToJson(file));
    ARROW_ASSIGN_OR_RAISE(json entry, DefinitionToJson(dataset));
    entry["rows"] = dataset.rows();
    entry["bytes"] = dataset.bytes();
    entry["files"] = std::move(files);
    datasets[name] = std::move(entry);
  }
  json root = {{"format", "tickforge.store"},
               {"format_version", 1},
               {"version", snapshot.version},
               {"operation", snapshot.operation},
               {"committed_at", snapshot.committed_at},
               {"datasets", datasets}};
  if (!snapshot.details.empty()) {
    ARROW_ASSIGN_OR_RAISE(root["details"], DetailsToJson(snapshot));
  }
  return root.dump(1);
}

Result<Snapshot> SnapshotFromJson(const std::string& text, const std::string& origin) {
  try {
    return SnapshotFromJson(json::parse(text), origin);
  } catch (const json::exception& e) {
    return Status::Invalid(origin, ": malformed store manifest: ", e.what());
  }
}

Result<Snapshot> SnapshotFromJson(const json& root, const std::string& origin) {
  try {
    if (!root.is_object() || root.value("format", "") != "tickforge.store") {
      return Status::Invalid(origin, ": not a tickforge store manifest");
    }
    if (root.at("format_version").get<int>() != 1) {
      return Status::Invalid(origin, ": store format version ", root.at("format_version").dump(),
                             " is not a whole snapshot (format 1)");
    }
    Snapshot snapshot;
    snapshot.version = root.at("version").get<int64_t>();
    snapshot.operation = root.at("operation").get<std::string>();
    snapshot.committed_at = root.at("committed_at").get<std::string>();
    for (const auto& [name, value] : root.at("datasets").items()) {
      auto dataset = DefinitionFromJson(name, value);
      if (!dataset.ok()) return WithPath(dataset.status(), origin);
      for (const auto& item : value.at("files")) dataset->files.push_back(FileFromJson(item));
      snapshot.datasets.emplace(name, std::move(*dataset));
    }
    if (root.contains("details")) {
      for (const auto& [key, value] : root.at("details").items()) snapshot.details[key] = value.dump();
    }
    return snapshot;
  } catch (const json::exception& e) {
    return Status::Invalid(origin, ": malformed store manifest: ", e.what());
  }
}

StorePaths::StorePaths(fs::path root_dir)
    : root(std::move(root_dir)),
      meta(root / "_tickforge"),
      log(meta / "log"),
      manifest(meta / "manifest.json"),
      checkpoints(meta / "checkpoints"),
      last_checkpoint(meta / "_last_checkpoint"),
      vacuum(meta / "vacuum.json"),
      lock(meta / "lock"),
      retired(meta / "retired"),
      cache(root / "_cache") {}

fs::path StorePaths::LogEntry(int64_t version) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%012lld.json", static_cast<long long>(version));
  return log / name;
}

fs::path StorePaths::Checkpoint(int64_t version) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%012lld.parquet", static_cast<long long>(version));
  return checkpoints / name;
}

fs::path StorePaths::Staging(int64_t version) const {
  return meta / "staging" / std::to_string(version);
}

fs::path StorePaths::Staged(const FileEntry& file) const {
  return Staging(file.version) / fs::path(file.path).filename();
}

Result<int64_t> LatestVersion(const StorePaths& paths) {
  std::error_code ec;
  if (!fs::exists(paths.log, ec)) return 0;
  // Log names are zero-padded, so the newest is the largest name; a crash can leave only
  // hidden temporary files besides them.
  int64_t latest = 0;
  for (const auto& entry : fs::directory_iterator(paths.log, ec)) {
    const auto name = entry.path().filename().string();
    if (IsHiddenName(name) || entry.path().extension() != ".json") continue;
    try {
      latest = std::max<int64_t>(latest, std::stoll(entry.path().stem().string()));
    } catch (const std::exception&) {
      continue;
    }
  }
  if (ec) return Status::IOError(paths.log.string(), ": ", ec.message());
  return latest;
}

Status WriteSnapshot(const StorePaths& paths, const Snapshot& snapshot) {
  ARROW_ASSIGN_OR_RAISE(std::string text, SnapshotToJson(snapshot));
  std::error_code ec;
  fs::create_directories(paths.log, ec);
  if (ec) return Status::IOError(paths.log.string(), ": ", ec.message());
  // CommitNew() fails if the name exists, so of two writers racing for one version only one commits.
  ARROW_ASSIGN_OR_RAISE(auto entry, AtomicFile::Create(paths.LogEntry(snapshot.version)));
  ARROW_RETURN_NOT_OK(entry->stream()->Write(text));
  if (auto status = entry->CommitNew(); status.IsAlreadyExists()) {
    return Status::Invalid(paths.root.string(), ": another writer committed version ", snapshot.version, " first");
  } else if (!status.ok()) {
    return status;
  }
  // The manifest is a copy for readers; the log entry above is already the commit.
  ARROW_ASSIGN_OR_RAISE(auto manifest, AtomicFile::Create(paths.manifest));
  ARROW_RETURN_NOT_OK(manifest->stream()->Write(text));
  return manifest->Commit();
}

fs::path ResolveFile(const StorePaths& paths, const FileEntry& file) {
  std::error_code ec;
  fs::path in_place = paths.root / file.path;
  if (fs::exists(in_place, ec)) return in_place;
  fs::path staged = paths.Staged(file);
  if (fs::exists(staged, ec)) return staged;
  fs::path retired = paths.retired / file.path;
  if (fs::exists(retired, ec)) return retired;
  return in_place;  // missing: the reader reports it by this name
}

std::string UtcNow() { return UtcSecondsAgo(0); }

std::string UtcSecondsAgo(double seconds_ago) {
  const auto now = std::chrono::system_clock::now() -
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(seconds_ago));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[80];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return text;
}

}  // namespace tickforge::store
