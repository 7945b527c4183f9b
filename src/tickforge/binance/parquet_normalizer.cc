// The consolidated-Parquet normalizer: the seed's and Binance's column names -> the normalized ones.
#include "tickforge/binance/parquet_normalizer_internal.h"

#include <arrow/array.h>
#include <arrow/buffer.h>
#include <arrow/compute/api.h>
#include <arrow/io/interfaces.h>
#include <arrow/util/bitmap_ops.h>
#include <parquet/arrow/reader.h>
#include <parquet/properties.h>

#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tickforge/binance/layout_internal.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/time.h"

namespace tickforge::binance {
namespace {

enum class Convert { kTime, kInt, kFloat, kBool, kText, kDerivedUs };

// One normalized column of a consolidated file: the names it may have there (the first found
// wins), how to convert it, and whether a file without it is refused.
struct Target {
  std::string_view name;
  std::vector<std::string_view> aliases;
  Convert convert;
  bool required = false;
  int us_of = -1;  // kDerivedUs: index of the time column it comes from
};

std::vector<Target> TargetsFor(Kind kind) {
  switch (kind) {
    case Kind::kKlines:
      return {
          {"timestamp", {"timestamp", "open_time"}, Convert::kTime, true},
          {"open", {"open"}, Convert::kFloat, true},
          {"high", {"high"}, Convert::kFloat, true},
          {"low", {"low"}, Convert::kFloat, true},
          {"close", {"close"}, Convert::kFloat, true},
          {"volume", {"volume"}, Convert::kFloat, true},
          {"close_time", {"close_time"}, Convert::kTime},
          {"quote_volume", {"quote_volume", "quote_asset_volume"}, Convert::kFloat},
          {"count", {"count", "number_of_trades", "trades"}, Convert::kInt},
          {"taker_buy_volume", {"taker_buy_volume", "taker_buy_base_asset_volume", "taker_buy_base_volume"},
           Convert::kFloat},
          {"taker_buy_quote_volume", {"taker_buy_quote_volume", "taker_buy_quote_asset_volume"}, Convert::kFloat},
          {"ignore", {"ignore"}, Convert::kText},
          {"timestamp_us", {}, Convert::kDerivedUs, false, 0},
          {"close_time_us", {}, Convert::kDerivedUs, false, 6},
      };
    case Kind::kAggTrades:
      return {
          {"timestamp", {"timestamp", "transact_time", "time"}, Convert::kTime, true},
          {"trade_id", {"trade_id", "agg_trade_id"}, Convert::kInt},
          {"trade_price", {"trade_price", "price"}, Convert::kFloat, true},
          {"trade_quantity", {"trade_quantity", "quantity", "qty"}, Convert::kFloat, true},
          {"first_trade_id", {"first_trade_id"}, Convert::kInt},
          {"last_trade_id", {"last_trade_id"}, Convert::kInt},
          {"trade_is_buyer_maker", {"trade_is_buyer_maker", "is_buyer_maker"}, Convert::kBool},
          {"is_best_match", {"is_best_match"}, Convert::kBool},
          {"timestamp_us", {}, Convert::kDerivedUs, false, 0},
      };
    case Kind::kFunding:
      return {
          {"timestamp", {"timestamp", "calc_time", "funding_time"}, Convert::kTime, true},
          {"funding_time", {"funding_time"}, Convert::kTime},
          {"funding_rate", {"funding_rate", "last_funding_rate"}, Convert::kFloat, true},
          {"funding_interval_hours", {"funding_interval_hours"}, Convert::kInt},
          {"timestamp_us", {}, Convert::kDerivedUs, false, 0},
      };
  }
  return {};
}

class ParquetNormalizer : public arrow::RecordBatchReader {
 public:
  static Result<std::shared_ptr<ParquetNormalizer>> Make(std::shared_ptr<arrow::RecordBatchReader> source,
                                                         std::unique_ptr<parquet::arrow::FileReader> file,
                                                         Kind kind, std::string path) {
    auto self = std::shared_ptr<ParquetNormalizer>(new ParquetNormalizer());
    self->source_ = std::move(source);
    self->file_ = std::move(file);
    self->path_ = std::move(path);
    self->targets_ = TargetsFor(kind);
    self->kind_ = kind;
    const auto& in = *self->source_->schema();
    std::vector<bool> used(static_cast<size_t>(in.num_fields()), false);
    for (const auto& t : self->targets_) {
      int found = -1;
      for (const auto& alias : t.aliases) {
        found = in.GetFieldIndex(std::string(alias));
        if (found >= 0) break;
      }
      // A normalized column the source already holds is recomputed, not duplicated.
      const int same = in.GetFieldIndex(std::string(t.name));
      if (same >= 0) used[static_cast<size_t>(same)] = true;
      if (found < 0 && t.required) {
        return Status::Invalid(self->path_, ": required column '", t.name, "' is missing (", KindName(kind),
                               " file; accepted names: ", fmt::format("{}", fmt::join(t.aliases, ", ")), ")");
      }
      if (found >= 0) used[static_cast<size_t>(found)] = true;
      self->sources_.push_back(found);
    }
    auto normalized = NormalizedSchema(kind);
    arrow::FieldVector fields = normalized->fields();
    for (int i = 0; i < in.num_fields(); ++i) {
      if (!used[static_cast<size_t>(i)]) {
        self->extras_.push_back(i);
        fields.push_back(in.field(i));
      }
    }
    self->schema_ = arrow::schema(std::move(fields));
    return self;
  }

  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

