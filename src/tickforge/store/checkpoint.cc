// Parquet checkpoints of whole snapshots (see checkpoint_internal.h).
#include "tickforge/store/checkpoint_internal.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/reader.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>
#include <parquet/schema.h>
#include <parquet/statistics.h>

#include <filesystem>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "tickforge/store/manifest_internal.h"
#include "tickforge/store/totals_internal.h"
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

/// The checkpoint's columns: the fixed ones, then one text column per partition key name of
/// any dataset (null where a file has no such key), whose row group statistics let a filtered
/// read skip the row groups that hold no wanted value.
std::shared_ptr<arrow::Schema> CheckpointSchema(const std::set<std::string>& keys) {
  arrow::FieldVector fields = CheckpointSchema()->fields();
  for (const auto& key : keys) fields.push_back(arrow::field(std::string(kKeyColumnPrefix) + key, arrow::utf8()));
  return arrow::schema(std::move(fields));
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
  std::set<std::string> key_names;
  for (const auto& [name, dataset] : snapshot.datasets) {
    for (const auto& file : dataset.files) {
      for (const auto& [key, value] : file.partition) key_names.insert(key);
    }
  }
  arrow::StringBuilder dataset_b, path_b;
  arrow::Int64Builder rows_b, bytes_b, min_b, max_b, version_b;
  auto values_b = std::make_shared<arrow::StringBuilder>();
  auto keys_values_b = std::make_shared<arrow::StringBuilder>();
  arrow::ListBuilder partition_b(arrow::default_memory_pool(), values_b);
  arrow::ListBuilder keys_b(arrow::default_memory_pool(), keys_values_b);
  const std::vector<std::string> key_names_v(key_names.begin(), key_names.end());
  std::vector<arrow::StringBuilder> key_b(key_names_v.size());
  json datasets = json::object();
  for (const auto& [name, dataset] : snapshot.datasets) {
    // Where each key column's key is among the dataset's keys (-1: not one of them).
    std::vector<int> position(key_names_v.size(), -1);
    for (size_t k = 0; k < key_names_v.size(); ++k) {
      for (size_t i = 0; i < dataset.partition_keys.size(); ++i) {
        if (dataset.partition_keys[i] == key_names_v[k]) position[k] = static_cast<int>(i);
      }
    }
    ARROW_ASSIGN_OR_RAISE(json definition, DefinitionToJson(dataset));
    definition["files"] = dataset.files.size();
    // Lets a filtered read of one version replay later commits in the full listing's order.
    definition["sorted"] = dataset.files.sorted();
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
      // A key's column gets the file's value of it (the last, where a file repeats a key, as
      // FilePruner reads it); files with their dataset's keys find it by position.
      const bool dataset_keys = KeysAreDatasets(file, dataset);
      for (size_t k = 0; k < key_b.size(); ++k) {
        const std::string* value = nullptr;
        if (dataset_keys) {
          if (position[k] >= 0) value = &file.partition[static_cast<size_t>(position[k])].second;
        } else {
          for (const auto& [key, v] : file.partition) {
            if (key == key_names_v[k]) value = &v;
          }
        }
        ARROW_RETURN_NOT_OK(value ? key_b[k].Append(*value) : key_b[k].AppendNull());
      }
    }
  }
  ARROW_ASSIGN_OR_RAISE(json details, DetailsToJson(snapshot));
  const json header = {{"format", "tickforge.store"}, {"format_version", 2},
                       {"version", snapshot.version}, {"operation", snapshot.operation},
                       {"committed_at", snapshot.committed_at}, {"details", details},
                       {"datasets", datasets},
                       // Lets a commit read the newest totals without this listing.
                       {"totals", TotalsToJson(SumSnapshot(snapshot))}};
  auto metadata = arrow::key_value_metadata({kCheckpointKey}, {header.dump()});
  auto schema = CheckpointSchema(key_names)->WithMetadata(metadata);
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
  for (auto& builder : key_b) {
    std::shared_ptr<arrow::Array> column;
    ARROW_RETURN_NOT_OK(builder.Finish(&column));
    columns.push_back(std::move(column));
  }
  const int64_t n = columns[0]->length();
  auto table = arrow::Table::Make(schema, columns, n);
  ARROW_RETURN_NOT_OK(EnsureDirectory(paths.checkpoints));
  ParquetWriteOptions options;
  options.row_group_rows = kCheckpointRowGroupRows;
  ARROW_ASSIGN_OR_RAISE(auto file, ParquetFile::Create(paths.Checkpoint(snapshot.version), schema, options));
  ARROW_RETURN_NOT_OK(file->WriteTable(*table));
  ARROW_RETURN_NOT_OK(file->Close().status());
  // The hint only saves a listing; readers list the folder and never trust it.
  ARROW_ASSIGN_OR_RAISE(auto hint, AtomicFile::Create(paths.last_checkpoint));
  ARROW_RETURN_NOT_OK(hint->stream()->Write(json{{"version", snapshot.version}, {"files", n}}.dump() + "\n"));
  return hint->Commit();
}

