// The time-order k-way merge and its spill (see time_order_internal.h).
#include "tickforge/panel/time_order_internal.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/io/buffered.h>
#include <arrow/io/file.h>
#include <arrow/ipc/api.h>
#include <arrow/util/bit_util.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "tickforge/panel/parallel_internal.h"
#include "tickforge/panel/source_stream_internal.h"
#include "tickforge/util/files.h"

namespace tickforge::panel {
namespace {

// Where a symbol's normalized batches come from during the merge.
using BatchSource = std::function<Result<std::optional<Normalized>>()>;

struct TimeKey {
  bool null;
  int64_t value;
  auto operator<=>(const TimeKey&) const = default;
};

// A batch being merged, with the raw column pointers the gather reads, found once per batch:
// looking them up through the batch for every output batch cost more than the copying.
struct MergeBatch {
  std::shared_ptr<arrow::RecordBatch> batch;
  std::vector<const uint8_t*> values;    // per field: fixed-width data, offset applied
  std::vector<const uint8_t*> validity;  // per field: the bitmap when it may hold nulls
  std::vector<int64_t> offsets;          // per field: the bitmap's offset

  explicit MergeBatch(std::shared_ptr<arrow::RecordBatch> b) : batch(std::move(b)) {
    const int n = batch->num_columns();
    values.resize(static_cast<size_t>(n));
    validity.resize(static_cast<size_t>(n));
    offsets.resize(static_cast<size_t>(n));
    for (int f = 0; f < n; ++f) {
      const arrow::ArrayData& data = *batch->column_data(f);
      const int width = data.type->byte_width();
      const auto i = static_cast<size_t>(f);
      values[i] = width > 0 && data.buffers.size() > 1 && data.buffers[1] ? data.buffers[1]->data() + data.offset * width
                                                                           : nullptr;
      validity[i] = data.MayHaveNulls() && data.buffers[0] ? data.buffers[0]->data() : nullptr;
      offsets[i] = data.offset;
    }
  }
};

struct Cursor {
  size_t symbol = 0;
  std::string name;
  BatchSource next;
  std::shared_ptr<MergeBatch> batch;
  std::shared_ptr<arrow::Int64Array> keys;
  int64_t row = 0;
  int64_t rows_before = 0;  // rows of this symbol in earlier batches, for messages
  int out_batch = -1;       // index of `batch` among the output batch's sources
  TimeKey Key() const { return keys->IsNull(row) ? TimeKey{true, 0} : TimeKey{false, keys->Value(row)}; }
};

struct Run {
  int batch;      // among the output batch's sources
  size_t symbol;
  int64_t start;
  int64_t length;
};

template <int kWidth>
void GatherFixed(const std::vector<Run>& runs, const std::vector<const uint8_t*>& values, uint8_t* out) {
  for (const Run& run : runs) {
    const uint8_t* src = values[static_cast<size_t>(run.batch)] + run.start * kWidth;
    const int64_t bytes = run.length * kWidth;
    if (run.length == 1) {
      std::memcpy(out, src, kWidth);
    } else {
      std::memcpy(out, src, static_cast<size_t>(bytes));
    }
    out += bytes;
  }
}

// A min-heap of cursors, one per symbol; each output batch gathers runs of rows (one cursor's
// consecutive rows of one time) column by column.
class KWayMerge final : public TimeOrderReader {
 public:
  KWayMerge(std::shared_ptr<const Plan> plan, bool use_threads, std::filesystem::path spill_dir)
      : plan_(std::move(plan)), use_threads_(use_threads), spill_dir_(std::move(spill_dir)) {}

  ~KWayMerge() override {
    cursors_.clear();
    if (!spill_root_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(spill_root_, ec);
    }
  }