  Status ReadNext(std::shared_ptr<arrow::RecordBatch>* out) override {
    std::shared_ptr<arrow::RecordBatch> batch;
    Status status = source_->ReadNext(&batch);
    if (!status.ok()) return WithPath(status, path_);
    if (!batch) {
      *out = nullptr;
      return Status::OK();
    }
    const int64_t n = batch->num_rows();
    std::vector<std::shared_ptr<arrow::Array>> columns(targets_.size());
    std::vector<std::shared_ptr<arrow::Array>> micros(targets_.size());
    for (size_t i = 0; i < targets_.size(); ++i) {
      const auto& t = targets_[i];
      const auto type = schema_->field(static_cast<int>(i))->type();
      if (t.convert == Convert::kDerivedUs) {
        columns[i] = micros[static_cast<size_t>(t.us_of)];
        if (!columns[i]) {
          ARROW_ASSIGN_OR_RAISE(columns[i], arrow::MakeArrayOfNull(type, n));
        }
        continue;
      }
      if (sources_[i] < 0) {
        if (kind_ == Kind::kFunding && t.name == "funding_time") {
          columns[i] = columns[0];  // the seed's funding_time is the funding (calc) time
        } else {
          ARROW_ASSIGN_OR_RAISE(columns[i], arrow::MakeArrayOfNull(type, n));
        }
        continue;
      }
      const auto& src = batch->column(sources_[i]);
      const std::string column = batch->schema()->field(sources_[i])->name();
      if (t.convert == Convert::kTime) {
        ARROW_ASSIGN_OR_RAISE(auto pair, ConvertTime(src, path_, column));
        columns[i] = pair.first;
        micros[i] = pair.second;
        continue;
      }
      if (src->type()->Equals(*type)) {
        columns[i] = src;
        continue;
      }
      auto cast = arrow::compute::Cast(*src, type, arrow::compute::CastOptions::Safe(type));
      if (!cast.ok()) {
        return Status::Invalid(path_, ": column '", column, "': cannot convert ", src->type()->ToString(), " to ",
                               type->ToString(), ": ", cast.status().message());
      }
      columns[i] = *cast;
    }
    for (int extra : extras_) columns.push_back(batch->column(extra));
    *out = arrow::RecordBatch::Make(schema_, n, std::move(columns));
    return Status::OK();
  }