namespace {

/// An open checkpoint: its reader, and its header parsed into a snapshot without files.
struct OpenedCheckpoint {
  std::unique_ptr<parquet::arrow::FileReader> reader;
  Snapshot snapshot;
  /// (dataset, files) in row order.
  std::vector<std::pair<std::string, int64_t>> expected;
  /// Datasets the header says are sorted by path.
  std::set<std::string> sorted;
  /// Every dataset's totals (none: written by older tickforge).
  std::optional<Totals> totals;
};

Result<OpenedCheckpoint> OpenCheckpoint(std::shared_ptr<arrow::io::RandomAccessFile> file, const std::string& origin) {
  OpenedCheckpoint opened;
  parquet::arrow::FileReaderBuilder builder;
  ARROW_RETURN_NOT_OK(WithPath(builder.Open(std::move(file)), origin));
  parquet::ArrowReaderProperties properties;
  properties.set_use_threads(true);
  ARROW_RETURN_NOT_OK(WithPath(builder.properties(properties)->Build(&opened.reader), origin));
  const auto kv = opened.reader->parquet_reader()->metadata()->key_value_metadata();
  const int index = kv ? kv->FindKey(kCheckpointKey) : -1;
  if (index < 0) return Status::Invalid(origin, ": not a tickforge checkpoint (no ", kCheckpointKey, " metadata)");
  Snapshot& snapshot = opened.snapshot;
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
      opened.expected.emplace_back(name, value.at("files").get<int64_t>());
      if (value.value("sorted", false)) opened.sorted.insert(name);
      snapshot.datasets.emplace(name, std::move(*dataset));
    }
    if (const auto it = header.find("totals"); it != header.end()) opened.totals = TotalsFromJson(*it);
  } catch (const json::exception& e) {
    return Status::Invalid(origin, ": malformed checkpoint header: ", e.what());
  }
  // The footer's row counts must agree with the header before any column is read: the reader
  // sizes its buffers by them, and a damaged count in a checkpoint of a few KB asked for 21 GB.
  int64_t listed = 0;
  for (const auto& [name, files] : opened.expected) {
    if (files < 0 || __builtin_add_overflow(listed, files, &listed)) {
      return Status::Invalid(origin, ": header lists ", files, " files of dataset '", name, "'");
    }
  }
  const auto metadata = opened.reader->parquet_reader()->metadata();
  int64_t rows = 0;
  for (int g = 0; g < metadata->num_row_groups(); ++g) {
    const int64_t group_rows = metadata->RowGroup(g)->num_rows();
    if (group_rows < 0 || __builtin_add_overflow(rows, group_rows, &rows)) {
      return Status::Invalid(origin, ": row group ", g, " of the checkpoint has ", group_rows, " rows");
    }
  }
  if (rows != listed || metadata->num_rows() != rows) {
    return Status::Invalid(origin, ": the checkpoint's row groups hold ", rows, " rows and its footer says ",
                           metadata->num_rows(), ", but its header lists ", listed, " files");
  }
  return opened;
}

