#include "tickforge/panel/panel.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/compute/initialize.h>
#include <arrow/io/buffered.h>
#include <arrow/io/file.h>
#include <arrow/ipc/api.h>
#include <arrow/util/bit_util.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>
#include <parquet/properties.h>
#include <parquet/statistics.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <set>
#include <thread>

#include "tickforge/util/random.h"
#include "tickforge/util/prefetch.h"
#include "tickforge/util/files.h"

namespace tickforge::panel {


// ---------------------------------------------------------------------------------------------
// Options, hash, report

Result<Order> ParseOrder(std::string_view name) {
  if (name == "symbol") return Order::kSymbol;
  if (name == "time") return Order::kTime;
  return Status::Invalid("order must be 'symbol' or 'time', got '", name, "'");
}

std::string_view OrderName(Order order) { return order == Order::kSymbol ? "symbol" : "time"; }

Status PanelOptions::Validate() const {
  if (symbol_column.empty()) return Status::Invalid("symbol_column must not be empty");
  if (min_cs < 0) return Status::Invalid("min_cs must be >= 0, got ", min_cs);
  if (max_cs_samples < 0) return Status::Invalid("max_cs_samples must be >= 0, got ", max_cs_samples);
  if (batch_rows < 1) return Status::Invalid("batch_rows must be >= 1, got ", batch_rows);
  if (merge_memory < 1) return Status::Invalid("merge_memory must be >= 1, got ", merge_memory);
  if (!target_column.empty() && target_column == symbol_column) {
    return Status::Invalid("target_column and symbol_column are both '", symbol_column, "'");
  }
  return Status::OK();
}

namespace {

uint64_t SelectionHashOf(uint64_t seed_hash, int64_t t, uint64_t symbol_hash) {
  return SplitMix64(SplitMix64(seed_hash ^ static_cast<uint64_t>(t)) ^ symbol_hash);
}

}  // namespace

uint64_t SelectionHash(uint64_t seed, int64_t t, std::string_view symbol) {
  return SelectionHashOf(SplitMix64(seed), t, Fnv1a64(symbol));
}

nlohmann::ordered_json PanelReport::ToJson() const {
  nlohmann::ordered_json j;
  j["symbols_in"] = symbols_in;
  j["symbols"] = symbols;
  auto skipped_json = nlohmann::ordered_json::array();
  for (const auto& s : skipped) skipped_json.push_back({{"symbol", s.symbol}, {"reason", s.reason}});
  j["skipped"] = skipped_json;
  j["time_column"] = time_column.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(time_column);
  j["timestamps"] = timestamps;
  j["timestamps_kept"] = timestamps_kept;
  j["rows_out"] = rows_out;
  j["spilled_bytes"] = spilled_bytes;
  return j;
}

// ---------------------------------------------------------------------------------------------
// Sources and the plan

struct PanelBuilder::Source {
  std::string symbol;
  std::vector<std::string> paths;       // Parquet files, or
  std::shared_ptr<arrow::Table> table;  // rows in memory (already cast); null once released
  std::shared_ptr<arrow::Schema> schema;  // as the input stores it (before any cast)
  bool in_memory = false;
  int64_t bytes = 0;  // uncompressed size of the Parquet files (metadata), for read-ahead
  std::vector<std::shared_ptr<parquet::FileMetaData>> metadata;  // per path, parsed once
  std::set<std::string> null_free;  // columns known to hold no null

  std::string Name() const { return in_memory ? fmt::format("symbol '{}' (in memory)", symbol) : paths.front(); }
};

namespace {

using Source = PanelBuilder::Source;

// A row's place in the max_cs_samples ranking: smaller is chosen first.
struct SelectionKey {
  uint64_t hash;
  uint32_t symbol;
  auto operator<=>(const SelectionKey&) const = default;
};
constexpr SelectionKey kSelectAll{std::numeric_limits<uint64_t>::max(), std::numeric_limits<uint32_t>::max()};

}  // namespace

struct PanelBuilder::Plan {
  PanelOptions options;
  std::vector<std::shared_ptr<Source>> sources;  // included, sorted by symbol
  std::vector<uint64_t> symbol_hashes;
  std::shared_ptr<arrow::Schema> schema;  // output
  int symbol_field = -1;
  std::vector<std::string> read_columns;  // read from each input; empty: all
  std::string time_column;
  bool filtered = false;
  uint64_t seed_hash = 0;
  // Per distinct time key with a present target: how many symbols, and the largest selected key.
  std::vector<int64_t> cs_time;
  std::vector<uint8_t> cs_keep;
  std::vector<SelectionKey> cs_threshold;
  PanelReport report;
};

namespace {

using Plan = PanelBuilder::Plan;

// Symbols up to this size (uncompressed, from Parquet metadata) are read ahead whole.
constexpr int64_t kReadAheadSymbolBytes = 128 << 20;

// Threads that read symbols ahead: one per core, at least two so reading overlaps.
int Workers() { return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 2u, 8u)); }

// Calls fn(0..n-1) on Workers() threads.
void ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  const auto work = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> threads;
  for (int w = 1; w < std::min<int>(Workers(), static_cast<int>(n)); ++w) threads.emplace_back(work);
  work();
  for (auto& thread : threads) thread.join();
}

// Input files up to this size are memory-mapped.
constexpr uint64_t kMapBytes = 256ULL << 20;

bool IsTimeLike(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::UINT8:
    case arrow::Type::UINT16:
    case arrow::Type::UINT32:
    case arrow::Type::UINT64:
    case arrow::Type::TIMESTAMP:
    case arrow::Type::DATE32:
    case arrow::Type::DATE64:
    case arrow::Type::TIME32:
    case arrow::Type::TIME64:
    case arrow::Type::DURATION:
      return true;
    default:
      return false;
  }
}

// The integer a time value stands for, in its column's own unit.
Result<std::shared_ptr<arrow::Int64Array>> TimeKeys(const std::shared_ptr<arrow::Array>& array) {
  std::shared_ptr<arrow::Array> out;
  switch (array->type_id()) {
    case arrow::Type::INT64:
      out = array;
      break;
    case arrow::Type::TIMESTAMP:
    case arrow::Type::DATE64:
    case arrow::Type::TIME64:
    case arrow::Type::DURATION: {
      ARROW_ASSIGN_OR_RAISE(out, array->View(arrow::int64()));
      break;
    }
    case arrow::Type::DATE32:
    case arrow::Type::TIME32: {
      ARROW_ASSIGN_OR_RAISE(auto int32, array->View(arrow::int32()));
      ARROW_ASSIGN_OR_RAISE(out, arrow::compute::Cast(*int32, arrow::int64()));
      break;
    }
    default: {
      ARROW_ASSIGN_OR_RAISE(out, arrow::compute::Cast(*array, arrow::int64()));
    }
  }
  return std::static_pointer_cast<arrow::Int64Array>(out);
}