 private:
  ParquetNormalizer() = default;
  std::shared_ptr<arrow::RecordBatchReader> source_;
  std::unique_ptr<parquet::arrow::FileReader> file_;  // owns what source_ reads
  std::string path_;
  Kind kind_ = Kind::kKlines;
  std::vector<Target> targets_;
  std::vector<int> sources_;
  std::vector<int> extras_;
  std::shared_ptr<arrow::Schema> schema_;
};

}  // namespace

Result<std::pair<std::shared_ptr<arrow::Array>, std::shared_ptr<arrow::Array>>> ConvertTime(
    const std::shared_ptr<arrow::Array>& source, const std::string& path, const std::string& column) {
  std::shared_ptr<arrow::Array> ints;
  arrow::TimeUnit::type unit = arrow::TimeUnit::MILLI;
  bool by_magnitude = false;
  if (source->type_id() == arrow::Type::TIMESTAMP) {
    unit = static_cast<const arrow::TimestampType&>(*source->type()).unit();
    ARROW_ASSIGN_OR_RAISE(auto view, source->View(arrow::int64()));
    ints = view;
  } else {
    auto cast = arrow::compute::Cast(*source, arrow::int64(), arrow::compute::CastOptions::Safe(arrow::int64()));
    if (!cast.ok()) {
      return Status::Invalid(path, ": column '", column, "': not a time (int64 ms/µs or timestamp): ",
                             cast.status().message());
    }
    ints = *cast;
    by_magnitude = true;
  }
  const auto& values = static_cast<const arrow::Int64Array&>(*ints);
  const int64_t n = values.length();
  std::vector<int64_t> ms(static_cast<size_t>(n)), us(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (values.IsNull(i)) continue;
    const int64_t v = values.Value(i);
    int64_t m = 0, u = 0;
    bool ok = true;
    if (by_magnitude) {
      ok = SplitTime(v, &m, &u);
    } else {
      switch (unit) {
        case arrow::TimeUnit::SECOND:
          ok = !__builtin_mul_overflow(v, int64_t{1000}, &m) && !__builtin_mul_overflow(v, int64_t{1000000}, &u);
          break;
        case arrow::TimeUnit::MILLI:
          m = v;
          ok = !__builtin_mul_overflow(v, int64_t{1000}, &u);
          break;
        case arrow::TimeUnit::MICRO:
          m = FloorDiv(v, 1000), u = v;
          break;
        case arrow::TimeUnit::NANO:
          m = FloorDiv(v, 1000000), u = FloorDiv(v, 1000);
          break;
      }
    }
    if (!ok) return Status::Invalid(path, ": column '", column, "': time value ", v, " out of range");
    ms[static_cast<size_t>(i)] = m;
    us[static_cast<size_t>(i)] = u;
  }
  auto validity = ints->null_count() > 0 ? ints->data()->buffers[0] : nullptr;
  if (validity && ints->offset() != 0) {
    ARROW_ASSIGN_OR_RAISE(validity, arrow::internal::CopyBitmap(arrow::default_memory_pool(), validity->data(),
                                                                ints->offset(), n));
  }
  auto make = [&](std::vector<int64_t>&& v) {
    return arrow::MakeArray(arrow::ArrayData::Make(arrow::int64(), n,
                                                   {validity, arrow::Buffer::FromVector(std::move(v))},
                                                   ints->null_count()));
  };
  return std::pair{make(std::move(ms)), make(std::move(us))};
}

Result<std::shared_ptr<arrow::RecordBatchReader>> OpenConsolidatedParquet(const std::string& path, Kind kind,
                                                                          const ReadOptions& options) {
  ParquetReadOptions read;
  read.batch_rows = options.batch_rows > 0 ? options.batch_rows : ReadOptions{}.batch_rows;
  read.use_threads = options.use_threads;
  auto file = OpenParquet(path, read);
  if (!file.ok()) {
    // The message already names the file (and a missing one is an I/O error like any other).
    if (file.status().IsIOError()) return file.status();
    return Status::Invalid("not a readable Parquet file: ", file.status().message());
  }
  auto reader = (*file)->GetRecordBatchReader();
  if (!reader.ok()) return Status::Invalid(path, ": ", reader.status().message());
  ARROW_ASSIGN_OR_RAISE(auto normalizer,
                        ParquetNormalizer::Make(std::move(*reader), std::move(*file), kind, path));
  return normalizer;
}

}  // namespace tickforge::binance