/// The listing columns of (part of) a checkpoint, checked for type.
struct ListingColumns {
  std::shared_ptr<arrow::StringArray> dataset, path;
  std::shared_ptr<arrow::Int64Array> rows, bytes, min_time, max_time, version;
  std::shared_ptr<arrow::ListArray> values, keys;
};

Result<ListingColumns> GetListingColumns(std::shared_ptr<arrow::Table> table, const std::string& origin) {
  auto combined = table->CombineChunks();
  if (!combined.ok()) return WithPath(combined.status(), origin);
  table = *combined;
  // Offsets and lengths of a damaged file must not send the conversion out of bounds.
  ARROW_RETURN_NOT_OK(WithPath(table->ValidateFull(), origin));
  using arrow::Int64Array, arrow::ListArray, arrow::StringArray;
  ListingColumns c;
  ARROW_ASSIGN_OR_RAISE(c.dataset, Column<StringArray>(*table, "dataset", *arrow::utf8(), origin));
  ARROW_ASSIGN_OR_RAISE(c.path, Column<StringArray>(*table, "path", *arrow::utf8(), origin));
  ARROW_ASSIGN_OR_RAISE(c.rows, Column<Int64Array>(*table, "rows", *arrow::int64(), origin));
  ARROW_ASSIGN_OR_RAISE(c.bytes, Column<Int64Array>(*table, "bytes", *arrow::int64(), origin));
  ARROW_ASSIGN_OR_RAISE(c.min_time, Column<Int64Array>(*table, "min_time", *arrow::int64(), origin));
  ARROW_ASSIGN_OR_RAISE(c.max_time, Column<Int64Array>(*table, "max_time", *arrow::int64(), origin));
  ARROW_ASSIGN_OR_RAISE(c.version, Column<Int64Array>(*table, "version", *arrow::int64(), origin));
  const auto list_type = arrow::list(arrow::utf8());
  ARROW_ASSIGN_OR_RAISE(c.values, Column<ListArray>(*table, "partition_values", *list_type, origin));
  ARROW_ASSIGN_OR_RAISE(c.keys, Column<ListArray>(*table, "partition_keys", *list_type, origin));
  return c;
}

/// Convert row `row` of `c` (which checkpoint row `file_row` is) into a file of `dataset`.
Result<FileEntry> RowToFile(const ListingColumns& c, int64_t row, int64_t file_row, const DatasetEntry& dataset,
                            const std::string& origin) {
  if (c.dataset->IsNull(row) || c.dataset->GetView(row) != dataset.name || c.path->IsNull(row) ||
      c.values->IsNull(row)) {
    return Status::Invalid(origin, ": row ", file_row, " does not belong to dataset '", dataset.name,
                           "' as its header says");
  }
  const auto& values = static_cast<const arrow::StringArray&>(*c.values->values());
  const auto& keys = static_cast<const arrow::StringArray&>(*c.keys->values());
  FileEntry file;
  file.path = std::string(c.path->GetView(row));
  file.rows = c.rows->Value(row);
  file.bytes = c.bytes->Value(row);
  file.min_time = c.min_time->Value(row);
  file.max_time = c.max_time->Value(row);
  file.version = c.version->Value(row);
  const int64_t begin = c.values->value_offset(row), length = c.values->value_length(row);
  const bool own_keys = !c.keys->IsNull(row);
  if (own_keys ? c.keys->value_length(row) != length : length != static_cast<int64_t>(dataset.partition_keys.size())) {
    return Status::Invalid(origin, ": row ", file_row, " has ", length, " partition values for its keys");
  }
  file.partition.resize(static_cast<size_t>(length));
  for (int64_t k = 0; k < length; ++k) {
    auto& [key, value] = file.partition[static_cast<size_t>(k)];
    key = own_keys ? std::string(keys.GetView(c.keys->value_offset(row) + k)) : dataset.partition_keys[k];
    value = std::string(values.GetView(begin + k));
  }
  return file;
}

