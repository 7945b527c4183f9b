// Parquet checkpoints of whole snapshots (see checkpoint_internal.h).
#include "tickforge/store/checkpoint_internal.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/reader.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tickforge/store/manifest_internal.h"
#include "tickforge/store/transaction_internal.h"
#include "tickforge/util/files.h"
#include "tickforge/util/io.h"
#include "tickforge/util/parquet.h"

namespace tickforge::store {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::shared_ptr<arrow::Schema> CheckpointSchema() {
  return arrow::schema({arrow::field("dataset", arrow::utf8(), false),
                        arrow::field("path", arrow::utf8(), false),
                        arrow::field("rows", arrow::int64(), false),
                        arrow::field("bytes", arrow::int64(), false),
                        arrow::field("min_time", arrow::int64(), false),
                        arrow::field("max_time", arrow::int64(), false),
                        arrow::field("version", arrow::int64(), false),
                        arrow::field("partition_values", arrow::list(arrow::utf8()), false),
                        // Null where the file's keys are its dataset's partition keys (always, for
                        // files the writers made), so they are not repeated per row.
                        arrow::field("partition_keys", arrow::list(arrow::utf8()))});
}

bool KeysAreDatasets(const FileEntry& file, const DatasetEntry& dataset) {
  if (file.partition.size() != dataset.partition_keys.size()) return false;
  for (size_t i = 0; i < file.partition.size(); ++i) {
    if (file.partition[i].first != dataset.partition_keys[i]) return false;
  }
  return true;
}

template <typename ArrayType>
Result<std::shared_ptr<ArrayType>> Column(const arrow::Table& table, const std::string& name,
                                          const arrow::DataType& type, const std::string& origin) {
  auto column = table.GetColumnByName(name);
  if (!column) return Status::Invalid(origin, ": checkpoint has no column '", name, "'");
  if (!column->type()->Equals(type)) {
    return Status::Invalid(origin, ": checkpoint column '", name, "' is ", column->type()->ToString(), ", not ",
                           type.ToString());
  }
  if (column->num_chunks() != 1) return Status::Invalid(origin, ": checkpoint column '", name, "' is not combined");
  return std::static_pointer_cast<ArrayType>(column->chunk(0));
}

}  // namespace

Status WriteCheckpoint(const StorePaths& paths, const Snapshot& snapshot) {
  arrow::StringBuilder dataset_b, path_b;
  arrow::Int64Builder rows_b, bytes_b, min_b, max_b, version_b;
  auto values_b = std::make_shared<arrow::StringBuilder>();
  auto keys_values_b = std::make_shared<arrow::StringBuilder>();
  arrow::ListBuilder partition_b(arrow::default_memory_pool(), values_b);
  arrow::ListBuilder keys_b(arrow::default_memory_pool(), keys_values_b);
  json datasets = json::object();
  for (const auto& [name, dataset] : snapshot.datasets) {
    ARROW_ASSIGN_OR_RAISE(json definition, DefinitionToJson(dataset));
    definition["files"] = dataset.files.size();
    datasets[name] = std::move(definition);
    for (const auto& file : dataset.files) {
      ARROW_RETURN_NOT_OK(dataset_b.Append(name));
      ARROW_RETURN_NOT_OK(path_b.Append(file.path));
      ARROW_RETURN_NOT_OK(rows_b.Append(file.rows));
      ARROW_RETURN_NOT_OK(bytes_b.Append(file.bytes));
      ARROW_RETURN_NOT_OK(min_b.Append(file.min_time));
      ARROW_RETURN_NOT_OK(max_b.Append(file.max_time));
      ARROW_RETURN_NOT_OK(version_b.Append(file.version));
      ARROW_RETURN_NOT_OK(partition_b.Append());
      for (const auto& [key, value] : file.partition) ARROW_RETURN_NOT_OK(values_b->Append(value));
      if (KeysAreDatasets(file, dataset)) {
        ARROW_RETURN_NOT_OK(keys_b.AppendNull());
      } else {
        ARROW_RETURN_NOT_OK(keys_b.Append());
        for (const auto& [key, value] : file.partition) ARROW_RETURN_NOT_OK(keys_values_b->Append(key));
      }
    }
  }
  ARROW_ASSIGN_OR_RAISE(json details, DetailsToJson(snapshot));
  const json header = {{"format", "tickforge.store"}, {"format_version", 2},
                       {"version", snapshot.version}, {"operation", snapshot.operation},
                       {"committed_at", snapshot.committed_at}, {"details", details},
                       {"datasets", datasets}};
  auto metadata = arrow::key_value_metadata({kCheckpointKey}, {header.dump()});
  auto schema = CheckpointSchema()->WithMetadata(metadata);
  arrow::ArrayVector columns(9);
  ARROW_RETURN_NOT_OK(dataset_b.Finish(&columns[0]));
  ARROW_RETURN_NOT_OK(path_b.Finish(&columns[1]));
  ARROW_RETURN_NOT_OK(rows_b.Finish(&columns[2]));
  ARROW_RETURN_NOT_OK(bytes_b.Finish(&columns[3]));
  ARROW_RETURN_NOT_OK(min_b.Finish(&columns[4]));
  ARROW_RETURN_NOT_OK(max_b.Finish(&columns[5]));
  ARROW_RETURN_NOT_OK(version_b.Finish(&columns[6]));
  ARROW_RETURN_NOT_OK(partition_b.Finish(&columns[7]));
  ARROW_RETURN_NOT_OK(keys_b.Finish(&columns[8]));
  const int64_t n = columns[0]->length();
  auto table = arrow::Table::Make(schema, columns, n);
  ARROW_RETURN_NOT_OK(EnsureDirectory(paths.checkpoints));
  ParquetWriteOptions options;
  options.row_group_rows = 1 << 18;
  ARROW_ASSIGN_OR_RAISE(auto file, ParquetFile::Create(paths.Checkpoint(snapshot.version), schema, options));
  ARROW_RETURN_NOT_OK(file->WriteTable(*table));
  ARROW_RETURN_NOT_OK(file->Close().status());
  // The hint only saves a listing; readers list the folder and never trust it.
  ARROW_ASSIGN_OR_RAISE(auto hint, AtomicFile::Create(paths.last_checkpoint));
  ARROW_RETURN_NOT_OK(hint->stream()->Write(json{{"version", snapshot.version}, {"files", n}}.dump() + "\n"));
  return hint->Commit();
}

