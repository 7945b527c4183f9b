// The partitioned writer with deduplication (see writer_internal.h).
#include "tickforge/store/writer_internal.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/io/file.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "tickforge/quality/checker.h"
#include "tickforge/store/row_key_internal.h"
#include "tickforge/store/rules_internal.h"
#include "tickforge/util/files.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/time.h"

namespace tickforge::store {

namespace fs = std::filesystem;
namespace cp = arrow::compute;

Result<std::function<int64_t(int64_t)>> DayOf(const arrow::DataType& type, const std::string& column) {
  int64_t per_day = 0;
  if (type.id() == arrow::Type::INT64) {
    per_day = kMillisPerDay;  // Binance times are milliseconds
  } else if (type.id() == arrow::Type::TIMESTAMP) {
    switch (static_cast<const arrow::TimestampType&>(type).unit()) {
      case arrow::TimeUnit::SECOND: per_day = kNanosPerDay / kNanosPerSecond; break;
      case arrow::TimeUnit::MILLI: per_day = kMillisPerDay; break;
      case arrow::TimeUnit::MICRO: per_day = kNanosPerDay / 1000; break;
      case arrow::TimeUnit::NANO: per_day = kNanosPerDay; break;
    }
  } else {
    return Status::TypeError("time column '", column, "' is ", type.ToString(),
                             "; int64 milliseconds or a timestamp is needed");
  }
  return std::function<int64_t(int64_t)>([per_day](int64_t t) { return FloorDiv(t, per_day); });
}

Result<std::shared_ptr<arrow::Array>> ConformColumn(const std::shared_ptr<arrow::Array>& column,
                                                    const std::shared_ptr<arrow::Field>& field) {
  if (column->type()->Equals(*field->type())) return column;
  cp::CastOptions options = cp::CastOptions::Safe(field->type());
  auto cast = cp::Cast(*column, options);
  if (cast.ok()) return cast->make_array();
  // Name the first value that does not convert, so the user can find it in the source.
  for (int64_t i = 0; i < column->length(); ++i) {
    auto one = cp::Cast(*column->Slice(i, 1), options);
    if (!one.ok()) {
      ARROW_ASSIGN_OR_RAISE(auto scalar, column->GetScalar(i));
      return Status::TypeError("column '", field->name(), "': row ", i, " value '", scalar->ToString(),
                               "' does not convert from ", column->type()->ToString(), " to ",
                               field->type()->ToString());
    }
  }
  return cast.status();
}

namespace {

/// How often a row key is in the store and has been seen in this commit.
/// Of a keyed type, also the whole-row hash (one lane) of the committed row of the key, to tell
/// a row that repeats it from one that differs (a corrected file); 0 when not known.
struct KeyCounts {
  uint32_t existing = 0;
  uint32_t seen = 0;
  uint64_t row = 0;
};

/// KeyCounts by row key in one flat table, linear probing from the key's first lane (already
/// a mixed hash). A commit's dedup looks up every row's key once: a node-based map allocated a
/// node per key and missed the cache at its bucket and again at its node, a fifth of a DBN
/// ingest (2 M distinct keys in a file).
class KeyTable {
 public:
  /// Return the counts of `key`, zero when it is new.
  KeyCounts& operator[](const Key128& key) {
    if ((size_ + 1) * 10 > slots_.size() * 7) Grow();
    Slot& slot = Find(slots_, key);
    if (!slot.used) {
      slot.used = true;
      slot.key = key;
      ++size_;
    }
    return slot.counts;
  }
  /// Drop every key and the table's memory.
  void clear() {
    std::vector<Slot>().swap(slots_);
    size_ = 0;
  }

 private:
  struct Slot {
    Key128 key{0, 0};
    KeyCounts counts;
    bool used = false;
  };
  static Slot& Find(std::vector<Slot>& slots, const Key128& key) {
    const size_t mask = slots.size() - 1;
    for (size_t i = Key128Hash{}(key) & mask;; i = (i + 1) & mask) {
      if (!slots[i].used || slots[i].key == key) return slots[i];
    }
  }
  void Grow() {
    std::vector<Slot> bigger(std::max<size_t>(1024, slots_.size() * 2));
    for (const Slot& slot : slots_) {
      if (slot.used) Find(bigger, slot.key) = slot;
    }
    slots_.swap(bigger);
  }