/// Return the checkpoint's fields that hold the listing (all but the key columns).
Result<std::vector<int>> ListingFields(parquet::arrow::FileReader& reader, const std::string& origin) {
  std::shared_ptr<arrow::Schema> schema;
  ARROW_RETURN_NOT_OK(WithPath(reader.GetSchema(&schema), origin));
  std::vector<int> fixed;
  for (int i = 0; i < schema->num_fields(); ++i) {
    if (!schema->field(i)->name().starts_with(kKeyColumnPrefix)) fixed.push_back(i);
  }
  return fixed;
}

/// Return whether row group `g` may hold a file whose `key` is one of `wanted`, by the
/// statistics of the key's column; no column or no statistics: it may.
bool RowGroupMayHold(const parquet::FileMetaData& metadata, int g, int column, const std::vector<std::string>& wanted) {
  const auto chunk = metadata.RowGroup(g)->ColumnChunk(column);
  const auto stats = chunk->statistics();
  if (!stats || !stats->HasMinMax() || !stats->HasNullCount() || stats->null_count() > 0) return true;
  if (stats->physical_type() != parquet::Type::BYTE_ARRAY) return true;
  const auto& typed = static_cast<const parquet::ByteArrayStatistics&>(*stats);
  const std::string_view lo(reinterpret_cast<const char*>(typed.min().ptr), typed.min().len);
  const std::string_view hi(reinterpret_cast<const char*>(typed.max().ptr), typed.max().len);
  for (const auto& value : wanted) {
    if (lo <= value && value <= hi) return true;
  }
  return false;
}

/// Return whether row group `g` may hold a path starting with `prefix`, by the statistics of
/// the path column; no statistics: it may.
bool RowGroupMayHoldPrefix(const parquet::FileMetaData& metadata, int g, int column, const std::string& prefix) {
  const auto stats = metadata.RowGroup(g)->ColumnChunk(column)->statistics();
  if (!stats || !stats->HasMinMax() || stats->physical_type() != parquet::Type::BYTE_ARRAY) return true;
  const auto& typed = static_cast<const parquet::ByteArrayStatistics&>(*stats);
  const std::string_view lo(reinterpret_cast<const char*>(typed.min().ptr), typed.min().len);
  const std::string_view hi(reinterpret_cast<const char*>(typed.max().ptr), typed.max().len);
  // The paths with the prefix are one range: from the prefix to the last string starting with it.
  return hi >= prefix && (lo <= prefix || lo.starts_with(prefix));
}

}  // namespace

Result<Snapshot> ReadCheckpoint(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto file, OpenReadable(path));
  return ReadCheckpoint(std::move(file), path);
}

Result<Snapshot> ReadCheckpoint(std::shared_ptr<arrow::io::RandomAccessFile> file, const std::string& origin) {
  ARROW_ASSIGN_OR_RAISE(auto opened, OpenCheckpoint(std::move(file), origin));
  Snapshot& snapshot = opened.snapshot;
  // The key columns only serve filtered reads; the listing is in the fixed ones.
  ARROW_ASSIGN_OR_RAISE(const std::vector<int> fixed, ListingFields(*opened.reader, origin));
  auto read = opened.reader->ReadTable(fixed);
  if (!read.ok()) return WithPath(read.status(), origin);
  ARROW_ASSIGN_OR_RAISE(auto columns, GetListingColumns(*read, origin));
  const int64_t n = (*read)->num_rows();
  int64_t row = 0;
  for (const auto& [name, count] : opened.expected) {
    DatasetEntry& dataset = snapshot.datasets.at(name);
    if (count < 0 || count > n - row) {
      return Status::Invalid(origin, ": header lists ", count, " files of dataset '", name, "' from row ", row,
                             ", but the checkpoint has ", n, " rows");
    }
    std::vector<FileEntry> files;
    files.reserve(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i, ++row) {
      ARROW_ASSIGN_OR_RAISE(auto file, RowToFile(columns, row, row, dataset, origin));
      files.push_back(std::move(file));
    }
    dataset.files = FileList(std::move(files));
  }
  if (row != n) return Status::Invalid(origin, ": checkpoint has ", n, " rows, its header lists ", row, " files");
  return snapshot;
}