  std::shared_ptr<arrow::Schema> schema() const override { return plan_->schema; }
  int64_t spilled_bytes() const override { return spilled_bytes_.load(); }

  Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    if (!started_) {
      started_ = true;
      ARROW_RETURN_NOT_OK(Start());
    }
    *batch = nullptr;
    if (heap_.empty()) return Status::OK();
    const int64_t limit = plan_->options.batch_rows;
    std::vector<Run> runs;
    std::vector<std::shared_ptr<MergeBatch>> sources;
    int64_t rows = 0;
    while (rows < limit && !heap_.empty()) {
      const size_t c = heap_.front().cursor;
      Cursor& cursor = cursors_[c];
      const TimeKey t = cursor.Key();
      if (cursor.out_batch < 0) {
        cursor.out_batch = static_cast<int>(sources.size());
        sources.push_back(cursor.batch);
      }
      const int64_t start = cursor.row;
      const int64_t n = cursor.batch->batch->num_rows();
      int64_t end = start + 1;
      while (end < n && rows + (end - start) < limit) {
        const TimeKey next = cursor.keys->IsNull(end) ? TimeKey{true, 0} : TimeKey{false, cursor.keys->Value(end)};
        if (next != t) {
          if (next < t) return Unsorted(cursor, end);
          break;
        }
        ++end;
      }
      if (!runs.empty() && runs.back().batch == cursor.out_batch && runs.back().start + runs.back().length == start) {
        runs.back().length += end - start;
      } else {
        runs.push_back(Run{cursor.out_batch, cursor.symbol, start, end - start});
      }
      rows += end - start;
      cursor.row = end;
      if (cursor.row == n) {
        cursor.rows_before += n;
        ARROW_ASSIGN_OR_RAISE(bool more, Load(cursor));
        if (!more) {
          // The symbol is done: the last entry takes its place at the top.
          heap_.front() = heap_.back();
          heap_.pop_back();
          if (!heap_.empty()) SiftDown();
          continue;
        }
      }
      if (cursor.Key() < t) return Unsorted(cursor, cursor.row);
      // The same symbol, later in time: its entry can only go down.
      heap_.front().key = cursor.Key();
      SiftDown();
    }
    for (auto& cursor : cursors_) cursor.out_batch = -1;
    ARROW_ASSIGN_OR_RAISE(*batch, Gather(runs, sources, rows));
    return Status::OK();
  }

 private:
  // Move the top entry down to its place: its key grew, or the last entry was moved there.
  // Written here rather than std::pop_heap then push_heap: one sift instead of two, and the
  // smaller child is chosen by arithmetic on Later's result, not a branch (see Later).
  void SiftDown() {
    const size_t n = heap_.size();
    const HeapEntry entry = heap_[0];
    size_t i = 0;
    while (true) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n) child += static_cast<size_t>(Later()(heap_[child], heap_[child + 1]));
      if (!Later()(entry, heap_[child])) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = entry;
  }

  Status Unsorted(const Cursor& cursor, int64_t row) const {
    return Status::Invalid(cursor.name, ": order='time' needs each symbol's rows sorted by '", plan_->time_column,
                           "' (nulls last), but its row ", cursor.rows_before + row,
                           " (after filters) goes back in time; sort the input or use order='symbol'");
  }

  // Loads the cursor's next non-empty batch; false at the end of its input.
  Result<bool> Load(Cursor& cursor) {
    ARROW_ASSIGN_OR_RAISE(auto next, cursor.next());
    if (!next) {
      cursor.batch.reset();
      cursor.keys.reset();
      return false;
    }
    cursor.batch = std::make_shared<MergeBatch>(std::move(next->batch));
    cursor.keys = std::move(next->keys);
    cursor.row = 0;
    cursor.out_batch = -1;
    return true;
  }

  int64_t MergeRows() const {
    int64_t row_bytes = 0;
    for (const auto& field : plan_->schema->fields()) {
      const int width = field->type()->byte_width();
      row_bytes += width > 0 ? width : 16;
    }
    const auto symbols = static_cast<int64_t>(std::max<size_t>(1, plan_->sources.size()));
    return std::clamp<int64_t>(plan_->options.merge_memory / (symbols * std::max<int64_t>(row_bytes, 1)), 16,
                               std::max<int64_t>(16, plan_->options.batch_rows));
  }