// Whether row i holds a target value: not null and, for floats, not NaN (pandas' notna).
class Presence {
 public:
  explicit Presence(const std::shared_ptr<arrow::Array>& target) : target_(target) {
    if (!target_) return;
    if (target_->type_id() == arrow::Type::DOUBLE) f64_ = static_cast<const arrow::DoubleArray*>(target_.get());
    if (target_->type_id() == arrow::Type::FLOAT) f32_ = static_cast<const arrow::FloatArray*>(target_.get());
  }
  bool operator()(int64_t i) const {
    if (!target_) return true;
    if (target_->IsNull(i)) return false;
    if (f64_) return !std::isnan(f64_->Value(i));
    if (f32_) return !std::isnan(f32_->Value(i));
    return true;
  }

 private:
  std::shared_ptr<arrow::Array> target_;
  const arrow::DoubleArray* f64_ = nullptr;
  const arrow::FloatArray* f32_ = nullptr;
};

// Leaf column indices of top-level fields, for the Parquet reader's projection.
void CollectLeaves(const parquet::arrow::SchemaField& field, std::vector<int>* out) {
  if (field.column_index >= 0) out->push_back(field.column_index);
  for (const auto& child : field.children) CollectLeaves(child, out);
}

Result<std::unique_ptr<parquet::arrow::FileReader>> OpenParquet(
    const std::string& path, int64_t batch_rows, bool use_threads,
    std::shared_ptr<parquet::FileMetaData> metadata_cache = nullptr) {
  std::shared_ptr<arrow::io::RandomAccessFile> file;
  parquet::ReaderProperties properties(arrow::default_memory_pool());
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size <= kMapBytes) {
    // Mapped, the reader decodes straight from the page cache instead of copying the file in
    // first; the mapping lasts only while this one file is read, so RSS stays bounded.
    ARROW_ASSIGN_OR_RAISE(file, arrow::io::MemoryMappedFile::Open(path, arrow::io::FileMode::READ));
  } else {
    // A buffered stream reads a column chunk a piece at a time instead of whole, which bounds
    // the reader's memory by the page size rather than the row group size.
    ARROW_ASSIGN_OR_RAISE(file, arrow::io::ReadableFile::Open(path));
    properties.enable_buffered_stream();
    properties.set_buffer_size(1 << 20);
  }
  parquet::ArrowReaderProperties arrow_properties;
  arrow_properties.set_batch_size(batch_rows);
  arrow_properties.set_use_threads(use_threads);
  arrow_properties.set_pre_buffer(false);
  parquet::arrow::FileReaderBuilder builder;
  ARROW_RETURN_NOT_OK(builder.Open(file, properties, std::move(metadata_cache)));
  // A batch no longer than the row groups: the reader sizes its buffers by the batch and
  // shrinks them (a copy) when a row group ends first.
  const auto& metadata = *builder.raw_reader()->metadata();
  int64_t longest = 1;
  for (int i = 0; i < metadata.num_row_groups(); ++i) longest = std::max(longest, metadata.RowGroup(i)->num_rows());
  arrow_properties.set_batch_size(std::min(batch_rows, longest));
  return builder.memory_pool(arrow::default_memory_pool())->properties(arrow_properties)->Build();
}

// One input's raw batches (its own types), projected to `columns` (empty: all).
class RawReader {
 public:
  // `drop_metadata`: forget each file's cached footer once opened, so the footers of hundreds of
  // symbols are not all held while the panel streams (a later read parses them again).
  RawReader(std::shared_ptr<Source> source, std::vector<std::string> columns, int64_t batch_rows, bool use_threads,
            bool drop_metadata = false)
      : source_(std::move(source)),
        columns_(std::move(columns)),
        batch_rows_(batch_rows),
        use_threads_(use_threads),
        drop_metadata_(drop_metadata) {}

  // Returns nullptr at the end.
  Result<std::shared_ptr<arrow::RecordBatch>> Next() {
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

  // Where the batch Next() returned last came from, for messages.
  std::string current_name() const {
    return source_->in_memory ? source_->Name() : source_->paths[file_ == 0 ? 0 : file_ - 1];
  }
  // Row number (in its file) of the first row of the batch Next() returned last.
  int64_t row() const { return row_; }

 private:
  Result<std::shared_ptr<arrow::Table>> Project(const std::shared_ptr<arrow::Table>& table) const {
    std::vector<int> indices;
    for (const auto& name : columns_) {
      const int i = table->schema()->GetFieldIndex(name);
      if (i >= 0) indices.push_back(i);
    }
    return table->SelectColumns(indices);
  }

  Status OpenFile(const std::string& path, std::shared_ptr<parquet::FileMetaData> metadata) {
    ARROW_ASSIGN_OR_RAISE(parquet_, OpenParquet(path, batch_rows_, use_threads_, std::move(metadata)));
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

  std::shared_ptr<Source> source_;
  std::vector<std::string> columns_;
  int64_t batch_rows_;
  bool use_threads_;
  bool drop_metadata_;
  size_t file_ = 0;
  bool opened_ = false;
  std::unique_ptr<parquet::arrow::FileReader> parquet_;
  std::shared_ptr<arrow::RecordBatchReader> reader_;
  int64_t row_ = 0;
  int64_t next_row_ = 0;
};

struct FileInfo {
  std::shared_ptr<arrow::Schema> schema;
  std::shared_ptr<parquet::FileMetaData> metadata;
  int64_t bytes = 0;
  std::set<std::string> null_free;  // top-level columns whose statistics count no null
};

Result<FileInfo> ReadFileInfo(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path, 1024, false));
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

bool IsMetadataColumn(const PanelOptions& options, const std::string& time_column, const std::string& name) {
  if (name == options.symbol_column || name == time_column) return true;
  return std::find(options.metadata_columns.begin(), options.metadata_columns.end(), name) !=
         options.metadata_columns.end();
}

std::shared_ptr<arrow::DataType> OutputType(const PanelOptions& options, const std::string& time_column,
                                            const std::shared_ptr<arrow::Field>& field) {
  if (field->name() == options.symbol_column) return arrow::utf8();
  if (options.use_float32 && field->type()->id() == arrow::Type::DOUBLE &&
      !IsMetadataColumn(options, time_column, field->name())) {
    return arrow::float32();
  }
  return field->type();
}

// Converts float64 to float32 in one loop. The compute kernel does the same conversion, but
// its dispatch (function lookup, options, executor) cost more than the conversion itself for a
// column of a few thousand rows, called for every column of every batch.
Result<std::shared_ptr<arrow::Array>> DoubleToFloat(const arrow::DoubleArray& array) {
  const int64_t n = array.length();
  ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Buffer> values,
                        arrow::AllocateBuffer(n * static_cast<int64_t>(sizeof(float))));
  const double* in = array.raw_values();
  auto* out = reinterpret_cast<float*>(values->mutable_data());
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(in[i]);
  std::shared_ptr<arrow::Buffer> validity;
  if (array.null_count() > 0) {
    ARROW_ASSIGN_OR_RAISE(validity, arrow::internal::CopyBitmap(arrow::default_memory_pool(),
                                                                array.null_bitmap_data(), array.offset(), n));
  }
  return std::make_shared<arrow::FloatArray>(n, std::move(values), std::move(validity), array.null_count());
}