  std::vector<Slot> slots_;  // a power of two long, at most 70% used
  size_t size_ = 0;
};

/// The state of one partition while a commit writes to it.
struct Partition {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> values;
  std::string dir;  // dataset/key=value/...
  bool keys_loaded = false;
  KeyTable keys;
  std::unique_ptr<ParquetFile> writer;
  FileEntry open_file;
  std::vector<FileEntry> closed;
  uint64_t last_use = 0;
  /// The data-quality checks of the rows written here (none for types without checks).
  std::unique_ptr<quality::Checker> checker;
  /// Whole-row keys seen, for the checker's repeats when dedup is off and it asks for them.
  std::unordered_set<Key128, Key128Hash> row_keys;
  /// The file and row the last written row went to, for repeats before any row of a slice.
  std::string last_file;
  int64_t last_row = -1;
};

class PartitionedWriter {
 public:
  PartitionedWriter(const StorePaths& paths, Transaction& txn, DatasetEntry& dataset,
                    const WriteOptions& options, bool writer_threads)
      : paths_(paths), txn_(txn), dataset_(dataset), options_(options) {
    parquet_.compression = *ParquetCompression(options.compression);
    parquet_.row_group_rows = options.max_rows_per_group;
    parquet_.use_threads = writer_threads;
    parquet_.atomic = false;  // staging is private to the transaction until the commit
    parquet_.columns = ParquetColumnsFor(dataset.type);
    for (const auto& field : dataset.schema->fields()) {
      if (std::find(dataset.partition_keys.begin(), dataset.partition_keys.end(), field->name()) ==
          dataset.partition_keys.end()) {
        file_fields_.push_back(field);
      }
    }
    file_schema_ = arrow::schema(file_fields_);
    if (!options.metadata.empty()) {
      auto metadata = std::make_shared<arrow::KeyValueMetadata>();
      for (const auto& [k, v] : options.metadata) metadata->Append(k, v);
      file_schema_ = file_schema_->WithMetadata(metadata);
    }
  }