Result<CheckpointListing> ReadCheckpointSelection(const std::string& path, const std::string& dataset_name,
                                                  const std::function<CheckpointSelection(const DatasetEntry&)>& select) {
  ARROW_ASSIGN_OR_RAISE(auto input, OpenReadable(path));
  ARROW_ASSIGN_OR_RAISE(auto opened, OpenCheckpoint(std::move(input), path));
  CheckpointListing listing;
  listing.snapshot = std::move(opened.snapshot);
  listing.sorted = opened.sorted.count(dataset_name) > 0;
  listing.sorted_datasets = std::move(opened.sorted);
  listing.totals = std::move(opened.totals);
  // The dataset's rows: datasets follow each other in the header's order.
  int64_t first = 0, count = -1, offset = 0;
  for (const auto& [name, files] : opened.expected) {
    listing.file_counts[name] = files;
    if (name == dataset_name) first = offset, count = files;
    offset += files;
  }
  if (count <= 0) return listing;
  DatasetEntry& dataset = listing.snapshot.datasets.at(dataset_name);
  const CheckpointSelection selection = select(dataset);
  const auto metadata = opened.reader->parquet_reader()->metadata();
  ARROW_ASSIGN_OR_RAISE(const std::vector<int> fixed, ListingFields(*opened.reader, path));
  // The leaf columns of the wanted keys, found by their path.
  std::vector<std::pair<int, const std::vector<std::string>*>> tests;
  for (const auto& [key, wanted] : selection.key_values) {
    for (int c = 0; c < metadata->num_columns(); ++c) {
      if (metadata->schema()->Column(c)->path()->ToDotString() == std::string(kKeyColumnPrefix) + key) {
        tests.emplace_back(c, &wanted);
      }
    }
  }
  int path_column = -1;
  for (int c = 0; c < metadata->num_columns() && !selection.path_prefix.empty(); ++c) {
    if (metadata->schema()->Column(c)->path()->ToDotString() == "path") path_column = c;
  }
  std::vector<int> groups;
  std::vector<int64_t> group_first;  // the checkpoint row each selected group starts at
  int64_t start = 0;
  for (int g = 0; g < metadata->num_row_groups(); ++g) {
    const int64_t rows = metadata->RowGroup(g)->num_rows();
    bool may = start < first + count && first < start + rows;
    for (const auto& [column, wanted] : tests) may = may && RowGroupMayHold(*metadata, g, column, *wanted);
    if (path_column >= 0) may = may && RowGroupMayHoldPrefix(*metadata, g, path_column, selection.path_prefix);
    if (may) {
      groups.push_back(g);
      group_first.push_back(start);
    }
    start += rows;
  }
  std::vector<FileEntry> files;
  for (size_t i = 0; i < groups.size(); ++i) {
    auto read = opened.reader->ReadRowGroup(groups[i], fixed);
    if (!read.ok()) return WithPath(read.status(), path);
    ARROW_ASSIGN_OR_RAISE(auto columns, GetListingColumns(*read, path));
    const int64_t rows = (*read)->num_rows();
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t row = group_first[i] + r;
      if (row < first || row >= first + count) continue;
      if (!selection.path_prefix.empty() && !columns.path->IsNull(r) &&
          !columns.path->GetView(r).starts_with(selection.path_prefix)) {
        continue;
      }
      ARROW_ASSIGN_OR_RAISE(auto file, RowToFile(columns, r, row, dataset, path));
      if (selection.keep && !selection.keep(file)) continue;
      files.push_back(std::move(file));
    }
  }
  dataset.files = FileList(std::move(files));
  return listing;
}

Result<CheckpointListing> ReadCheckpointHeader(const std::string& path) {
  // No dataset is selected: only the footer and its header are read.
  return ReadCheckpointSelection(path, std::string(), [](const DatasetEntry&) { return CheckpointSelection{}; });
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