Result<std::shared_ptr<arrow::Array>> CastTo(const std::shared_ptr<arrow::Array>& array,
                                             const std::shared_ptr<arrow::DataType>& type) {
  if (array->type()->Equals(*type)) return array;
  if (array->type_id() == arrow::Type::DOUBLE && type->id() == arrow::Type::FLOAT) {
    return DoubleToFloat(static_cast<const arrow::DoubleArray&>(*array));
  }
  // Promotions were chosen by schema unification and float32 was asked for: do not check for
  // lost precision (polars' strict=False).
  ARROW_ASSIGN_OR_RAISE(auto cast, arrow::compute::Cast(array, arrow::compute::CastOptions::Unsafe(type)));
  return cast.make_array();
}

// ---------------------------------------------------------------------------------------------
// One input's batches in the panel's schema, filters applied.

struct Normalized {
  std::shared_ptr<arrow::RecordBatch> batch;
  std::shared_ptr<arrow::Int64Array> keys;  // time keys of the rows, when asked for
};

class SourceStream {
 public:
  SourceStream(std::shared_ptr<const Plan> plan, size_t index, int64_t batch_rows, bool need_keys, bool use_threads)
      : plan_(std::move(plan)),
        index_(index),
        source_(plan_->sources[index]),
        raw_(source_, plan_->read_columns, batch_rows, use_threads, true),
        need_keys_(need_keys || plan_->filtered),
        symbol_hash_(plan_->symbol_hashes[index]) {}

  // Returns nullopt at the end; never an empty batch.
  Result<std::optional<Normalized>> Next() {
    while (true) {
      ARROW_ASSIGN_OR_RAISE(auto raw, raw_.Next());
      if (!raw) {
        if (plan_->options.release_inputs && source_->in_memory) {
          source_->table.reset();
        }
        return std::optional<Normalized>();
      }
      ARROW_ASSIGN_OR_RAISE(auto out, Normalize(raw));
      if (out.batch->num_rows() > 0) return std::optional<Normalized>(std::move(out));
    }
  }

  const std::shared_ptr<Source>& source() const { return source_; }
  std::string current_name() const { return raw_.current_name(); }
  int64_t row() const { return raw_.row(); }

 private:
  Status CheckSymbols(const std::shared_ptr<arrow::Array>& column) const {
    std::shared_ptr<arrow::Array> strings = column;
    if (column->type_id() != arrow::Type::STRING) {
      ARROW_ASSIGN_OR_RAISE(strings, arrow::compute::Cast(*column, arrow::utf8()));
    }
    const auto& values = static_cast<const arrow::StringArray&>(*strings);
    const std::string& symbol = source_->symbol;
    for (int64_t i = 0; i < values.length(); ++i) {
      if (values.IsNull(i)) {
        return Status::Invalid(raw_.current_name(), ": row ", raw_.row() + i, ": column '",
                               plan_->options.symbol_column, "' is null; it must hold the symbol '", symbol, "'");
      }
      if (values.GetView(i) != symbol) {
        return Status::Invalid(raw_.current_name(), ": row ", raw_.row() + i, ": column '",
                               plan_->options.symbol_column, "' holds '", values.GetView(i),
                               "' but the input is for symbol '", symbol, "'");
      }
    }
    return Status::OK();
  }

  Result<Normalized> Normalize(std::shared_ptr<arrow::RecordBatch> raw) {
    const Plan& plan = *plan_;
    const PanelOptions& options = plan.options;
    if (auto symbols = raw->GetColumnByName(options.symbol_column)) ARROW_RETURN_NOT_OK(CheckSymbols(symbols));
    Normalized out;
    if (need_keys_) {
      auto time = raw->GetColumnByName(plan.time_column);
      if (!time) return Status::Invalid(raw_.current_name(), ": no time column '", plan.time_column, "'");
      auto keys = TimeKeys(time);
      if (!keys.ok()) return WithPath(keys.status(), raw_.current_name());
      out.keys = *keys;
    }
    if (plan.filtered) {
      ARROW_ASSIGN_OR_RAISE(auto mask, Mask(*raw, *out.keys));
      if (mask) {
        ARROW_ASSIGN_OR_RAISE(auto filtered, arrow::compute::Filter(raw, mask));
        raw = filtered.record_batch();
        ARROW_ASSIGN_OR_RAISE(auto keys, arrow::compute::Filter(out.keys, mask));
        out.keys = std::static_pointer_cast<arrow::Int64Array>(keys.make_array());
      }
    }
    const int64_t n = raw->num_rows();
    std::vector<std::shared_ptr<arrow::Array>> columns;
    columns.reserve(static_cast<size_t>(plan.schema->num_fields()));
    for (int f = 0; f < plan.schema->num_fields(); ++f) {
      const auto& field = plan.schema->field(f);
      if (f == plan.symbol_field) {
        ARROW_ASSIGN_OR_RAISE(auto symbols, SymbolColumn(n));
        columns.push_back(std::move(symbols));
        continue;
      }
      auto column = raw->GetColumnByName(field->name());
      if (!column) {
        ARROW_ASSIGN_OR_RAISE(column, arrow::MakeArrayOfNull(field->type(), n));
      } else {
        auto cast = CastTo(column, field->type());
        if (!cast.ok()) return WithPath(cast.status(), raw_.current_name());
        column = *cast;
      }
      columns.push_back(std::move(column));
    }
    out.batch = arrow::RecordBatch::Make(plan.schema, n, std::move(columns));
    return out;
  }