  /// Conform a batch to the dataset, split it by partition, drop known rows, write the rest.
  Status Append(const std::shared_ptr<arrow::RecordBatch>& input, const std::string& origin) {
    if (input->num_rows() == 0) return Status::OK();
    rows_in_ += input->num_rows();
    // Columns in the dataset's file order, converted with checked casts.
    arrow::ArrayVector columns;
    for (const auto& field : file_fields_) {
      auto column = input->GetColumnByName(field->name());
      if (!column) {
        ARROW_ASSIGN_OR_RAISE(column, arrow::MakeArrayOfNull(field->type(), input->num_rows()));
      } else {
        auto conformed = ConformColumn(column, field);
        if (!conformed.ok()) return WithPath(conformed.status(), origin);
        column = *conformed;
      }
      if (!field->nullable() && column->null_count() > 0) {
        return WithPath(Status::Invalid("column '", field->name(), "' has nulls"), origin);
      }
      columns.push_back(std::move(column));
    }
    auto batch = arrow::RecordBatch::Make(file_schema_, input->num_rows(), std::move(columns));

    // Partition of every row: key columns (or constants) plus the day of the time column.
    auto time_column = batch->GetColumnByName(dataset_.time_column);
    ARROW_ASSIGN_OR_RAISE(auto day_of, DayOf(*time_column->type(), dataset_.time_column));
    ARROW_ASSIGN_OR_RAISE(auto time_values, time_column->View(arrow::int64()));
    const auto& times = static_cast<const arrow::Int64Array&>(*time_values);
    std::vector<std::shared_ptr<arrow::StringArray>> key_columns;
    std::vector<std::string> constants;
    for (const auto& key : dataset_.partition_keys) {
      if (IsDateKey(key)) continue;
      auto it = options_.constants.find(key);
      if (it != options_.constants.end()) {
        constants.push_back(it->second);
        key_columns.push_back(nullptr);
        continue;
      }
      auto column = input->GetColumnByName(key);
      if (!column) {
        return WithPath(Status::Invalid("no value for partition key '", key, "' (no column and no constant)"), origin);
      }
      ARROW_ASSIGN_OR_RAISE(auto text, cp::Cast(*column, arrow::utf8()));
      if (text->null_count() > 0) {
        return WithPath(Status::Invalid("partition key column '", key, "' has nulls"), origin);
      }
      key_columns.push_back(std::static_pointer_cast<arrow::StringArray>(text));
      constants.emplace_back();
    }
    // Rows come in long runs of one partition (time-sorted, one symbol per file), so a
    // partition is looked up only where the run changes.
    // Row indices per partition, gathered in the same pass.
    std::vector<std::vector<int64_t>> rows_of;
    std::vector<Partition*> touched;
    // The key values and day of each touched partition: a DBN file interleaves its
    // instruments row by row, so runs are a row or two long, and a run's partition is found
    // here before Find() formats and looks up its id (which cost more than encoding the row).
    struct Met {
      int64_t day;
      std::vector<std::string> values;
    };
    std::vector<Met> met;
    constexpr size_t kMaxMet = 32;
    int64_t run_day = 0;
    int current = -1;
    for (int64_t i = 0; i < batch->num_rows(); ++i) {
      if (times.IsNull(i)) return WithPath(Status::Invalid("row ", i, ": time column '", dataset_.time_column, "' is null"), origin);
      const int64_t day = day_of(times.Value(i));
      bool same = current >= 0 && day == run_day;
      for (size_t k = 0; same && k < key_columns.size(); ++k) {
        same = !key_columns[k] || key_columns[k]->GetView(i) == key_columns[k]->GetView(i - 1);
      }
      if (!same && met.size() <= kMaxMet) {
        for (size_t m = 0; m < met.size() && !same; ++m) {
          same = met[m].day == day;
          for (size_t k = 0; same && k < key_columns.size(); ++k) {
            same = !key_columns[k] || key_columns[k]->GetView(i) == met[m].values[k];
          }
          if (same) {
            current = static_cast<int>(m);
            run_day = day;
          }
        }
      }
      if (!same) {
        std::vector<std::string> values;
        for (size_t k = 0; k < key_columns.size(); ++k) {
          values.push_back(key_columns[k] ? std::string(key_columns[k]->GetView(i)) : constants[k]);
        }
        ARROW_ASSIGN_OR_RAISE(Partition * partition, Find(values, day));
        auto pos = std::find(touched.begin(), touched.end(), partition);
        current = static_cast<int>(pos - touched.begin());
        if (pos == touched.end()) {
          touched.push_back(partition);
          rows_of.emplace_back();
          met.push_back(Met{day, values});
        }
        run_day = day;
      }
      rows_of[current].push_back(i);
    }
    for (size_t p = 0; p < touched.size(); ++p) {
      std::shared_ptr<arrow::RecordBatch> slice;
      if (touched.size() == 1) {
        slice = batch;
      } else {
        const auto& rows = rows_of[p];
        auto indices = std::make_shared<arrow::Int64Array>(static_cast<int64_t>(rows.size()),
                                                           arrow::Buffer::Wrap(rows));
        ARROW_ASSIGN_OR_RAISE(auto taken, cp::Take(batch, indices));
        slice = taken.record_batch();
      }
      auto status = WriteSlice(*touched[p], slice);
      if (!status.ok()) return WithPath(status, origin);
    }
    return Status::OK();
  }

