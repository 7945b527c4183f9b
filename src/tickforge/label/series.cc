// Reading a symbol's series back from its scratch parts, in series order: a part that overlaps
// no other in time streams batch by batch, parts that interleave are merged in memory.
#include "tickforge/label/series_internal.h"

#include <arrow/compute/api.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include "tickforge/util/files.h"

namespace tickforge::label::internal {
namespace {

Result<std::shared_ptr<arrow::Table>> ReadPart(const std::filesystem::path& path,
                                               const std::vector<std::string>& columns) {
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenIpcFile(path.string(), columns));
  arrow::RecordBatchVector batches;
  for (int i = 0; i < reader->num_record_batches(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto batch, reader->ReadRecordBatch(i));
    batches.push_back(std::move(batch));
  }
  return arrow::Table::FromRecordBatches(reader->schema(), std::move(batches));
}

}  // namespace

SeriesReader::SeriesReader(const SymbolInfo& info, int max_file, std::vector<std::string> columns)
    : columns_(std::move(columns)) {
  if (!columns_.empty()) {
    for (const char* key : {"ts_event", "sequence"}) {
      if (std::find(columns_.begin(), columns_.end(), key) == columns_.end()) columns_.push_back(key);
    }
  }
  // Parts whose rows interleave in time form one group, merged in memory; the others stream.
  for (const auto& part : info.parts) {
    if (part.file >= max_file) continue;
    if (!groups_.empty() && part.first < groups_.back().last) {
      groups_.back().parts.push_back(&part);
      groups_.back().last = std::max(groups_.back().last, part.last);
    } else {
      groups_.push_back(Group{{&part}, part.last});
    }
  }
}

Result<std::optional<Chunk>> SeriesReader::Next() {
  while (true) {
    if (part_) {
      if (next_batch_ < part_->num_record_batches()) {
        ARROW_ASSIGN_OR_RAISE(auto batch, part_->ReadRecordBatch(next_batch_++));
        return std::optional<Chunk>(Chunk{batch, std::vector<int32_t>(static_cast<size_t>(batch->num_rows()), file_)});
      }
      part_.reset();
    }
    if (next_group_ == groups_.size()) return std::optional<Chunk>();
    const Group& group = groups_[next_group_++];
    if (group.parts.size() == 1) {
      ARROW_RETURN_NOT_OK(Open(*group.parts.front()));
      continue;
    }
    return Merge(group);
  }
}

Status SeriesReader::Open(const Part& part) {
  ARROW_ASSIGN_OR_RAISE(part_, OpenIpcFile(part.path.string(), columns_));
  next_batch_ = 0;
  file_ = part.file;
  return Status::OK();
}

Result<std::optional<Chunk>> SeriesReader::Merge(const Group& group) {
  std::vector<std::shared_ptr<arrow::Table>> tables;
  struct Row {
    Key key;
    int32_t file;
    int64_t index;
  };
  std::vector<Row> rows;
  int64_t offset = 0;
  for (const Part* part : group.parts) {
    ARROW_ASSIGN_OR_RAISE(auto table, ReadPart(part->path, columns_));
    ARROW_ASSIGN_OR_RAISE(table, table->CombineChunks());
    const auto& ts = static_cast<const arrow::TimestampArray&>(*table->GetColumnByName("ts_event")->chunk(0));
    const auto& seq = static_cast<const arrow::UInt32Array&>(*table->GetColumnByName("sequence")->chunk(0));
    for (int64_t i = 0; i < table->num_rows(); ++i) {
      rows.push_back(Row{Key{ts.Value(i), seq.Value(i)}, part->file, offset + i});
    }
    offset += table->num_rows();
    tables.push_back(std::move(table));
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.key, a.file, a.index) < std::tie(b.key, b.file, b.index);
  });
  ARROW_ASSIGN_OR_RAISE(auto all, arrow::ConcatenateTables(tables));
  ARROW_ASSIGN_OR_RAISE(auto batch, all->CombineChunksToBatch());
  arrow::Int64Builder indices;
  Chunk chunk;
  for (const auto& row : rows) {
    ARROW_RETURN_NOT_OK(indices.Append(row.index));
    chunk.file.push_back(row.file);
  }
  ARROW_ASSIGN_OR_RAISE(auto index_array, indices.Finish());
  ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(batch, index_array));
  chunk.rows = taken.record_batch();
  return std::optional<Chunk>(std::move(chunk));
}

}  // namespace tickforge::label::internal
