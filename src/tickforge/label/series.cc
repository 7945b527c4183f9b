// Reading a symbol's series back from its scratch parts, in series order: a part that overlaps
// no other in time streams batch by batch, parts that interleave are merged a batch at a time.
#include "tickforge/label/series_internal.h"

#include <arrow/compute/api.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include "tickforge/util/files.h"

namespace tickforge::label::internal {
namespace {

// Return `batch` without the scratch row column (readers of the series never see it).
std::shared_ptr<arrow::RecordBatch> WithoutRowColumn(std::shared_ptr<arrow::RecordBatch> batch) {
  const int i = batch->schema()->GetFieldIndex(kRowColumn);
  if (i < 0) return batch;
  auto removed = batch->RemoveColumn(i);
  return removed.ok() ? *removed : batch;
}

// Open a part with `columns` (all when empty); the row column is read where the part has one.
Result<std::shared_ptr<arrow::ipc::RecordBatchFileReader>> OpenPart(const std::filesystem::path& path,
                                                                    std::vector<std::string> columns) {
  if (columns.empty()) return OpenIpcFile(path.string());
  const auto row = std::find(columns.begin(), columns.end(), kRowColumn);
  if (row != columns.end()) {
    ARROW_ASSIGN_OR_RAISE(auto probe, OpenIpcFile(path.string()));
    if (probe->schema()->GetFieldIndex(kRowColumn) < 0) columns.erase(row);
  }
  return OpenIpcFile(path.string(), columns);
}

}  // namespace

PartMerger::PartMerger(std::vector<const Part*> parts, std::vector<std::string> columns)
    : columns_(std::move(columns)) {
  for (size_t i = 0; i < parts.size(); ++i) cursors_.push_back(Cursor{parts[i], static_cast<int>(i)});
}

bool PartMerger::Less(const Cursor& a, const Cursor& b) const {
  const int64_t ra = a.row ? a.row[a.pos] : a.pos;
  const int64_t rb = b.row ? b.row[b.pos] : b.pos;
  return std::tie(a.ts[a.pos], a.seq[a.pos], a.part->file, ra, a.order) <
         std::tie(b.ts[b.pos], b.seq[b.pos], b.part->file, rb, b.order);
}

Status PartMerger::Load(Cursor& cursor) {
  cursor.batch.reset();
  cursor.pos = 0;
  while (cursor.next_batch < cursor.reader->num_record_batches()) {
    ARROW_ASSIGN_OR_RAISE(auto batch, cursor.reader->ReadRecordBatch(cursor.next_batch++));
    if (batch->num_rows() == 0) continue;
    cursor.batch = batch;
    cursor.ts = Column<arrow::TimestampArray>(*batch, "ts_event").raw_values();
    cursor.seq = Column<arrow::UInt32Array>(*batch, "sequence").raw_values();
    const auto row = batch->GetColumnByName(kRowColumn);
    cursor.row = row ? static_cast<const arrow::Int64Array&>(*row).raw_values() : nullptr;
    cursor.slot = -1;
    return Status::OK();
  }
  return Status::OK();
}

Result<std::optional<Chunk>> PartMerger::Next() {
  // A min-heap of cursor indices: std heap functions keep the largest first, so compare reversed.
  const auto greater = [this](int a, int b) { return Less(cursors_[static_cast<size_t>(b)], cursors_[static_cast<size_t>(a)]); };
  if (!started_) {
    started_ = true;
    for (size_t i = 0; i < cursors_.size(); ++i) {
      auto& cursor = cursors_[i];
      ARROW_ASSIGN_OR_RAISE(cursor.reader, OpenPart(cursor.part->path, columns_));
      ARROW_RETURN_NOT_OK(Load(cursor));
      if (cursor.batch) heap_.push_back(static_cast<int>(i));
    }
    std::make_heap(heap_.begin(), heap_.end(), greater);
  }
  if (heap_.empty()) return std::optional<Chunk>();
  // Rows are taken from the batches the cursors hold now or load on the way, each a slot.
  arrow::RecordBatchVector slots;
  std::vector<int64_t> base;
  int64_t total = 0;
  const auto slot_of = [&](Cursor& cursor) {
    if (cursor.slot < 0) {
      cursor.slot = static_cast<int64_t>(slots.size());
      slots.push_back(cursor.batch);
      base.push_back(total);
      total += cursor.batch->num_rows();
    }
    return cursor.slot;
  };
  for (int i : heap_) cursors_[static_cast<size_t>(i)].slot = -1;
  std::vector<int64_t> indices;
  Chunk chunk;
  while (!heap_.empty() && static_cast<int64_t>(indices.size()) < kMergeRows) {
    std::pop_heap(heap_.begin(), heap_.end(), greater);
    const int c = heap_.back();
    heap_.pop_back();
    auto& cursor = cursors_[static_cast<size_t>(c)];
    indices.push_back(base[static_cast<size_t>(slot_of(cursor))] + cursor.pos);
    chunk.file.push_back(cursor.part->file);
    if (++cursor.pos == cursor.batch->num_rows()) ARROW_RETURN_NOT_OK(Load(cursor));
    if (cursor.batch) {
      heap_.push_back(c);
      std::push_heap(heap_.begin(), heap_.end(), greater);
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto all, arrow::ConcatenateRecordBatches(slots));
  const auto n = static_cast<int64_t>(indices.size());
  const auto index_array = std::make_shared<arrow::Int64Array>(n, arrow::Buffer::FromVector(std::move(indices)));
  ARROW_ASSIGN_OR_RAISE(auto taken, arrow::compute::Take(all, index_array));
  chunk.rows = taken.record_batch();
  return std::optional<Chunk>(std::move(chunk));
}

SeriesReader::SeriesReader(const SymbolInfo& info, int max_file, std::vector<std::string> columns)
    : columns_(std::move(columns)) {
  if (!columns_.empty()) {
    for (const char* key : {"ts_event", "sequence", kRowColumn}) {
      if (std::find(columns_.begin(), columns_.end(), key) == columns_.end()) columns_.push_back(key);
    }
  }
  // Parts whose key ranges touch form one group, merged; the others stream. Grouping in order
  // of first keys finds every overlap, whatever order the parts were made in.
  std::vector<const Part*> parts;
  for (const auto& part : info.parts) {
    if (part.file < max_file) parts.push_back(&part);
  }
  std::stable_sort(parts.begin(), parts.end(), [](const Part* a, const Part* b) { return a->first < b->first; });
  for (const Part* part : parts) {
    if (!groups_.empty() && part->first <= groups_.back().last) {
      groups_.back().parts.push_back(part);
      groups_.back().last = std::max(groups_.back().last, part->last);
    } else {
      groups_.push_back(Group{{part}, part->last});
    }
  }
}

Result<std::optional<Chunk>> SeriesReader::Next() {
  while (true) {
    if (merger_) {
      ARROW_ASSIGN_OR_RAISE(auto chunk, merger_->Next());
      if (chunk) {
        chunk->rows = WithoutRowColumn(std::move(chunk->rows));
        return chunk;
      }
      merger_.reset();
    }
    if (part_) {
      if (next_batch_ < part_->num_record_batches()) {
        ARROW_ASSIGN_OR_RAISE(auto batch, part_->ReadRecordBatch(next_batch_++));
        batch = WithoutRowColumn(std::move(batch));
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
    // Merged in the order the parts were made: a file's parts in Split's order.
    std::vector<const Part*> parts = group.parts;
    std::stable_sort(parts.begin(), parts.end(), [](const Part* a, const Part* b) { return a->file < b->file; });
    merger_ = std::make_unique<PartMerger>(std::move(parts), columns_);
  }
}

Status SeriesReader::Open(const Part& part) {
  ARROW_ASSIGN_OR_RAISE(part_, OpenPart(part.path, columns_));
  next_batch_ = 0;
  file_ = part.file;
  return Status::OK();
}

}  // namespace tickforge::label::internal