  /// Close every file and return the entries of the files written.
  Result<std::vector<FileEntry>> Finish() {
    std::vector<FileEntry> files;
    for (auto& [_, partition] : partitions_) {
      ARROW_RETURN_NOT_OK(CloseFile(*partition));
      for (auto& file : partition->closed) files.push_back(std::move(file));
    }
    std::sort(files.begin(), files.end(), [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
    return files;
  }

  /// Finish the partitions' checks and return what they found (after Finish()).
  quality::Report Quality() {
    std::vector<std::pair<std::string, quality::Checker*>> checkers;
    for (auto& [_, partition] : partitions_) {
      if (!partition->checker) continue;
      // A series is a partition without its date: the same symbol, exchange, interval, ...
      std::string series;
      for (const auto& [key, value] : partition->values) {
        if (!IsDateKey(key)) series += key + "=" + value + "/";
      }
      checkers.emplace_back(std::move(series), partition->checker.get());
    }
    return quality::FinishAll(std::move(checkers), dataset_.type);
  }

  int64_t rows_in() const { return rows_in_; }
  int64_t rows_duplicate() const { return rows_duplicate_; }
  int64_t rows_conflicting() const { return rows_conflicting_; }
  const std::string& first_conflict() const { return first_conflict_; }

 private:
  static constexpr size_t kMaxOpenFiles = 128;

  Result<Partition*> Find(const std::vector<std::string>& values, int64_t day) {
    const uint32_t ymd = YmdFromDays(day);
    std::string id = fmt::format("{}", fmt::join(values, "\x1f")) + "\x1f" + std::to_string(ymd);
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = partitions_.find(id);
    if (it != partitions_.end()) return it->second.get();
    auto partition = std::make_unique<Partition>();
    size_t k = 0;
    partition->dir = dataset_.name;
    for (const auto& key : dataset_.partition_keys) {
      std::string value;
      if (key == "year") value = std::to_string(ymd / 10000);
      else if (key == "month") value = std::to_string(ymd / 100 % 100);
      else if (key == "day") value = std::to_string(ymd % 100);
      else value = values[k++];
      ARROW_RETURN_NOT_OK(ValidatePartitionValue(key, value));
      partition->values.emplace_back(key, value);
      partition->dir += "/" + key + "=" + value;
    }
    if (options_.quality) partition->checker = quality::MakeChecker(dataset_.type, *file_schema_, partition->values);
    auto* raw = partition.get();
    partitions_.emplace(std::move(id), std::move(partition));
    return raw;
  }

  /// Load the keys the partition already holds: committed files, and files this commit wrote
  /// before the partition's state was dropped to bound memory.
  Status LoadKeys(Partition& partition) {
    std::vector<fs::path> sources;
    // Of a partial base (a cold commit), this reads the partition's files: the commit reads
    // what it touches.
    ARROW_ASSIGN_OR_RAISE(auto committed, txn_.CommittedFiles(dataset_.name, partition.values, partition.dir));
    for (const auto& file : committed) sources.push_back(ResolveFile(paths_, file));
    for (const auto& file : partition.closed) sources.push_back(paths_.Staged(file));
    const bool keyed = !dataset_.natural_key.empty();
    for (size_t s = 0; s < sources.size(); ++s) {
      const auto& path = sources[s];
      ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path.string()));
      std::shared_ptr<arrow::Schema> schema;
      ARROW_RETURN_NOT_OK(reader->GetSchema(&schema));
      const auto names = keyed ? dataset_.natural_key : schema->field_names();
      // A committed file of a keyed type is read whole, for the rows' hashes (a file written
      // before a column was added has no hash to compare, and is read for its keys only).
      const bool whole = keyed && s < committed.size() &&
                         std::all_of(file_fields_.begin(), file_fields_.end(),
                                     [&](const auto& field) { return schema->GetFieldIndex(field->name()) >= 0; });
      std::vector<int> indices;
      for (const auto& name : names) {
        const int index = schema->GetFieldIndex(name);
        if (index < 0) return Status::Invalid(path.string(), ": natural key column '", name, "' is missing");
        indices.push_back(index);
      }
      if (whole) {
        indices.clear();
        for (const auto& field : file_fields_) indices.push_back(schema->GetFieldIndex(field->name()));
      }
      ARROW_ASSIGN_OR_RAISE(auto table, reader->ReadTable(indices));
      ARROW_ASSIGN_OR_RAISE(auto combined, table->CombineChunksToBatch());
      ARROW_ASSIGN_OR_RAISE(auto keys, RowKeys(*combined, names));
      std::vector<Key128> rows;
      if (whole) {
        arrow::ArrayVector columns;
        for (const auto& field : file_fields_) columns.push_back(combined->GetColumnByName(field->name()));
        ARROW_ASSIGN_OR_RAISE(rows, RowKeys(*arrow::RecordBatch::Make(file_schema_, combined->num_rows(), columns), {}));
      }
      for (size_t i = 0; i < keys.size(); ++i) {
        auto& counts = partition.keys[keys[i]];
        if (whole && counts.existing == 0) counts.row = rows[i].a | 1;  // never 0, which says unknown
        ++counts.existing;
      }
    }
    partition.keys_loaded = true;
    return Status::OK();
  }