Result<Snapshot> ReadCheckpoint(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto file, OpenReadable(path));
  return ReadCheckpoint(std::move(file), path);
}

Result<Snapshot> ReadCheckpoint(std::shared_ptr<arrow::io::RandomAccessFile> file, const std::string& origin) {
  parquet::arrow::FileReaderBuilder builder;
  ARROW_RETURN_NOT_OK(WithPath(builder.Open(std::move(file)), origin));
  parquet::ArrowReaderProperties properties;
  properties.set_use_threads(true);
  std::unique_ptr<parquet::arrow::FileReader> reader;
  ARROW_RETURN_NOT_OK(WithPath(builder.properties(properties)->Build(&reader), origin));
  const auto kv = reader->parquet_reader()->metadata()->key_value_metadata();
  const int index = kv ? kv->FindKey(kCheckpointKey) : -1;
  if (index < 0) return Status::Invalid(origin, ": not a tickforge checkpoint (no ", kCheckpointKey, " metadata)");
  Snapshot snapshot;
  std::vector<std::pair<std::string, int64_t>> expected;  // dataset, files, in row order
  try {
    const json header = json::parse(kv->value(index));
    if (header.at("format_version") != 2) {
      return Status::Invalid(origin, ": checkpoint format ", header.at("format_version").dump(), " is not 2");
    }
    snapshot.version = header.at("version").get<int64_t>();
    snapshot.operation = header.at("operation").get<std::string>();
    snapshot.committed_at = header.at("committed_at").get<std::string>();
    for (const auto& [key, value] : header.at("details").items()) snapshot.details[key] = value.dump();
    for (const auto& [name, value] : header.at("datasets").items()) {
      auto dataset = DefinitionFromJson(name, value);
      if (!dataset.ok()) return WithPath(dataset.status(), origin);
      expected.emplace_back(name, value.at("files").get<int64_t>());
      snapshot.datasets.emplace(name, std::move(*dataset));
    }
  } catch (const json::exception& e) {
    return Status::Invalid(origin, ": malformed checkpoint header: ", e.what());
  }
  auto read = reader->ReadTable();
  if (!read.ok()) return WithPath(read.status(), origin);
  std::shared_ptr<arrow::Table> table = *std::move(read);
  auto combined = table->CombineChunks();
  if (!combined.ok()) return WithPath(combined.status(), origin);
  table = *combined;
  // Offsets and lengths of a damaged file must not send the conversion out of bounds.
  ARROW_RETURN_NOT_OK(WithPath(table->ValidateFull(), origin));
  using arrow::Int64Array, arrow::ListArray, arrow::StringArray;
  ARROW_ASSIGN_OR_RAISE(auto dataset_a, Column<StringArray>(*table, "dataset", *arrow::utf8(), origin));
  ARROW_ASSIGN_OR_RAISE(auto path_a, Column<StringArray>(*table, "path", *arrow::utf8(), origin));
  ARROW_ASSIGN_OR_RAISE(auto rows_a, Column<Int64Array>(*table, "rows", *arrow::int64(), origin));
  ARROW_ASSIGN_OR_RAISE(auto bytes_a, Column<Int64Array>(*table, "bytes", *arrow::int64(), origin));
  ARROW_ASSIGN_OR_RAISE(auto min_a, Column<Int64Array>(*table, "min_time", *arrow::int64(), origin));
  ARROW_ASSIGN_OR_RAISE(auto max_a, Column<Int64Array>(*table, "max_time", *arrow::int64(), origin));
  ARROW_ASSIGN_OR_RAISE(auto version_a, Column<Int64Array>(*table, "version", *arrow::int64(), origin));
  const auto list_type = arrow::list(arrow::utf8());
  ARROW_ASSIGN_OR_RAISE(auto values_a, Column<ListArray>(*table, "partition_values", *list_type, origin));
  ARROW_ASSIGN_OR_RAISE(auto keys_a, Column<ListArray>(*table, "partition_keys", *list_type, origin));
  const auto& values = static_cast<const StringArray&>(*values_a->values());
  const auto& keys = static_cast<const StringArray&>(*keys_a->values());
  const int64_t n = table->num_rows();
  int64_t row = 0;
  for (const auto& [name, count] : expected) {
    DatasetEntry& dataset = snapshot.datasets.at(name);
    if (count < 0 || count > n - row) {
      return Status::Invalid(origin, ": header lists ", count, " files of dataset '", name, "' from row ", row,
                             ", but the checkpoint has ", n, " rows");
    }
    dataset.files.resize(static_cast<size_t>(count));
    for (auto& file : dataset.files) {
      if (dataset_a->IsNull(row) || dataset_a->GetView(row) != name || path_a->IsNull(row) || values_a->IsNull(row)) {
        return Status::Invalid(origin, ": row ", row, " does not belong to dataset '", name, "' as its header says");
      }
      file.path = std::string(path_a->GetView(row));
      file.rows = rows_a->Value(row);
      file.bytes = bytes_a->Value(row);
      file.min_time = min_a->Value(row);
      file.max_time = max_a->Value(row);
      file.version = version_a->Value(row);
      const int64_t begin = values_a->value_offset(row), length = values_a->value_length(row);
      const bool own_keys = !keys_a->IsNull(row);
      if (own_keys ? keys_a->value_length(row) != length
                   : length != static_cast<int64_t>(dataset.partition_keys.size())) {
        return Status::Invalid(origin, ": row ", row, " has ", length, " partition values for its keys");
      }
      file.partition.resize(static_cast<size_t>(length));
      for (int64_t k = 0; k < length; ++k) {
        auto& [key, value] = file.partition[static_cast<size_t>(k)];
        key = own_keys ? std::string(keys.GetView(keys_a->value_offset(row) + k)) : dataset.partition_keys[k];
        value = std::string(values.GetView(begin + k));
      }
      ++row;
    }
  }
  if (row != n) return Status::Invalid(origin, ": checkpoint has ", n, " rows, its header lists ", row, " files");
  return snapshot;
}

Result<std::vector<int64_t>> ListCheckpoints(const StorePaths& paths) {
  std::vector<int64_t> versions;
  std::error_code ec;
  if (!fs::exists(paths.checkpoints, ec)) return versions;
  for (const auto& entry : fs::directory_iterator(paths.checkpoints, ec)) {
    const auto name = entry.path().filename().string();
    if (IsHiddenName(name) || entry.path().extension() != ".parquet") continue;
    try {
      versions.push_back(std::stoll(entry.path().stem().string()));
    } catch (const std::exception&) {
      continue;
    }
  }
  if (ec) return Status::IOError(paths.checkpoints.string(), ": ", ec.message());
  std::sort(versions.begin(), versions.end());
  return versions;
}

}  // namespace tickforge::store