  // The rows the cross-sectional filters keep, or null when they keep every row.
  Result<std::shared_ptr<arrow::BooleanArray>> Mask(const arrow::RecordBatch& raw, const arrow::Int64Array& keys) {
    const Plan& plan = *plan_;
    const PanelOptions& options = plan.options;
    const Presence present(options.target_column.empty() ? nullptr : raw.GetColumnByName(options.target_column));
    const int64_t n = raw.num_rows();
    arrow::TypedBufferBuilder<bool> keep;
    ARROW_RETURN_NOT_OK(keep.Reserve(n));
    int64_t kept = 0;
    const auto& times = plan.cs_time;
    size_t cursor = 0;  // inputs are usually sorted by time, so the next slot is usually the one
    for (int64_t i = 0; i < n; ++i) {
      bool ok = false;
      if (keys.IsValid(i)) {
        const int64_t t = keys.Value(i);
        if (cursor >= times.size() || times[cursor] != t) {
          if (cursor + 1 < times.size() && times[cursor + 1] == t) {
            ++cursor;
          } else {
            cursor = static_cast<size_t>(std::lower_bound(times.begin(), times.end(), t) - times.begin());
          }
        }
        if (cursor < times.size() && times[cursor] == t && plan.cs_keep[cursor]) {
          ok = true;
          if (options.max_cs_samples > 0) {
            ok = present(i) && SelectionKey{SelectionHashOf(plan.seed_hash, t, symbol_hash_),
                                            static_cast<uint32_t>(index_)} <= plan.cs_threshold[cursor];
          }
        }
      }
      keep.UnsafeAppend(ok);
      kept += ok;
    }
    if (kept == n) return nullptr;
    std::shared_ptr<arrow::Buffer> bits;
    ARROW_RETURN_NOT_OK(keep.Finish(&bits));
    return std::make_shared<arrow::BooleanArray>(n, bits);
  }

  Result<std::shared_ptr<arrow::Array>> SymbolColumn(int64_t n) {
    if (!symbols_ || symbols_->length() < n) {
      ARROW_ASSIGN_OR_RAISE(symbols_, arrow::MakeArrayFromScalar(arrow::StringScalar(source_->symbol),
                                                                 std::max<int64_t>(n, 1024)));
    }
    return symbols_->Slice(0, n);
  }

  std::shared_ptr<const Plan> plan_;
  size_t index_;
  std::shared_ptr<Source> source_;
  RawReader raw_;
  bool need_keys_;
  uint64_t symbol_hash_;
  std::shared_ptr<arrow::Array> symbols_;
};

// ---------------------------------------------------------------------------------------------
// Symbol order: each input in turn.

class SymbolOrderReader : public arrow::RecordBatchReader {
 public:
  SymbolOrderReader(std::shared_ptr<const Plan> plan, bool use_threads)
      : plan_(std::move(plan)), use_threads_(use_threads) {}
  std::shared_ptr<arrow::Schema> schema() const override { return plan_->schema; }
  Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    while (true) {
      if (!stream_) {
        if (next_ == plan_->sources.size()) {
          *batch = nullptr;
          return Status::OK();
        }
        stream_ = std::make_unique<SourceStream>(plan_, next_++, plan_->options.batch_rows, false, use_threads_);
      }
      ARROW_ASSIGN_OR_RAISE(auto out, stream_->Next());
      if (out) {
        *batch = std::move(out->batch);
        return Status::OK();
      }
      stream_.reset();
    }
  }

 private:
  std::shared_ptr<const Plan> plan_;
  bool use_threads_;
  size_t next_ = 0;
  std::unique_ptr<SourceStream> stream_;
};

// Symbol order over Parquet inputs: worker threads read and normalize the next few symbols
// while the consumer takes the current one, so decoding runs on all cores and in order. A
// symbol larger than the read-ahead budget is streamed by the consumer instead.
class ReadAheadReader : public arrow::RecordBatchReader {
 public:
  ReadAheadReader(std::shared_ptr<const Plan> plan, int workers, int64_t symbol_bytes)
      : plan_(std::move(plan)), slots_(plan_->sources.size()), window_(static_cast<size_t>(workers) + 1) {
    for (size_t i = 0; i < slots_.size(); ++i) slots_[i].preload = plan_->sources[i]->bytes <= symbol_bytes;
    for (int w = 0; w < workers; ++w) threads_.emplace_back([this] { Work(); });
  }

  ~ReadAheadReader() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    for (auto& thread : threads_) thread.join();
  }

  std::shared_ptr<arrow::Schema> schema() const override { return plan_->schema; }

  Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    while (true) {
      if (!current_.empty()) {
        *batch = std::move(current_.front());
        current_.pop_front();
        return Status::OK();
      }
      if (stream_) {
        ARROW_ASSIGN_OR_RAISE(auto next, stream_->Next());
        if (next) {
          *batch = std::move(next->batch);
          return Status::OK();
        }
        stream_.reset();
        Advance();
        continue;
      }
      if (emit_ == slots_.size()) {
        *batch = nullptr;
        return Status::OK();
      }
      Slot& slot = slots_[emit_];
      if (!slot.preload) {
        stream_ = std::make_unique<SourceStream>(plan_, emit_, plan_->options.batch_rows, false, true);
        continue;
      }
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return slot.done; });
      ARROW_RETURN_NOT_OK(slot.status);
      current_ = std::move(slot.batches);
      lock.unlock();
      Advance();
    }
  }

 private:
  struct Slot {
    bool preload = false;
    bool taken = false;
    bool done = false;
    Status status;
    std::deque<std::shared_ptr<arrow::RecordBatch>> batches;
  };

  void Advance() {
    {
      std::lock_guard lock(mutex_);
      ++emit_;
    }
    changed_.notify_all();
  }

  // Takes the next symbol to preload within the window; false when stopping or done.
  bool Take(size_t* index) {
    std::unique_lock lock(mutex_);
    while (true) {
      if (stop_) return false;
      while (next_ < slots_.size() && !slots_[next_].preload) ++next_;
      if (next_ == slots_.size()) return false;
      if (next_ < emit_ + window_) {
        *index = next_++;
        slots_[*index].taken = true;
        return true;
      }
      changed_.wait(lock);
    }
  }

  void Work() {
    size_t index;
    while (Take(&index)) {
      std::deque<std::shared_ptr<arrow::RecordBatch>> batches;
      // One symbol per worker: decoding inside it stays on this thread.
      SourceStream stream(plan_, index, plan_->options.batch_rows, false, false);
      Status status;
      while (true) {
        auto next = stream.Next();
        if (!next.ok()) {
          status = next.status();
          break;
        }
        if (!*next) break;
        batches.push_back(std::move((*next)->batch));
      }
      {
        std::lock_guard lock(mutex_);
        Slot& slot = slots_[index];
        slot.status = std::move(status);
        slot.batches = std::move(batches);
        slot.done = true;
      }
      changed_.notify_all();
    }
  }

  std::shared_ptr<const Plan> plan_;
  std::vector<Slot> slots_;
  size_t window_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stop_ = false;
  size_t next_ = 0;  // next symbol a worker takes
  size_t emit_ = 0;  // symbol the consumer is on
  std::deque<std::shared_ptr<arrow::RecordBatch>> current_;
  std::unique_ptr<SourceStream> stream_;
  std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------------------------------------