  Status WriteSlice(Partition& partition, std::shared_ptr<arrow::RecordBatch> slice) {
    std::unique_lock<std::mutex> lock(partition.mutex);
    partition.last_use = ++use_clock_;
    quality::Checker* checker = partition.checker.get();
    // Rows seen before in this commit, as the count of rows kept before each: the quality
    // checks count them (a duplicate minute, a repeated trade id, a duplicate record).
    std::vector<int64_t> repeats;
    if (options_.dedup) {
      if (!partition.keys_loaded) ARROW_RETURN_NOT_OK(LoadKeys(partition));
      ARROW_ASSIGN_OR_RAISE(auto keys, RowKeys(*slice, dataset_.natural_key));
      const bool multiset = dataset_.natural_key.empty();
      arrow::BooleanBuilder keep;
      ARROW_RETURN_NOT_OK(keep.Reserve(slice->num_rows()));
      int64_t dropped = 0;
      int64_t kept_rows = 0;
      std::vector<int64_t> of_stored_keys;  // dropped rows whose key a committed row has
      for (size_t i = 0; i < keys.size(); ++i) {
        const auto& key = keys[i];
        auto& counts = partition.keys[key];
        const bool repeat = checker && counts.seen > 0;
        // A set keeps a key once; a multiset keeps the k-th copy of a row only when the
        // store holds fewer than k+1 copies.
        const bool kept = multiset ? counts.seen >= counts.existing : counts.seen + counts.existing == 0;
        if (!kept && counts.row != 0) {
          of_stored_keys.push_back(static_cast<int64_t>(i));
        }
        ++counts.seen;
        keep.UnsafeAppend(kept);
        dropped += !kept;
        kept_rows += kept;
        // A kept repeat (a whole-row multiset) is its own row; a dropped one follows the last kept.
        if (repeat) repeats.push_back(kept_rows);
      }
      if (!of_stored_keys.empty()) ARROW_RETURN_NOT_OK(CountConflicts(partition, slice, keys, of_stored_keys));
      if (dropped > 0) {
        rows_duplicate_ += dropped;
        ARROW_ASSIGN_OR_RAISE(auto mask, keep.Finish());
        ARROW_ASSIGN_OR_RAISE(auto filtered, cp::Filter(slice, mask));
        slice = filtered.record_batch();
      }
    } else if (checker && checker->WantsRowRepeats()) {
      ARROW_ASSIGN_OR_RAISE(auto keys, RowKeys(*slice, {}));
      for (size_t i = 0; i < keys.size(); ++i) {
        if (!partition.row_keys.insert(keys[i]).second) repeats.push_back(static_cast<int64_t>(i) + 1);
      }
    }
    // A repeat sits next to the last row written before it: a kept row of this slice, or the
    // partition's last row before the slice.
    size_t next_repeat = 0;
    if (checker) {
      for (; next_repeat < repeats.size() && repeats[next_repeat] == 0; ++next_repeat) {
        if (partition.last_row >= 0) checker->Repeat(partition.last_file, partition.last_row);
      }
    }
    int64_t offset = 0;
    while (offset < slice->num_rows()) {
      if (!partition.writer) ARROW_RETURN_NOT_OK(OpenFile(partition));
      const int64_t room = options_.max_rows_per_file - partition.open_file.rows;
      const int64_t n = std::min(room, slice->num_rows() - offset);
      auto part = slice->Slice(offset, n);
      ARROW_RETURN_NOT_OK(partition.writer->Write(*part));
      const int64_t file_row = partition.open_file.rows;
      if (checker) {
        checker->Consume(*part, partition.open_file.path, file_row);
        for (; next_repeat < repeats.size() && repeats[next_repeat] <= offset + n; ++next_repeat) {
          checker->Repeat(partition.open_file.path, file_row + repeats[next_repeat] - 1 - offset);
        }
        partition.last_file = partition.open_file.path;
        partition.last_row = file_row + n - 1;
      }
      auto time_column = part->GetColumnByName(dataset_.time_column);
      ARROW_ASSIGN_OR_RAISE(auto time_values, time_column->View(arrow::int64()));
      const auto& times = static_cast<const arrow::Int64Array&>(*time_values);
      int64_t lo = times.Value(0), hi = times.Value(0);
      for (int64_t i = 1; i < times.length(); ++i) {
        lo = std::min(lo, times.Value(i));
        hi = std::max(hi, times.Value(i));
      }
      if (partition.open_file.rows == 0) {
        partition.open_file.min_time = lo;
        partition.open_file.max_time = hi;
      } else {
        partition.open_file.min_time = std::min(partition.open_file.min_time, lo);
        partition.open_file.max_time = std::max(partition.open_file.max_time, hi);
      }
      partition.open_file.rows += n;
      offset += n;
      if (partition.open_file.rows >= options_.max_rows_per_file) ARROW_RETURN_NOT_OK(CloseFile(partition));
    }
    lock.unlock();
    return EvictIdle(&partition);
  }