  Status Start() {
    const int64_t merge_rows = MergeRows();
    const size_t n = plan_->sources.size();
    cursors_.resize(n);
    std::vector<size_t> spill;
    for (size_t i = 0; i < n; ++i) {
      Cursor& cursor = cursors_[i];
      cursor.symbol = i;
      cursor.name = plan_->sources[i]->Name();
      const auto& source = plan_->sources[i];
      if (source->in_memory) {
        // Zero-copy slices of the input: memory is already spent, nothing to bound.
        auto stream = std::make_shared<SourceStream>(plan_, i, merge_rows, true, use_threads_);
        cursor.next = [stream] { return stream->Next(); };
      } else if (plan_->options.streaming) {
        spill.push_back(i);
      } else {
        ARROW_ASSIGN_OR_RAISE(cursor.next, InMemory(i));
      }
    }
    if (!spill.empty()) ARROW_RETURN_NOT_OK(SpillAll(spill, merge_rows));
    for (size_t i = 0; i < n; ++i) {
      ARROW_ASSIGN_OR_RAISE(bool any, Load(cursors_[i]));
      if (any) heap_.push_back(HeapEntry{cursors_[i].Key(), i});
    }
    std::make_heap(heap_.begin(), heap_.end(), Later());
    return Status::OK();
  }

  // Spills the inputs on all cores, one symbol per thread at a time.
  Status SpillAll(const std::vector<size_t>& inputs, int64_t rows) {
    std::filesystem::path base = spill_dir_.empty() ? std::filesystem::temp_directory_path() : spill_dir_;
    static std::atomic<int> counter{0};
    spill_root_ = base / fmt::format("_tickforge-panel-{}-{}", ::getpid(), counter++);
    std::error_code ec;
    std::filesystem::create_directories(spill_root_, ec);
    if (ec) return Status::IOError(spill_root_.string(), ": cannot create spill directory: ", ec.message());
    std::atomic<size_t> next{0};
    std::mutex mutex;
    Status first_error;
    const auto work = [&] {
      while (true) {
        const size_t k = next++;
        if (k >= inputs.size()) return;
        {
          std::lock_guard lock(mutex);
          if (!first_error.ok()) return;
        }
        auto source = Spill(inputs[k], rows);
        std::lock_guard lock(mutex);
        if (!source.ok()) {
          if (first_error.ok()) first_error = source.status();
          return;
        }
        cursors_[inputs[k]].next = std::move(*source);
      }
    };
    std::vector<std::thread> threads;
    const int workers = std::min<int>(Workers(), static_cast<int>(inputs.size()));
    for (int w = 1; w < workers; ++w) threads.emplace_back(work);
    work();
    for (auto& thread : threads) thread.join();
    return first_error;
  }

  // Reads every batch of input i into memory (streaming = false).
  Result<BatchSource> InMemory(size_t i) {
    SourceStream stream(plan_, i, plan_->options.batch_rows, true, use_threads_);
    auto batches = std::make_shared<std::vector<Normalized>>();
    while (true) {
      ARROW_ASSIGN_OR_RAISE(auto next, stream.Next());
      if (!next) break;
      batches->push_back(std::move(*next));
    }
    auto position = std::make_shared<size_t>(0);
    return BatchSource([batches, position]() -> Result<std::optional<Normalized>> {
      if (*position == batches->size()) return std::optional<Normalized>();
      return std::optional<Normalized>(std::move((*batches)[(*position)++]));
    });
  }

