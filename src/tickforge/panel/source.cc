// Reading one symbol's input (see source_internal.h): Parquet files opened mapped or buffered
// by size, projected to the columns the plan reads, or a table in memory cut into batches.
#include "tickforge/panel/source_internal.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/schema.h>
#include <parquet/file_reader.h>
#include <parquet/properties.h>
#include <parquet/statistics.h>

#include <algorithm>
#include <filesystem>

#include "tickforge/util/files.h"
#include "tickforge/util/parquet.h"

namespace tickforge::panel {
namespace {

// Input files up to this size are memory-mapped.
constexpr int64_t kMapBytes = int64_t{256} << 20;

// Leaf column indices of top-level fields, for the Parquet reader's projection.
void CollectLeaves(const parquet::arrow::SchemaField& field, std::vector<int>* out) {
  if (field.column_index >= 0) out->push_back(field.column_index);
  for (const auto& child : field.children) CollectLeaves(child, out);
}

// Small files are mapped: the reader decodes straight from the page cache instead of copying
// the file in first, and the mapping lasts only while this one file is read, so RSS stays
// bounded. Larger ones are read 1 MiB at a time, which bounds the reader's memory by that
// rather than by the row group.
ParquetReadOptions PanelReadOptions(int64_t batch_rows, bool use_threads,
                                    std::shared_ptr<parquet::FileMetaData> metadata = nullptr) {
  return {.batch_rows = batch_rows, .use_threads = use_threads, .map_below_bytes = kMapBytes,
          .buffer_bytes = 1 << 20, .metadata = std::move(metadata)};
}

}  // namespace

Result<std::shared_ptr<arrow::RecordBatch>> RawReader::Next() {
  while (true) {
    if (reader_) {
      std::shared_ptr<arrow::RecordBatch> batch;
      Status status = reader_->ReadNext(&batch);
      if (!status.ok()) return WithPath(status, current_name());
      if (batch) {
        row_ = next_row_;
        next_row_ += batch->num_rows();
        return batch;
      }
      reader_.reset();
      parquet_.reset();
    }
    if (source_->in_memory) {
      if (opened_) return nullptr;
      opened_ = true;
      if (!source_->table) {
        return Status::Invalid(source_->Name(), ": the input was released after it was read once "
                                                "(release_after_convert); build the panel again to read it again");
      }
      std::shared_ptr<arrow::Table> table = source_->table;
      if (!columns_.empty()) {
        ARROW_ASSIGN_OR_RAISE(table, Project(table));
      }
      auto reader = std::make_shared<arrow::TableBatchReader>(table);
      reader->set_chunksize(batch_rows_);
      reader_ = std::move(reader);
      next_row_ = 0;
      continue;
    }
    if (file_ == source_->paths.size()) return nullptr;
    const size_t index = file_++;
    std::shared_ptr<parquet::FileMetaData> metadata;
    if (index < source_->metadata.size()) {
      metadata = drop_metadata_ ? std::move(source_->metadata[index]) : source_->metadata[index];
    }
    ARROW_RETURN_NOT_OK(WithPath(OpenFile(source_->paths[index], std::move(metadata)), current_name()));
  }
}

Result<std::shared_ptr<arrow::Table>> RawReader::Project(const std::shared_ptr<arrow::Table>& table) const {
  std::vector<int> indices;
  for (const auto& name : columns_) {
    const int i = table->schema()->GetFieldIndex(name);
    if (i >= 0) indices.push_back(i);
  }
  return table->SelectColumns(indices);
}

Status RawReader::OpenFile(const std::string& path, std::shared_ptr<parquet::FileMetaData> metadata) {
  ARROW_ASSIGN_OR_RAISE(parquet_, OpenParquet(path, PanelReadOptions(batch_rows_, use_threads_, std::move(metadata))));
  std::vector<int> row_groups(static_cast<size_t>(parquet_->num_row_groups()));
  for (size_t i = 0; i < row_groups.size(); ++i) row_groups[i] = static_cast<int>(i);
  next_row_ = 0;
  if (columns_.empty()) {
    ARROW_ASSIGN_OR_RAISE(reader_, parquet_->GetRecordBatchReader(row_groups));
    return Status::OK();
  }
  std::shared_ptr<arrow::Schema> schema;
  ARROW_RETURN_NOT_OK(parquet_->GetSchema(&schema));
  const auto& manifest = parquet_->manifest();
  // Leaves in the file's field order, so the batch's columns are too.
  std::set<std::string> wanted(columns_.begin(), columns_.end());
  std::vector<int> leaves;
  for (int i = 0; i < schema->num_fields(); ++i) {
    if (wanted.count(schema->field(i)->name())) CollectLeaves(manifest.schema_fields[static_cast<size_t>(i)], &leaves);
  }
  ARROW_ASSIGN_OR_RAISE(reader_, parquet_->GetRecordBatchReader(row_groups, leaves));
  return Status::OK();
}

Result<FileInfo> ReadFileInfo(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path, PanelReadOptions(1024, false)));
  FileInfo info;
  ARROW_RETURN_NOT_OK(reader->GetSchema(&info.schema));
  info.schema = info.schema->WithMetadata(nullptr);
  info.metadata = reader->parquet_reader()->metadata();
  const auto& metadata = *info.metadata;
  for (int i = 0; i < metadata.num_row_groups(); ++i) info.bytes += metadata.RowGroup(i)->total_byte_size();
  for (int c = 0; c < metadata.num_columns(); ++c) {
    const auto* column = metadata.schema()->Column(c);
    if (column->path()->ToDotVector().size() != 1) continue;  // nested: not tracked
    bool none = true;
    for (int i = 0; i < metadata.num_row_groups() && none; ++i) {
      const auto stats = metadata.RowGroup(i)->ColumnChunk(c)->statistics();
      none = stats && stats->HasNullCount() && stats->null_count() == 0;
    }
    if (none) info.null_free.insert(column->name());
  }
  return info;
}

}  // namespace tickforge::panel