  /// Count the dropped rows (`rows` of `slice`) that differ from the committed row of their key.
  Status CountConflicts(Partition& partition, const std::shared_ptr<arrow::RecordBatch>& slice,
                        const std::vector<Key128>& keys,
                        const std::vector<int64_t>& rows) {
    auto indices = std::make_shared<arrow::Int64Array>(static_cast<int64_t>(rows.size()), arrow::Buffer::Wrap(rows));
    ARROW_ASSIGN_OR_RAISE(auto taken, cp::Take(slice, indices));
    ARROW_ASSIGN_OR_RAISE(auto hashes, RowKeys(*taken.record_batch(), {}));
    for (size_t j = 0; j < rows.size(); ++j) {
      if (partition.keys[keys[static_cast<size_t>(rows[j])]].row == (hashes[j].a | 1)) continue;
      if (rows_conflicting_.fetch_add(1) == 0) {
        auto time = slice->GetColumnByName(dataset_.time_column)->GetScalar(rows[j]);
        std::lock_guard<std::mutex> lock(mutex_);
        first_conflict_ = fmt::format("{} at {}={}", partition.dir, dataset_.time_column,
                                      time.ok() ? (*time)->ToString() : std::string("?"));
      }
    }
    return Status::OK();
  }

  Status OpenFile(Partition& partition) {
    const int64_t seq = txn_.NextFileNumber();
    partition.open_file = FileEntry{};
    partition.open_file.path = fmt::format("{}/part-{:06d}-{:05d}.parquet", partition.dir, txn_.version(), seq);
    partition.open_file.partition = partition.values;
    partition.open_file.version = txn_.version();
    // The partition's folder is made now, while writers run in parallel, so the commit only
    // renames; an empty folder is invisible to every reader.
    ARROW_RETURN_NOT_OK(EnsureDirectory(paths_.root / partition.dir));
    ARROW_ASSIGN_OR_RAISE(partition.writer,
                          ParquetFile::Create(paths_.Staged(partition.open_file), file_schema_, parquet_));
    open_files_.fetch_add(1);
    return Status::OK();
  }

  Status CloseFile(Partition& partition) {
    if (!partition.writer) return Status::OK();
    ARROW_ASSIGN_OR_RAISE(partition.open_file.bytes, partition.writer->Close());
    partition.writer.reset();
    open_files_.fetch_sub(1);
    if (partition.open_file.rows > 0) partition.closed.push_back(partition.open_file);
    return Status::OK();
  }