// Time order: a k-way merge over the inputs, each sorted by time.

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

class TimeOrderReader : public arrow::RecordBatchReader {
 public:
  TimeOrderReader(std::shared_ptr<const Plan> plan, bool use_threads, std::filesystem::path spill_dir)
      : plan_(std::move(plan)), use_threads_(use_threads), spill_dir_(std::move(spill_dir)) {}

  ~TimeOrderReader() override {
    cursors_.clear();
    if (!spill_root_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(spill_root_, ec);
    }
  }

  std::shared_ptr<arrow::Schema> schema() const override { return plan_->schema; }
  int64_t spilled_bytes() const { return spilled_bytes_.load(); }

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
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
      const size_t c = heap_.back().cursor;
      heap_.pop_back();
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
        if (!more) continue;
      }
      if (cursor.Key() < t) return Unsorted(cursor, cursor.row);
      heap_.push_back(HeapEntry{cursor.Key(), c});
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
    }
    for (auto& cursor : cursors_) cursor.out_batch = -1;
    ARROW_ASSIGN_OR_RAISE(*batch, Gather(runs, sources, rows));
    return Status::OK();
  }

 private:
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
    std::make_heap(heap_.begin(), heap_.end(), std::greater<>());
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
  std::vector<HeapEntry> heap_;
};

// Merged batches (batch_rows each) made ahead of the consumer.
constexpr size_t kPrefetchBatches = 2;

// Reads another reader on a background thread, a few batches ahead.
class PrefetchReader : public arrow::RecordBatchReader {
 public:
  explicit PrefetchReader(std::shared_ptr<arrow::RecordBatchReader> reader)
      : schema_(reader->schema()), prefetcher_(std::move(reader), kPrefetchBatches) {}
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    ARROW_ASSIGN_OR_RAISE(*batch, prefetcher_.Next());
    return Status::OK();
  }

 private:
  std::shared_ptr<arrow::Schema> schema_;
  BatchPrefetcher prefetcher_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// PanelReader

class PanelReader::Impl {
 public:
  std::shared_ptr<const Plan> plan;
  std::shared_ptr<TimeOrderReader> time_reader;  // when order is time, for its spill count
  std::shared_ptr<arrow::RecordBatchReader> reader;
  int64_t rows_out = 0;
};

PanelReader::PanelReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PanelReader::~PanelReader() = default;

std::shared_ptr<arrow::Schema> PanelReader::schema() const { return impl_->plan->schema; }

Status PanelReader::ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) {
  if (!impl_->reader) {
    *batch = nullptr;
    return Status::OK();
  }
  Status status = impl_->reader->ReadNext(batch);
  if (!status.ok() || *batch == nullptr) impl_->reader.reset();  // joins threads, removes spill files
  ARROW_RETURN_NOT_OK(status);
  if (*batch) impl_->rows_out += (*batch)->num_rows();
  return Status::OK();
}

PanelReport PanelReader::report() const {
  PanelReport report = impl_->plan->report;
  report.rows_out = impl_->rows_out;
  if (impl_->time_reader) report.spilled_bytes = impl_->time_reader->spilled_bytes();
  return report;
}

// ---------------------------------------------------------------------------------------------
// PanelBuilder

PanelBuilder::PanelBuilder(PanelOptions options) : options_(std::move(options)) {}
PanelBuilder::~PanelBuilder() = default;

Status PanelBuilder::AddParquet(const std::string& symbol, std::vector<std::string> paths) {
  if (symbol.empty()) return Status::Invalid("empty symbol name for ", paths.empty() ? "?" : paths.front());
  if (paths.empty()) return Status::Invalid("symbol '", symbol, "': no files");
  if (sources_.count(symbol)) return Status::Invalid("symbol '", symbol, "' was added twice");
  auto source = std::make_shared<Source>();
  source->symbol = symbol;
  source->paths = std::move(paths);
  sources_[symbol] = std::move(source);
  plan_.reset();
  return Status::OK();
}

Status PanelBuilder::AddDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Status::IOError(dir.string(), ": not a directory");
  const std::string prefix = options_.symbol_column + "=";
  std::map<std::string, std::vector<std::string>> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (IsHiddenName(name)) continue;
    if (entry.is_regular_file() && name.ends_with(".parquet")) {
      const std::string symbol = name.substr(0, name.size() - std::string(".parquet").size());
      if (found.count(symbol)) return Status::Invalid(dir.string(), ": symbol '", symbol, "' appears twice");
      found[symbol].push_back(entry.path().string());
    } else if (entry.is_directory() && name.starts_with(prefix)) {
      const std::string symbol = name.substr(prefix.size());
      if (found.count(symbol)) return Status::Invalid(dir.string(), ": symbol '", symbol, "' appears twice");
      std::vector<std::string> files;
      for (const auto& part : std::filesystem::recursive_directory_iterator(entry.path(), ec)) {
        const std::string part_name = part.path().filename().string();
        if (part.is_regular_file() && !IsHiddenName(part_name) && part_name.ends_with(".parquet")) {
          files.push_back(part.path().string());
        }
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) return Status::Invalid(entry.path().string(), ": no Parquet files for symbol '", symbol, "'");
      found[symbol] = std::move(files);
    }
  }
  if (ec) return Status::IOError(dir.string(), ": ", ec.message());
  if (found.empty()) {
    return Status::Invalid(dir.string(), ": no per-symbol Parquet files (NAME.parquet or ", prefix, "NAME/)");
  }
  for (auto& [symbol, files] : found) ARROW_RETURN_NOT_OK(AddParquet(symbol, std::move(files)));
  return Status::OK();
}