  // Writes input i, normalized and filtered, to an Arrow IPC file in batches of `rows` rows,
  // the time keys in an extra last column; returns a source reading it back batch by batch.
  Result<BatchSource> Spill(size_t i, int64_t rows) {
    const auto path = spill_root_ / fmt::format("{:06d}.arrow", i);
    ARROW_ASSIGN_OR_RAISE(auto schema, plan_->schema->AddField(plan_->schema->num_fields(),
                                                               arrow::field("__tickforge_time", arrow::int64())));
    {
      ARROW_ASSIGN_OR_RAISE(auto raw, arrow::io::FileOutputStream::Open(path.string()));
      // The IPC writer writes every buffer of every batch on its own: with a hundred columns in
      // batches of a few hundred rows that is millions of system calls without a buffer.
      ARROW_ASSIGN_OR_RAISE(auto file, arrow::io::BufferedOutputStream::Create(1 << 20, arrow::default_memory_pool(), raw));
      ARROW_ASSIGN_OR_RAISE(auto writer, arrow::ipc::MakeFileWriter(file, schema));
      SourceStream stream(plan_, i, plan_->options.batch_rows, true, false);
      while (true) {
        ARROW_ASSIGN_OR_RAISE(auto next, stream.Next());
        if (!next) break;
        auto columns = next->batch->columns();
        columns.push_back(next->keys);
        auto batch = arrow::RecordBatch::Make(schema, next->batch->num_rows(), std::move(columns));
        for (int64_t offset = 0; offset < batch->num_rows(); offset += rows) {
          ARROW_RETURN_NOT_OK(writer->WriteRecordBatch(*batch->Slice(offset, rows)));
        }
      }
      ARROW_RETURN_NOT_OK(writer->Close());
      ARROW_ASSIGN_OR_RAISE(int64_t size, file->Tell());
      spilled_bytes_ += size;
      ARROW_RETURN_NOT_OK(file->Close());
    }
    ARROW_ASSIGN_OR_RAISE(auto reader, OpenIpcFile(path.string()));
    auto state = std::make_shared<std::pair<std::shared_ptr<arrow::ipc::RecordBatchFileReader>, int>>(reader, 0);
    const int key_column = schema->num_fields() - 1;
    auto out_schema = plan_->schema;
    return BatchSource([state, key_column, out_schema]() -> Result<std::optional<Normalized>> {
      auto& [reader, next] = *state;
      if (next == reader->num_record_batches()) return std::optional<Normalized>();
      ARROW_ASSIGN_OR_RAISE(auto batch, reader->ReadRecordBatch(next++));
      Normalized out;
      out.keys = std::static_pointer_cast<arrow::Int64Array>(batch->column(key_column));
      ARROW_ASSIGN_OR_RAISE(auto trimmed, batch->RemoveColumn(key_column));
      out.batch = arrow::RecordBatch::Make(out_schema, trimmed->num_rows(), trimmed->columns());
      return std::optional<Normalized>(std::move(out));
    });
  }

  Result<std::shared_ptr<arrow::RecordBatch>> Gather(const std::vector<Run>& runs,
                                                     const std::vector<std::shared_ptr<MergeBatch>>& sources,
                                                     int64_t rows) {
    std::vector<std::shared_ptr<arrow::Array>> columns;
    for (int f = 0; f < plan_->schema->num_fields(); ++f) {
      const auto& type = plan_->schema->field(f)->type();
      if (f == plan_->symbol_field) {
        ARROW_ASSIGN_OR_RAISE(auto symbols, GatherSymbols(runs, rows));
        columns.push_back(std::move(symbols));
        continue;
      }
      const int width = type->byte_width();
      const bool fixed = type->id() != arrow::Type::BOOL && type->id() != arrow::Type::DICTIONARY &&
                         type->id() != arrow::Type::EXTENSION && arrow::is_fixed_width(type->id()) &&
                         (width == 1 || width == 2 || width == 4 || width == 8 || width == 16);
      if (!fixed) {
        ARROW_ASSIGN_OR_RAISE(auto column, GatherAny(runs, sources, f));
        columns.push_back(std::move(column));
        continue;
      }
      const auto column = static_cast<size_t>(f);
      std::vector<const uint8_t*> values(sources.size());
      std::vector<const uint8_t*> validity(sources.size());
      std::vector<int64_t> offsets(sources.size());
      bool any_nulls = false;
      for (size_t s = 0; s < sources.size(); ++s) {
        const MergeBatch& source = *sources[s];
        values[s] = source.values[column];
        validity[s] = source.validity[column];
        offsets[s] = source.offsets[column];
        any_nulls |= validity[s] != nullptr;
      }
      ARROW_ASSIGN_OR_RAISE(auto buffer, arrow::AllocateBuffer(rows * width));
      uint8_t* out = buffer->mutable_data();
      switch (width) {
        case 1: GatherFixed<1>(runs, values, out); break;
        case 2: GatherFixed<2>(runs, values, out); break;
        case 4: GatherFixed<4>(runs, values, out); break;
        case 8: GatherFixed<8>(runs, values, out); break;
        default: GatherFixed<16>(runs, values, out); break;
      }
      std::shared_ptr<arrow::Buffer> bitmap;
      int64_t nulls = 0;
      if (any_nulls) {
        ARROW_ASSIGN_OR_RAISE(auto bits, arrow::AllocateBitmap(rows));
        uint8_t* bm = bits->mutable_data();
        int64_t o = 0;
        for (const Run& run : runs) {
          const auto b = static_cast<size_t>(run.batch);
          const uint8_t* src = validity[b];
          const int64_t start = offsets[b] + run.start;
          for (int64_t k = 0; k < run.length; ++k, ++o) {
            const bool valid = src == nullptr || arrow::bit_util::GetBit(src, start + k);
            arrow::bit_util::SetBitTo(bm, o, valid);
            nulls += !valid;
          }
        }
        bitmap = std::move(bits);
      }
      columns.push_back(arrow::MakeArray(
          arrow::ArrayData::Make(type, rows, {nulls ? bitmap : nullptr, std::move(buffer)}, nulls)));
    }
    return arrow::RecordBatch::Make(plan_->schema, rows, std::move(columns));
  }