  /// Bound open files and key sets: close the least recently used partitions beyond the limit.
  /// Their keys are reloaded from the written files if rows for them come again.
  Status EvictIdle(Partition* keep) {
    if (open_files_.load() <= kMaxOpenFiles) return Status::OK();
    std::vector<Partition*> candidates;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& [_, partition] : partitions_) {
        if (partition.get() != keep && partition->writer) candidates.push_back(partition.get());
      }
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const Partition* a, const Partition* b) { return a->last_use < b->last_use; });
    for (Partition* partition : candidates) {
      if (open_files_.load() <= kMaxOpenFiles / 2) break;
      std::unique_lock<std::mutex> lock(partition->mutex, std::try_to_lock);
      if (!lock.owns_lock() || !partition->writer) continue;
      ARROW_RETURN_NOT_OK(CloseFile(*partition));
      partition->keys.clear();
      partition->keys_loaded = false;
      partition->row_keys.clear();
      if (partition->checker) partition->checker->Release();
    }
    return Status::OK();
  }

  const StorePaths& paths_;
  Transaction& txn_;
  DatasetEntry& dataset_;
  const WriteOptions& options_;
  ParquetWriteOptions parquet_;
  arrow::FieldVector file_fields_;
  std::shared_ptr<arrow::Schema> file_schema_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Partition>> partitions_;
  std::atomic<size_t> open_files_{0};
  std::atomic<uint64_t> use_clock_{0};
  std::atomic<int64_t> rows_in_{0};
  std::atomic<int64_t> rows_duplicate_{0};
  std::atomic<int64_t> rows_conflicting_{0};
  std::string first_conflict_;  // under mutex_
};

void AddFiles(DatasetEntry& dataset, const std::vector<FileEntry>& files) {
  // The listing is sorted already: merge the new files into the chunks they fall in, not the
  // whole listing again (a million entries at every commit).
  dataset.files.MergeSorted(files);
}

}  // namespace

/// Write every batch of the sources (several read at once) into `dataset`.
Status WriteReaders(const StorePaths& paths, Transaction& txn, DatasetEntry& dataset,
                    const WriteOptions& options, std::vector<LazySource>& readers, int threads,
                    CommitInfo* info) {
  PartitionedWriter writer(paths, txn, dataset, options, /*writer_threads=*/readers.size() == 1);
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  Status first_error;
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < readers.size(); i = next.fetch_add(1)) {
      {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error.ok()) return;
      }
      const std::string& origin = readers[i].name;
      auto opened = readers[i].open();
      Status status = WithPath(opened.status(), origin);
      std::shared_ptr<arrow::RecordBatchReader> reader = opened.ok() ? *opened : nullptr;
      while (status.ok()) {
        std::shared_ptr<arrow::RecordBatch> batch;
        status = WithPath(reader->ReadNext(&batch), origin);
        if (!status.ok() || !batch) break;
        status = writer.Append(batch, origin);
      }
      reader.reset();  // release the source's buffers now
      readers[i].open = nullptr;
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (first_error.ok()) first_error = status;
      }
    }
  };
  const int n = std::max(1, std::min<int>(threads, static_cast<int>(readers.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  for (auto& thread : pool) thread.join();
  ARROW_RETURN_NOT_OK(first_error);
  ARROW_ASSIGN_OR_RAISE(auto files, writer.Finish());
  AddFiles(dataset, files);
  if (options.quality && !files.empty()) {
    const quality::Report report = writer.Quality();
    if (!report.files.empty()) {
      auto& detail = txn.next().details["quality"];
      auto merged = quality::AddToCommitQuality(detail, dataset.name, report, quality::Options{}.max_examples);
      // Quality never fails a write; a detail that does not parse (not ours) is left alone.
      if (merged.ok()) detail = std::move(*merged);
      else info->warnings.push_back("quality report not recorded: " + merged.status().message());
    }
  }
  info->rows_in += writer.rows_in();
  info->rows_duplicate += writer.rows_duplicate();
  if (writer.rows_conflicting() > 0) {
    info->rows_conflicting += writer.rows_conflicting();
    const auto& key = dataset.natural_key;
    info->warnings.push_back(fmt::format(
        "{}: {} rows share their key ({}) with a stored row but differ from it; the stored rows were kept "
        "(first: {})",
        dataset.name, writer.rows_conflicting(), fmt::format("{}", fmt::join(key, ", ")), writer.first_conflict()));
  }
  for (const auto& file : files) info->rows_written += file.rows;
  info->added.insert(info->added.end(), files.begin(), files.end());
  return Status::OK();
}

}  // namespace tickforge::store
