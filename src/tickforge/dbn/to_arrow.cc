#include "tickforge/dbn/to_arrow.h"
#include "tickforge/util/time.h"

#include <arrow/array.h>
#include <arrow/buffer.h>
#include <arrow/builder.h>
#include <arrow/type.h>
#include <arrow/util/bit_util.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>

namespace tickforge::dbn {

// The column memory of one batch is one slab; when every array of the batch is released the
// slab comes back here and the next batch is written into it. A fresh allocation of this size
// is mapped anew by the allocator, and faulting in and zeroing its pages took a third of the
// decoding thread's time on MBP-10.
class SlabCache : public std::enable_shared_from_this<SlabCache> {
 public:
  /// Return a slab of at least `size` bytes that comes back here when its last user lets go
  /// (or is freed, if this cache is gone by then).
  Result<std::shared_ptr<arrow::Buffer>> Get(int64_t size) {
    std::unique_ptr<arrow::Buffer> slab;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t i = 0; i < free_.size(); ++i) {
        if (free_[i]->size() < size) continue;
        slab = std::move(free_[i]);
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
    if (!slab) {
      ARROW_ASSIGN_OR_RAISE(slab, arrow::AllocateBuffer(size));
    }
    std::weak_ptr<SlabCache> home = weak_from_this();
    return std::shared_ptr<arrow::Buffer>(slab.release(), [home](arrow::Buffer* released) {
      std::unique_ptr<arrow::Buffer> owned(released);
      if (auto cache = home.lock()) cache->Put(std::move(owned));
    });
  }

 private:
  // Batches in flight: one being built, the prefetched ones, one being written.
  static constexpr size_t kMaxFree = 4;

  void Put(std::unique_ptr<arrow::Buffer> slab) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_.size() < kMaxFree) free_.push_back(std::move(slab));
  }

  std::mutex mutex_;
  std::vector<std::unique_ptr<arrow::Buffer>> free_;
};

namespace {

constexpr int64_t kSlabAlignment = 64;

int64_t Aligned(int64_t size) { return (size + kSlabAlignment - 1) / kSlabAlignment * kSlabAlignment; }

// Hands out 64-byte aligned pieces of one slab, each keeping the slab alive.
class SlabCarver {
 public:
  explicit SlabCarver(std::shared_ptr<arrow::Buffer> slab) : slab_(std::move(slab)) {}
  std::shared_ptr<arrow::Buffer> Take(int64_t size) {
    auto piece = arrow::SliceMutableBuffer(slab_, at_, size);
    at_ += Aligned(size);
    return piece;
  }