Status PanelBuilder::AddTable(const std::string& symbol, const std::shared_ptr<arrow::Table>& table) {
  if (symbol.empty()) return Status::Invalid("empty symbol name");
  if (sources_.count(symbol)) return Status::Invalid("symbol '", symbol, "' was added twice");
  ARROW_RETURN_NOT_OK(InitializeCompute());
  auto source = std::make_shared<Source>();
  source->symbol = symbol;
  source->in_memory = true;
  std::shared_ptr<arrow::Table> kept = table;
  if (!options_.columns.empty()) {
    // What a plan might read: the asked columns, the target and any time column candidate.
    std::set<std::string> wanted(options_.columns.begin(), options_.columns.end());
    wanted.insert(options_.symbol_column);
    if (!options_.target_column.empty()) wanted.insert(options_.target_column);
    if (!options_.time_column.empty()) wanted.insert(options_.time_column);
    wanted.insert("ts");
    wanted.insert("timestamp");
    std::vector<int> indices;
    for (int i = 0; i < table->num_columns(); ++i) {
      const auto& field = table->schema()->field(i);
      if (wanted.count(field->name()) || field->type()->id() == arrow::Type::TIMESTAMP) indices.push_back(i);
    }
    ARROW_ASSIGN_OR_RAISE(kept, table->SelectColumns(indices));
  }
  source->schema = kept->schema()->WithMetadata(nullptr);
  if (options_.use_float32) {
    // Cast now so the caller's float64 copy can go: the panel then holds half its size.
    const std::string time = options_.time_column.empty() ? "ts" : options_.time_column;
    std::vector<std::shared_ptr<arrow::ChunkedArray>> columns;
    std::vector<std::shared_ptr<arrow::Field>> fields;
    bool changed = false;
    for (int i = 0; i < kept->num_columns(); ++i) {
      auto field = kept->schema()->field(i);
      auto column = kept->column(i);
      const bool metadata = IsMetadataColumn(options_, time, field->name()) ||
                            (options_.time_column.empty() && field->name() == "timestamp");
      if (field->type()->id() == arrow::Type::DOUBLE && !metadata) {
        ARROW_ASSIGN_OR_RAISE(auto cast, arrow::compute::Cast(column, arrow::compute::CastOptions::Unsafe(arrow::float32())));
        column = cast.chunked_array();
        field = field->WithType(arrow::float32());
        changed = true;
      }
      columns.push_back(std::move(column));
      fields.push_back(std::move(field));
    }
    if (changed) kept = arrow::Table::Make(arrow::schema(fields), std::move(columns), kept->num_rows());
  }
  for (int i = 0; i < kept->num_columns(); ++i) {
    if (kept->column(i)->null_count() == 0) source->null_free.insert(kept->schema()->field(i)->name());
  }
  source->table = std::move(kept);
  sources_[symbol] = std::move(source);
  plan_.reset();
  return Status::OK();
}

namespace {

// The first pass, over the time and target columns only: per time key, how many symbols have a
// present target there, and for max_cs_samples the K smallest selection keys among them.
Status CountCrossSections(Plan& plan) {
  const PanelOptions& options = plan.options;
  std::vector<std::string> columns = {plan.time_column};
  if (!options.target_column.empty()) columns.push_back(options.target_column);
  struct Slot {
    int64_t t;
    int32_t count;
    int32_t heap;
  };
  std::vector<Slot> slots, merged;
  std::vector<std::vector<SelectionKey>> heaps;
  const auto k = static_cast<size_t>(options.max_cs_samples);
  // One symbol's sorted distinct time keys with a present target.
  const auto read_present = [&](size_t i, std::vector<int64_t>* present) -> Status {
    RawReader reader(plan.sources[i], columns, 1 << 20, false);
    present->clear();
    while (true) {
      ARROW_ASSIGN_OR_RAISE(auto batch, reader.Next());
      if (!batch) break;
      auto keys = TimeKeys(batch->GetColumnByName(plan.time_column));
      if (!keys.ok()) return WithPath(keys.status(), reader.current_name());
      const Presence is_present(options.target_column.empty() ? nullptr : batch->GetColumnByName(options.target_column));
      const auto& key_array = **keys;
      for (int64_t r = 0; r < key_array.length(); ++r) {
        if (key_array.IsValid(r) && is_present(r)) present->push_back(key_array.Value(r));
      }
    }
    std::sort(present->begin(), present->end());
    present->erase(std::unique(present->begin(), present->end()), present->end());
    return Status::OK();
  };
  // Symbols are read a few at a time on all cores, then merged in symbol order.
  const auto group = static_cast<size_t>(Workers());
  std::vector<std::vector<int64_t>> presents(group);
  std::vector<Status> statuses(group);
  for (size_t i = 0; i < plan.sources.size(); ++i) {
    const size_t slot_in_group = i % group;
    if (slot_in_group == 0) {
      const size_t count = std::min(group, plan.sources.size() - i);
      ParallelFor(count, [&](size_t j) { statuses[j] = read_present(i + j, &presents[j]); });
      for (size_t j = 0; j < count; ++j) ARROW_RETURN_NOT_OK(statuses[j]);
    }
    const std::vector<int64_t>& present = presents[slot_in_group];
    // Merge this symbol's sorted times into the sorted slots.
    merged.clear();
    merged.reserve(slots.size() + present.size());
    size_t a = 0;
    for (int64_t t : present) {
      while (a < slots.size() && slots[a].t < t) merged.push_back(slots[a++]);
      if (a < slots.size() && slots[a].t == t) {
        merged.push_back(slots[a++]);
        ++merged.back().count;
      } else {
        merged.push_back(Slot{t, 1, -1});
        if (k > 0) {
          merged.back().heap = static_cast<int32_t>(heaps.size());
          heaps.emplace_back();
        }
      }
      if (k > 0) {
        auto& heap = heaps[static_cast<size_t>(merged.back().heap)];
        const SelectionKey key{SelectionHashOf(plan.seed_hash, t, plan.symbol_hashes[i]), static_cast<uint32_t>(i)};
        if (heap.size() < k) {
          heap.push_back(key);
          std::push_heap(heap.begin(), heap.end());
        } else if (key < heap.front()) {
          std::pop_heap(heap.begin(), heap.end());
          heap.back() = key;
          std::push_heap(heap.begin(), heap.end());
        }
      }
    }
    while (a < slots.size()) merged.push_back(slots[a++]);
    std::swap(slots, merged);
  }
  plan.cs_time.resize(slots.size());
  plan.cs_keep.resize(slots.size());
  if (k > 0) plan.cs_threshold.resize(slots.size());
  int64_t kept = 0;
  for (size_t s = 0; s < slots.size(); ++s) {
    plan.cs_time[s] = slots[s].t;
    plan.cs_keep[s] = slots[s].count >= options.min_cs;
    kept += plan.cs_keep[s];
    if (k > 0) {
      const auto& heap = heaps[static_cast<size_t>(slots[s].heap)];
      plan.cs_threshold[s] = heap.size() < k ? kSelectAll : heap.front();
    }
  }
  plan.report.timestamps = static_cast<int64_t>(slots.size());
  plan.report.timestamps_kept = kept;
  return Status::OK();
}

}  // namespace