  Result<std::shared_ptr<arrow::Array>> GatherSymbols(const std::vector<Run>& runs, int64_t rows) {
    arrow::StringBuilder builder;
    int64_t bytes = 0;
    for (const Run& run : runs) bytes += run.length * static_cast<int64_t>(plan_->sources[run.symbol]->symbol.size());
    ARROW_RETURN_NOT_OK(builder.Reserve(rows));
    ARROW_RETURN_NOT_OK(builder.ReserveData(bytes));
    for (const Run& run : runs) {
      const std::string& symbol = plan_->sources[run.symbol]->symbol;
      for (int64_t k = 0; k < run.length; ++k) builder.UnsafeAppend(symbol);
    }
    return builder.Finish();
  }

  // Any other type: take from the chunks by global index.
  Result<std::shared_ptr<arrow::Array>> GatherAny(const std::vector<Run>& runs,
                                                  const std::vector<std::shared_ptr<MergeBatch>>& sources, int f) {
    std::vector<std::shared_ptr<arrow::Array>> chunks;
    std::vector<int64_t> offsets;
    int64_t total = 0;
    for (const auto& source : sources) {
      chunks.push_back(source->batch->column(f));
      offsets.push_back(total);
      total += source->batch->num_rows();
    }
    arrow::Int64Builder indices;
    for (const Run& run : runs) {
      for (int64_t k = 0; k < run.length; ++k) {
        ARROW_RETURN_NOT_OK(indices.Append(offsets[static_cast<size_t>(run.batch)] + run.start + k));
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto index_array, indices.Finish());
    ARROW_ASSIGN_OR_RAISE(auto all, arrow::Concatenate(chunks));
    return arrow::compute::Take(*all, *index_array);
  }

  std::shared_ptr<const Plan> plan_;
  bool use_threads_;
  std::filesystem::path spill_dir_;
  std::filesystem::path spill_root_;
  std::atomic<int64_t> spilled_bytes_{0};
  bool started_ = false;
  std::vector<Cursor> cursors_;
  // A min-heap of (time key, cursor): keys live in the entries, so sifting touches no cursor.
  // Cursors are numbered in symbol order, so ties go to the smaller symbol.
  struct HeapEntry {
    TimeKey key;
    size_t cursor;
    auto operator<=>(const HeapEntry&) const = default;
  };
  // a > b in HeapEntry's order (time key with nulls last, then cursor), written with bitwise
  // operators so that it compiles without branches: symbols share timestamps, so the sift
  // compares equal keys often and the cursor half of the comparison is a coin toss for the
  // branch predictor (as branches, the merge measured 5% slower).
  struct Later {
    bool operator()(const HeapEntry& a, const HeapEntry& b) const {
      const bool same_null = a.key.null == b.key.null;
      const bool key_after = (a.key.null & !b.key.null) | (same_null & (a.key.value > b.key.value));
      const bool key_equal = same_null & (a.key.value == b.key.value);
      return key_after | (key_equal & (a.cursor > b.cursor));
    }
  };
  std::vector<HeapEntry> heap_;
};

}  // namespace

std::shared_ptr<TimeOrderReader> MakeTimeOrderReader(std::shared_ptr<const Plan> plan, bool use_threads,
                                                     std::filesystem::path spill_dir) {
  return std::make_shared<KWayMerge>(std::move(plan), use_threads, std::move(spill_dir));
}

}  // namespace tickforge::panel