 private:
  std::shared_ptr<arrow::Buffer> slab_;
  int64_t at_ = 0;
};

constexpr int64_t kBlockRows = 2048;  // rows gathered per field before moving on (stays in L2)

int64_t DayOf(uint64_t ts) { return static_cast<int64_t>(ts / static_cast<uint64_t>(kNanosPerDay)); }

std::optional<uint32_t> ParseInstrumentId(const std::string& s) {
  uint32_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

std::shared_ptr<arrow::DataType> TypeOf(const FieldDesc& field, const ArrowOptions& options) {
  switch (field.kind) {
    case FieldKind::kU8: return arrow::uint8();
    case FieldKind::kU16: return arrow::uint16();
    case FieldKind::kU32: return arrow::uint32();
    case FieldKind::kU64: return arrow::uint64();
    case FieldKind::kI8: return arrow::int8();
    case FieldKind::kI16: return arrow::int16();
    case FieldKind::kI32: return arrow::int32();
    case FieldKind::kI64: return arrow::int64();
    case FieldKind::kChar:
    case FieldKind::kCStr: return arrow::utf8();
    case FieldKind::kPrice:
      return options.price_type == PriceType::kFloat ? arrow::float64() : arrow::int64();
    case FieldKind::kTimestamp:
      return options.pretty_ts ? arrow::timestamp(arrow::TimeUnit::NANO, "UTC") : arrow::uint64();
  }
  return arrow::null();
}

template <typename T>
void Gather(const uint8_t* rows, size_t stride, size_t offset, int64_t begin, int64_t end, T* out) {
  for (int64_t i = begin; i < end; ++i) {
    std::memcpy(out + i, rows + static_cast<size_t>(i) * stride + offset, sizeof(T));
  }
}

void GatherPrice(const uint8_t* rows, size_t stride, size_t offset, int64_t begin, int64_t end,
                 double* out) {
  for (int64_t i = begin; i < end; ++i) {
    int64_t v;
    std::memcpy(&v, rows + static_cast<size_t>(i) * stride + offset, 8);
    out[i] = v == kUndefPrice ? std::numeric_limits<double>::quiet_NaN()
                              : static_cast<double>(v) / static_cast<double>(kFixedPriceScale);
  }
}

// Gathers a timestamp column; returns how many values were UNDEF.
int64_t GatherTimestamp(const uint8_t* rows, size_t stride, size_t offset, int64_t begin, int64_t end,
                        uint64_t* out) {
  int64_t undef = 0;
  for (int64_t i = begin; i < end; ++i) {
    std::memcpy(out + i, rows + static_cast<size_t>(i) * stride + offset, 8);
    undef += out[i] == kUndefTimestamp;
  }
  return undef;
}

// A column's output buffer, filled block by block.
struct Column {
  const FieldDesc* field;
  size_t offset;
  std::shared_ptr<arrow::Buffer> values;
  int64_t undef = 0;
};

// Builds a string column straight into offset and data buffers carved from `slab`: c_char
// fields hold 0 or 1 byte, c-strings up to `width` bytes up to their NUL.
std::shared_ptr<arrow::Array> MakeStrings(const uint8_t* rows, size_t stride, size_t offset, size_t width,
                                          int64_t n, SlabCarver& slab) {
  auto offsets = slab.Take((n + 1) * static_cast<int64_t>(sizeof(int32_t)));
  auto data = slab.Take(n * static_cast<int64_t>(width));
  auto* out_offsets = reinterpret_cast<int32_t*>(offsets->mutable_data());
  auto* out = reinterpret_cast<char*>(data->mutable_data());
  int32_t at = 0;
  out_offsets[0] = 0;
  for (int64_t i = 0; i < n; ++i) {
    const char* p = reinterpret_cast<const char*>(rows + static_cast<size_t>(i) * stride + offset);
    const size_t len = width == 1 ? (p[0] != 0) : strnlen(p, width);
    std::memcpy(out + at, p, len);
    at += static_cast<int32_t>(len);
    out_offsets[i + 1] = at;
  }
  return arrow::MakeArray(arrow::ArrayData::Make(arrow::utf8(), n, {nullptr, std::move(offsets), arrow::SliceBuffer(data, 0, at)}, 0));
}

void FillValidity(const uint64_t* values, int64_t n, uint8_t* bits) {
  if (n > 0) bits[(n - 1) / 8] = 0;  // the bits past the end stay defined
  for (int64_t i = 0; i < n; ++i) arrow::bit_util::SetBitTo(bits, i, values[i] != kUndefTimestamp);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SymbolMap

void SymbolMap::Add(uint32_t instrument_id, int64_t start_day, int64_t end_day, const std::string& symbol) {
  auto [it, inserted] = symbol_index_.try_emplace(symbol, static_cast<uint32_t>(symbols_.size()));
  if (inserted) symbols_.push_back(symbol);
  max_symbol_size_ = std::max(max_symbol_size_, symbol.size());
  auto& intervals = by_instrument_[instrument_id];
  intervals.push_back(Interval{start_day, end_day, it->second});
  std::stable_sort(intervals.begin(), intervals.end(),
                   [](const Interval& a, const Interval& b) { return a.start_day < b.start_day; });
}

Status SymbolMap::Insert(const Metadata& metadata) {
  const bool in_is_id = metadata.stype_in == uint8_t{0};
  const bool out_is_id = metadata.stype_out == 0;
  if (!in_is_id && !out_is_id) return Status::OK();  // nothing maps to instrument ids
  for (const auto& mapping : metadata.mappings) {
    for (const auto& interval : mapping.intervals) {
      if (interval.symbol.empty()) continue;
      const std::string& id_text = in_is_id ? mapping.raw_symbol : interval.symbol;
      const std::string& symbol = in_is_id ? interval.symbol : mapping.raw_symbol;
      auto id = ParseInstrumentId(id_text);
      if (!id) return Status::Invalid("symbol mapping: '", id_text, "' is not an instrument id");
      Add(*id, DaysFromYmd(interval.start_date), DaysFromYmd(interval.end_date), symbol);
    }
  }
  return Status::OK();
}

void SymbolMap::Insert(const SymbolMappingMsg& record) {
  const std::string in(record.stype_in_symbol, strnlen(record.stype_in_symbol, sizeof record.stype_in_symbol));
  const std::string out(record.stype_out_symbol, strnlen(record.stype_out_symbol, sizeof record.stype_out_symbol));
  const bool out_is_digits = !out.empty() && std::all_of(out.begin(), out.end(), ::isdigit);
  const int64_t start = record.start_ts == kUndefTimestamp ? std::numeric_limits<int64_t>::min()
                                                           : DayOf(record.start_ts);
  const int64_t end = record.end_ts == kUndefTimestamp ? std::numeric_limits<int64_t>::max()
                                                       : DayOf(record.end_ts);
  Add(record.hd.instrument_id, start, end, out_is_digits ? in : out);
}

const std::string* SymbolMap::Resolve(uint32_t instrument_id, uint64_t ts) const {
  if (ts == kUndefTimestamp) return nullptr;
  auto it = by_instrument_.find(instrument_id);
  if (it == by_instrument_.end()) return nullptr;
  const int64_t day = DayOf(ts);
  const auto& intervals = it->second;
  auto next = std::upper_bound(intervals.begin(), intervals.end(), day,
                               [](int64_t d, const Interval& iv) { return d < iv.start_day; });
  if (next == intervals.begin()) return nullptr;
  const Interval& hit = *(next - 1);
  return day < hit.end_day ? &symbols_[hit.symbol] : nullptr;
}

// ---------------------------------------------------------------------------------------------
// BatchBuilder

std::shared_ptr<arrow::Schema> ArrowSchemaOf(const RecordLayout& layout, const ArrowOptions& options,
                                             bool ts_out) {
  arrow::FieldVector fields;
  for (const auto& field : layout.fields) {
    const bool nullable = field.kind == FieldKind::kTimestamp && options.pretty_ts;
    fields.push_back(arrow::field(field.name, TypeOf(field, options), nullable));
  }
  if (ts_out) {
    fields.push_back(arrow::field("ts_out", TypeOf({"ts_out", 0, 8, FieldKind::kTimestamp}, options),
                                  options.pretty_ts));
  }
  if (options.map_symbols) fields.push_back(arrow::field("symbol", arrow::utf8(), true));
  return arrow::schema(std::move(fields));
}

BatchBuilder::BatchBuilder(const RecordLayout& layout, ArrowOptions options, bool ts_out,
                           const SymbolMap* symbols)
    : layout_(layout),
      options_(std::move(options)),
      ts_out_(ts_out),
      symbols_(symbols),
      schema_(ArrowSchemaOf(layout, options_, ts_out)),
      stride_(layout.size + (ts_out ? 8 : 0)) {
  // Touched once here rather than grown per record; a huge batch_size grows it by doubling.
  staging_.resize(static_cast<size_t>(std::min<int64_t>(options_.batch_size, 1 << 16)) * stride_ / 8);
}

void BatchBuilder::Append(const RecordHeader* record) {
  const size_t words = stride_ / 8;
  const size_t at = static_cast<size_t>(rows_) * words;
  // Sized for a batch up front: no per-record resize (and zeroing) unless a caller goes past it.
  if (at + words > staging_.size()) staging_.resize(std::max(at + words, staging_.size() * 2));
  auto* dst = reinterpret_cast<uint8_t*>(staging_.data() + at);
  std::memcpy(dst, record, layout_.size);
  if (ts_out_) std::memcpy(dst + layout_.size, reinterpret_cast<const uint8_t*>(record) + record->size() - 8, 8);
  ++rows_;
}

Result<std::shared_ptr<arrow::RecordBatch>> BatchBuilder::Finish() {
  const int64_t n = rows_;
  const auto* rows = reinterpret_cast<const uint8_t*>(staging_.data());
  std::vector<FieldDesc> ts_out_field;
  if (ts_out_) ts_out_field.push_back({"ts_out", static_cast<uint16_t>(layout_.size), 8, FieldKind::kTimestamp});

  // Every buffer of the batch is a piece of one slab: values, string offsets and data, and
  // the bitmaps of timestamps (which need one only when a value is UNDEF) and symbols.
  std::vector<Column> columns;
  int64_t slab_size = 0;
  for (const std::vector<FieldDesc>* fields : {&layout_.fields, static_cast<const std::vector<FieldDesc>*>(&ts_out_field)}) {
    for (const auto& field : *fields) {
      columns.push_back(Column{&field, field.offset, nullptr});
      if (field.kind == FieldKind::kChar || field.kind == FieldKind::kCStr) {
        slab_size += Aligned((n + 1) * 4) + Aligned(n * field.width);
      } else {
        slab_size += Aligned(n * field.width);
        if (field.kind == FieldKind::kTimestamp) slab_size += Aligned(arrow::bit_util::BytesForBits(n));
      }
    }
  }
  const int64_t symbol_size = symbols_ ? static_cast<int64_t>(symbols_->max_symbol_size()) : 0;
  int64_t widest = symbol_size;
  for (const auto& c : columns) {
    if (c.field->kind == FieldKind::kChar || c.field->kind == FieldKind::kCStr) widest = std::max<int64_t>(widest, c.field->width);
  }
  // String columns take 32-bit offsets.
  if (n * widest > std::numeric_limits<int32_t>::max()) {
    return Status::Invalid("batch_size ", options_.batch_size, " is too large for 32-bit string offsets");
  }
  if (options_.map_symbols) {
    slab_size += Aligned((n + 1) * 4) + Aligned(n * symbol_size) + Aligned(arrow::bit_util::BytesForBits(n));
  }
  if (!slabs_) slabs_ = std::make_shared<SlabCache>();
  ARROW_ASSIGN_OR_RAISE(auto slab_buffer, slabs_->Get(std::max<int64_t>(slab_size, 1)));
  SlabCarver slab(std::move(slab_buffer));
  for (auto& column : columns) {
    if (column.field->kind != FieldKind::kChar && column.field->kind != FieldKind::kCStr) {
      column.values = slab.Take(n * column.field->width);
    }
  }

  // Fixed-width columns are gathered block by block so the rows stay in cache.
  for (int64_t begin = 0; begin < n; begin += kBlockRows) {
    const int64_t end = std::min(n, begin + kBlockRows);
    for (auto& c : columns) {
      if (!c.values) continue;
      uint8_t* out = c.values->mutable_data();
      switch (c.field->kind) {
        case FieldKind::kU8: case FieldKind::kI8:
          Gather(rows, stride_, c.offset, begin, end, out); break;
        case FieldKind::kU16: case FieldKind::kI16:
          Gather(rows, stride_, c.offset, begin, end, reinterpret_cast<uint16_t*>(out)); break;
        case FieldKind::kU32: case FieldKind::kI32:
          Gather(rows, stride_, c.offset, begin, end, reinterpret_cast<uint32_t*>(out)); break;
        case FieldKind::kU64: case FieldKind::kI64:
          Gather(rows, stride_, c.offset, begin, end, reinterpret_cast<uint64_t*>(out)); break;
        case FieldKind::kPrice:
          if (options_.price_type == PriceType::kFloat) {
            GatherPrice(rows, stride_, c.offset, begin, end, reinterpret_cast<double*>(out));
          } else {
            Gather(rows, stride_, c.offset, begin, end, reinterpret_cast<uint64_t*>(out));
          }
          break;
        case FieldKind::kTimestamp:
          c.undef += GatherTimestamp(rows, stride_, c.offset, begin, end, reinterpret_cast<uint64_t*>(out));
          break;
        case FieldKind::kChar: case FieldKind::kCStr: break;
      }
    }
  }

  arrow::ArrayVector arrays;
  for (size_t i = 0; i < columns.size(); ++i) {
    const Column& c = columns[i];
    const auto& type = schema_->field(static_cast<int>(i))->type();
    if (!c.values) {
      arrays.push_back(MakeStrings(rows, stride_, c.offset, c.field->width, n, slab));
      continue;
    }
    std::shared_ptr<arrow::Buffer> validity;
    int64_t nulls = 0;
    if (c.field->kind == FieldKind::kTimestamp && options_.pretty_ts && c.undef > 0) {
      validity = slab.Take(arrow::bit_util::BytesForBits(n));
      FillValidity(reinterpret_cast<const uint64_t*>(c.values->data()), n, validity->mutable_data());
      nulls = c.undef;
    }
    arrays.push_back(arrow::MakeArray(arrow::ArrayData::Make(type, n, {validity, c.values}, nulls)));
  }
  if (options_.map_symbols) {
    // Written straight into the slab: rows come in runs of one instrument and day, so a symbol
    // is resolved only where the run changes.
    const FieldDesc& index = layout_.fields.front();
    const size_t id_offset = offsetof(RecordHeader, instrument_id);
    auto offsets = slab.Take((n + 1) * 4);
    auto data = slab.Take(n * symbol_size);
    auto validity = slab.Take(arrow::bit_util::BytesForBits(n));
    auto* out_offsets = reinterpret_cast<int32_t*>(offsets->mutable_data());
    auto* out = reinterpret_cast<char*>(data->mutable_data());
    uint8_t* bits = validity->mutable_data();
    if (n > 0) bits[(n - 1) / 8] = 0;
    int32_t at = 0;
    int64_t nulls = 0;
    out_offsets[0] = 0;
    const std::string* last = nullptr;
    uint32_t last_id = 0;
    int64_t last_day = std::numeric_limits<int64_t>::min();
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* row = rows + static_cast<size_t>(i) * stride_;
      uint32_t id;
      uint64_t ts;
      std::memcpy(&id, row + id_offset, 4);
      std::memcpy(&ts, row + index.offset, 8);
      const int64_t day = ts == kUndefTimestamp ? -1 : DayOf(ts);
      if (i == 0 || id != last_id || day != last_day) {
        last = symbols_ ? symbols_->Resolve(id, ts) : nullptr;
        last_id = id;
        last_day = day;
      }
      arrow::bit_util::SetBitTo(bits, i, last != nullptr);
      if (last) {
        std::memcpy(out + at, last->data(), last->size());
        at += static_cast<int32_t>(last->size());
      } else {
        ++nulls;
      }
      out_offsets[i + 1] = at;
    }
    arrays.push_back(arrow::MakeArray(arrow::ArrayData::Make(
        arrow::utf8(), n, {nulls > 0 ? validity : nullptr, std::move(offsets), arrow::SliceBuffer(data, 0, at)}, nulls)));
  }
  rows_ = 0;
  return arrow::RecordBatch::Make(schema_, n, std::move(arrays));
}

// ---------------------------------------------------------------------------------------------
// Reader

namespace {

bool IsControlRecord(uint8_t rtype) {
  return rtype == rtype::kSymbolMapping || rtype == rtype::kSystem || rtype == rtype::kError;
}

bool Matches(uint8_t target, uint8_t rtype) {
  if (target == rtype) return true;
  // Old OHLCV files may use the deprecated record type.
  return rtype == rtype::kOhlcvDeprecated && target >= rtype::kOhlcv1S && target <= rtype::kOhlcvEod;
}

class DbnBatchReader : public arrow::RecordBatchReader {
 public:
  static Result<std::shared_ptr<DbnBatchReader>> Make(std::unique_ptr<Decoder> decoder, ArrowOptions options) {
    auto reader = std::shared_ptr<DbnBatchReader>(new DbnBatchReader(std::move(decoder), options));
    ARROW_RETURN_NOT_OK(reader->Init());
    return reader;
  }

  std::shared_ptr<arrow::Schema> schema() const override { return builder_->schema(); }
  const RecordLayout& layout() const { return *LayoutOf(target_); }
  const std::map<std::string, int64_t>& skipped() const { return skipped_; }

  Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    *batch = nullptr;
    while (!done_ && builder_->rows() < options_.batch_size) {
      ARROW_ASSIGN_OR_RAISE(const RecordHeader* record, decoder_->Next());
      if (record == nullptr) {
        done_ = true;
        break;
      }
      ARROW_RETURN_NOT_OK(Accept(record));
    }
    if (builder_->rows() == 0) return Status::OK();
    ARROW_ASSIGN_OR_RAISE(*batch, builder_->Finish());
    return Status::OK();
  }

 private:
  DbnBatchReader(std::unique_ptr<Decoder> decoder, ArrowOptions options)
      : decoder_(std::move(decoder)), options_(options) {}

  Status Init() {
    const Metadata& metadata = decoder_->metadata();
    if (options_.map_symbols) ARROW_RETURN_NOT_OK(WithPath(symbols_.Insert(metadata), decoder_->path()));
    std::optional<Schema> schema = options_.schema ? options_.schema : metadata.schema;
    const RecordHeader* first = nullptr;
    metadata_schema_ = metadata.schema;
    if (schema) {
      target_ = RTypeOf(*schema);
    } else {
      // Mixed or headerless data: convert the type of the first data record.
      while (true) {
        ARROW_ASSIGN_OR_RAISE(first, decoder_->Next());
        if (first == nullptr) {
          return Status::Invalid(decoder_->path(),
                                 ": no schema in the metadata and no data records to infer one from");
        }
        if (!IsControlRecord(first->rtype) && LayoutOf(first->rtype) != nullptr) break;
        ARROW_RETURN_NOT_OK(Accept(first));
      }
      target_ = first->rtype == rtype::kOhlcvDeprecated ? rtype::kOhlcv1S : first->rtype;
      inferred_ = true;
    }
    builder_ = std::make_unique<BatchBuilder>(*LayoutOf(target_), options_, metadata.ts_out, &symbols_);
    if (first) ARROW_RETURN_NOT_OK(Accept(first));
    return Status::OK();
  }

  Status Accept(const RecordHeader* record) {
    if (builder_ && Matches(target_, record->rtype)) {
      builder_->Append(record);
      ++converted_;
    } else if (record->rtype == rtype::kSymbolMapping && options_.map_symbols) {
      symbols_.Insert(*reinterpret_cast<const SymbolMappingMsg*>(record));
    } else if (builder_ && inferred_ && !IsControlRecord(record->rtype) && LayoutOf(record->rtype) != nullptr) {
      return MixedSchemas(record->rtype);
    } else if (!IsControlRecord(record->rtype)) {
      // A record the metadata's schema does not allow is a damaged or mislabeled file; with
      // a schema the caller chose (one type out of a mixed file) the others are counted.
      if (!options_.schema && !inferred_) {
        return decoder_->FailAtRecord(Status::Invalid(
            "a ", RTypeName(record->rtype), " record in a file whose metadata says ", SchemaName(*metadata_schema_),
            " (read a mixed file by naming a schema: schema=... in Python, --schema on the command line)"));
      }
      ++skipped_[RTypeName(record->rtype)];
    }
    return Status::OK();
  }

  // A file of several record types read without a schema: converting the first type alone
  // would drop the others silently, so count every type and ask for one.
  Status MixedSchemas(uint8_t other) {
    std::map<std::string, int64_t> counts;
    counts[RTypeName(target_)] += converted_;
    counts[RTypeName(other)] += 1;
    while (true) {
      ARROW_ASSIGN_OR_RAISE(const RecordHeader* record, decoder_->Next());
      if (record == nullptr) break;
      if (IsControlRecord(record->rtype) || LayoutOf(record->rtype) == nullptr) continue;
      const uint8_t type = record->rtype == rtype::kOhlcvDeprecated ? rtype::kOhlcv1S : record->rtype;
      counts[RTypeName(Matches(target_, record->rtype) ? target_ : type)] += 1;
    }
    std::string listed;
    for (const auto& [name, count] : counts) listed += fmt::format("{}{}: {} records", listed.empty() ? "" : ", ", name, count);
    return Status::Invalid(decoder_->path(), ": the file mixes record types (", listed,
                           ") and names no schema; read one type by naming its schema (schema=... in Python, --schema on the command line)");
  }

  std::unique_ptr<Decoder> decoder_;
  ArrowOptions options_;
  SymbolMap symbols_;
  uint8_t target_ = 0;
  bool inferred_ = false;  // no schema given or in the metadata: the first record's type
  int64_t converted_ = 0;
  std::map<std::string, int64_t> skipped_;  // data records of other types, by type
  std::optional<Schema> metadata_schema_;
  std::unique_ptr<BatchBuilder> builder_;
  bool done_ = false;
};

}  // namespace

Result<std::shared_ptr<arrow::RecordBatchReader>> OpenDbnReader(std::unique_ptr<Decoder> decoder,
                                                                ArrowOptions options) {
  if (options.batch_size <= 0) return Status::Invalid("batch_size must be positive");
  ARROW_ASSIGN_OR_RAISE(auto reader, DbnBatchReader::Make(std::move(decoder), options));
  return reader;
}

const RecordLayout* ConvertedLayout(const arrow::RecordBatchReader& reader) {
  const auto* dbn = dynamic_cast<const DbnBatchReader*>(&reader);
  return dbn ? &dbn->layout() : nullptr;
}

std::map<std::string, int64_t> SkippedRecords(const arrow::RecordBatchReader& reader) {
  const auto* dbn = dynamic_cast<const DbnBatchReader*>(&reader);
  return dbn ? dbn->skipped() : std::map<std::string, int64_t>{};
}

Result<std::shared_ptr<arrow::RecordBatchReader>> OpenDbnReader(const std::string& path, ArrowOptions options,
                                                                DecoderOptions decoder_options) {
  ARROW_ASSIGN_OR_RAISE(auto decoder, Decoder::Open(path, decoder_options));
  return OpenDbnReader(std::move(decoder), options);
}

std::string MetadataToJson(const Metadata& m) {
  nlohmann::ordered_json j;
  j["version"] = m.version;
  j["dataset"] = m.dataset;
  j["schema"] = m.schema ? nlohmann::ordered_json(std::string(SchemaName(*m.schema))) : nullptr;
  j["start"] = m.start;
  j["end"] = m.end == kUndefTimestamp ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(m.end);
  j["limit"] = m.limit == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(m.limit);
  j["stype_in"] = m.stype_in ? nlohmann::ordered_json(std::string(STypeName(*m.stype_in))) : nullptr;
  j["stype_out"] = std::string(STypeName(m.stype_out));
  j["ts_out"] = m.ts_out;
  j["symbol_cstr_len"] = m.symbol_cstr_len;
  j["symbols"] = m.symbols;
  j["partial"] = m.partial;
  j["not_found"] = m.not_found;
  auto& mappings = j["mappings"] = nlohmann::ordered_json::array();
  for (const auto& mapping : m.mappings) {
    auto intervals = nlohmann::ordered_json::array();
    for (const auto& iv : mapping.intervals) {
      intervals.push_back({{"start_date", iv.start_date}, {"end_date", iv.end_date}, {"symbol", iv.symbol}});
    }
    mappings.push_back({{"raw_symbol", mapping.raw_symbol}, {"intervals", std::move(intervals)}});
  }
  return j.dump();
}

}  // namespace tickforge::dbn