Result<std::shared_ptr<PanelBuilder::Plan>> PanelBuilder::MakePlan() {
  ARROW_RETURN_NOT_OK(options_.Validate());
  ARROW_RETURN_NOT_OK(InitializeCompute());
  auto plan = std::make_shared<Plan>();
  plan->options = options_;
  const PanelOptions& options = plan->options;
  plan->report.symbols_in = static_cast<int64_t>(sources_.size());
  const bool filtered = options.min_cs > 0 || options.max_cs_samples > 0;
  const bool need_time = filtered || options.order == Order::kTime;

  // Footers, read on all cores: hundreds of files take a second or more one by one.
  std::vector<const std::string*> paths;
  for (const auto& [symbol, source] : sources_) {
    if (!source->schema) {
      for (const auto& path : source->paths) paths.push_back(&path);
    }
  }
  std::vector<Result<FileInfo>> infos(paths.size(), Status::UnknownError("not read"));
  ParallelFor(paths.size(), [&](size_t i) { infos[i] = ReadFileInfo(*paths[i]); });
  size_t next_info = 0;

  // Schemas, and the symbols without the target.
  for (const auto& [symbol, source] : sources_) {
    if (!source->schema) {
      std::shared_ptr<arrow::Schema> schema;
      for (const auto& path : source->paths) {
        auto& info = infos[next_info++];
        if (!info.ok()) return WithPath(info.status(), path);
        source->bytes += info->bytes;
        source->metadata.push_back(info->metadata);
        if (!schema) {
          schema = info->schema;
          source->null_free = info->null_free;
          continue;
        }
        std::erase_if(source->null_free, [&](const std::string& name) { return !info->null_free.count(name); });
        auto unified = arrow::UnifySchemas({schema, info->schema}, arrow::Field::MergeOptions::Permissive());
        if (!unified.ok()) return Status::Invalid(path, ": its schema does not match the other files of symbol '",
                                                  symbol, "': ", unified.status().message());
        schema = *unified;
      }
      source->schema = schema;
    }
    if (!options.target_column.empty() && source->schema->GetFieldIndex(options.target_column) < 0) {
      plan->report.skipped.push_back({symbol, fmt::format("no target column '{}'", options.target_column)});
      continue;
    }
    plan->sources.push_back(source);
    plan->report.symbols.push_back(symbol);
    plan->symbol_hashes.push_back(Fnv1a64(symbol));
  }

  // One schema for all: missing columns are null, numeric types are promoted; anything else
  // is an error naming the input that does not fit.
  std::shared_ptr<arrow::Schema> unified;
  const auto relevant = [&](const std::string& name) {
    if (options.columns.empty() || name == options.symbol_column || name == options.target_column ||
        name == options.time_column) {
      return true;
    }
    return std::find(options.columns.begin(), options.columns.end(), name) != options.columns.end() ||
           (options.time_column.empty() && (name == "ts" || name == "timestamp"));
  };
  for (const auto& source : plan->sources) {
    std::vector<std::shared_ptr<arrow::Field>> fields;
    for (const auto& field : source->schema->fields()) {
      if (!relevant(field->name())) continue;
      fields.push_back(field->name() == options.symbol_column ? field->WithType(arrow::utf8()) : field);
    }
    // Each input gets its symbol column at its end (pandas' assign), so the union of columns
    // comes out in pandas concat's order.
    if (source->schema->GetFieldIndex(options.symbol_column) < 0) {
      fields.push_back(arrow::field(options.symbol_column, arrow::utf8()));
    }
    auto schema = arrow::schema(fields);
    if (!unified) {
      unified = schema;
      continue;
    }
    auto merged = arrow::UnifySchemas({unified, schema}, arrow::Field::MergeOptions::Permissive());
    if (!merged.ok()) {
      for (const auto& field : schema->fields()) {
        const auto before = unified->GetFieldByName(field->name());
        if (before && !arrow::UnifySchemas({arrow::schema({before}), arrow::schema({field})},
                                           arrow::Field::MergeOptions::Permissive())
                           .ok()) {
          return Status::Invalid(source->Name(), ": column '", field->name(), "' of symbol '", source->symbol,
                                 "' is ", field->type()->ToString(), " but ", before->type()->ToString(),
                                 " in the symbols before it; the types cannot be combined");
        }
      }
      return Status::Invalid(source->Name(), ": symbol '", source->symbol,
                             "' does not fit the columns of the symbols before it: ", merged.status().message());
    }
    unified = *merged;
  }
  if (!unified) unified = arrow::schema({});

  // The time column.
  if (!options.time_column.empty()) {
    plan->time_column = options.time_column;
  } else if (unified->GetFieldIndex("ts") >= 0) {
    plan->time_column = "ts";
  } else if (unified->GetFieldIndex("timestamp") >= 0) {
    plan->time_column = "timestamp";
  } else {
    std::vector<std::string> candidates;
    for (const auto& field : unified->fields()) {
      if (field->type()->id() == arrow::Type::TIMESTAMP) candidates.push_back(field->name());
    }
    if (candidates.size() == 1) {
      plan->time_column = candidates.front();
    } else if (candidates.size() > 1 && need_time) {
      return Status::Invalid("several timestamp columns (", fmt::format("{}", fmt::join(candidates, ", ")),
                             "): name one with time_column");
    }
  }
  if (need_time && !plan->sources.empty()) {
    const auto field = plan->time_column.empty() ? nullptr : unified->GetFieldByName(plan->time_column);
    if (!field) {
      return Status::Invalid(options.order == Order::kTime ? "order='time'" : "min_cs/max_cs_samples",
                             " needs a time column: none named '",
                             plan->time_column.empty() ? "ts" : plan->time_column,
                             "' and no single timestamp-typed column; set time_column");
    }
    if (!IsTimeLike(*field->type())) {
      return Status::Invalid("time column '", plan->time_column, "' has type ", field->type()->ToString(),
                             "; it must be a timestamp, date or integer");
    }
    for (const auto& source : plan->sources) {
      if (source->schema->GetFieldIndex(plan->time_column) < 0) {
        return Status::Invalid(source->Name(), ": symbol '", source->symbol, "' has no time column '",
                               plan->time_column, "'");
      }
    }
  }
  plan->report.time_column = plan->time_column;

  // The output schema.
  std::vector<std::shared_ptr<arrow::Field>> fields;
  const auto add = [&](const std::shared_ptr<arrow::Field>& field) {
    fields.push_back(field->WithType(OutputType(options, plan->time_column, field)));
  };
  if (options.columns.empty()) {
    for (const auto& field : unified->fields()) add(field);
  } else {
    for (const auto& name : options.columns) {
      if (name == options.symbol_column) {
        fields.push_back(arrow::field(name, arrow::utf8()));
        continue;
      }
      const auto field = unified->GetFieldByName(name);
      if (!field) {
        if (plan->sources.empty()) continue;
        return Status::Invalid("column '", name, "' is in none of the ", plan->sources.size(), " symbols");
      }
      add(field);
    }
  }
  auto symbol_it = std::find_if(fields.begin(), fields.end(),
                                [&](const auto& field) { return field->name() == options.symbol_column; });
  if (symbol_it == fields.end()) {
    fields.push_back(arrow::field(options.symbol_column, arrow::utf8()));
    symbol_it = fields.end() - 1;
  }
  plan->symbol_field = static_cast<int>(symbol_it - fields.begin());
  // A column that no input holds a null in is written as required: Parquet then stores no
  // definition levels for it, which measured a fifth less writing time for float columns.
  for (auto& field : fields) {
    const bool symbol = field->name() == options.symbol_column;
    const bool null_free =
        !plan->sources.empty() &&
        std::all_of(plan->sources.begin(), plan->sources.end(),
                    [&](const auto& source) { return source->null_free.count(field->name()) > 0; });
    field = field->WithNullable(!(symbol || null_free));
  }
  plan->schema = arrow::schema(fields);

  if (!options.columns.empty()) {
    std::set<std::string> read;
    for (const auto& field : fields) read.insert(field->name());
    if (need_time) read.insert(plan->time_column);
    if (filtered && !options.target_column.empty()) read.insert(options.target_column);
    read.insert(options.symbol_column);  // checked against the symbol when present
    plan->read_columns.assign(read.begin(), read.end());
  }

  plan->filtered = filtered;
  plan->seed_hash = SplitMix64(options.seed);
  if (filtered && !plan->sources.empty()) ARROW_RETURN_NOT_OK(CountCrossSections(*plan));
  return plan;
}

Result<std::shared_ptr<PanelReader>> PanelBuilder::Open() { return OpenWith(options_.spill_dir); }

Result<std::shared_ptr<PanelReader>> PanelBuilder::OpenWith(const std::filesystem::path& spill_dir) {
  const bool any_in_memory =
      std::any_of(sources_.begin(), sources_.end(), [](const auto& entry) { return entry.second->in_memory; });
  if (opened_ && options_.release_inputs && any_in_memory) {
    return Status::Invalid("the panel was already read once and its inputs were released "
                           "(release_after_convert); build it again to read it again");
  }
  if (!plan_) {
    ARROW_ASSIGN_OR_RAISE(plan_, MakePlan());
  }
  opened_ = true;
  auto impl = std::make_unique<PanelReader::Impl>();
  impl->plan = plan_;
  // Decoding Parquet overlaps with the consumer. In-memory inputs have nothing to decode, and
  // they may hold Python-owned buffers, which are best released on the consumer's thread.
  const bool files_only = std::none_of(plan_->sources.begin(), plan_->sources.end(),
                                       [](const auto& source) { return source->in_memory; });
  const bool threads = files_only && !plan_->sources.empty();
  std::shared_ptr<arrow::RecordBatchReader> reader;
  if (options_.order == Order::kSymbol) {
    if (threads) {
      reader = std::make_shared<ReadAheadReader>(plan_, Workers(), kReadAheadSymbolBytes);
    } else {
      reader = std::make_shared<SymbolOrderReader>(plan_, true);
    }
  } else {
    impl->time_reader = std::make_shared<TimeOrderReader>(plan_, true, spill_dir);
    reader = impl->time_reader;
    if (threads) reader = std::make_shared<PrefetchReader>(std::move(reader));
  }
  impl->reader = std::move(reader);
  return std::make_shared<PanelReader>(std::move(impl));
}

Result<PanelReport> PanelBuilder::Describe() {
  if (!plan_) {
    ARROW_ASSIGN_OR_RAISE(plan_, MakePlan());
  }
  return plan_->report;
}

Result<std::shared_ptr<arrow::Schema>> PanelBuilder::Schema() {
  if (!plan_) {
    ARROW_ASSIGN_OR_RAISE(plan_, MakePlan());
  }
  return plan_->schema;
}

Result<std::shared_ptr<arrow::Table>> PanelBuilder::Collect() {
  ARROW_ASSIGN_OR_RAISE(auto reader, Open());
  return arrow::Table::FromRecordBatchReader(reader.get());
}

Result<PanelReport> PanelBuilder::WriteParquet(const std::filesystem::path& path, const ParquetWriteOptions& write) {
  std::filesystem::path spill_dir = options_.spill_dir;
  if (spill_dir.empty()) spill_dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenWith(spill_dir));
  ARROW_ASSIGN_OR_RAISE(auto file, ParquetFile::Create(path, reader->schema(), write));
  // Whole row groups go to the writer at once: it then writes each column straight to the file
  // instead of buffering the row group's pages in memory and copying them out at its end, which
  // measured a third less CPU. The pending rows are references to the batches, not copies.
  std::shared_ptr<arrow::Table> pending;
  ARROW_ASSIGN_OR_RAISE(pending, arrow::Table::MakeEmpty(reader->schema()));
  const int64_t group = write.row_group_rows;
  // The panel is read on a thread of its own while row groups are written here: decoding the
  // inputs and encoding the output overlap (the writer's threads only split a group's columns).
  // One row group ahead: enough to cover a group's write, whatever the batches' size.
  BatchPrefetcher prefetch(reader, 64, {}, group);
  while (true) {
    ARROW_ASSIGN_OR_RAISE(auto batch, prefetch.Next());
    if (batch) {
      ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(reader->schema(), {batch}));
      ARROW_ASSIGN_OR_RAISE(pending, arrow::ConcatenateTables({pending, table}));
    }
    const int64_t full = batch ? pending->num_rows() / group * group : pending->num_rows();
    if (full > 0) {
      ARROW_RETURN_NOT_OK(file->WriteTable(*pending->Slice(0, full)));
      pending = pending->Slice(full);
    }
    if (!batch) break;
  }
  ARROW_RETURN_NOT_OK(file->Close().status());
  return reader->report();
}

}  // namespace tickforge::panel
