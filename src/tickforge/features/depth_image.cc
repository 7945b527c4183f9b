#include "tickforge/features/depth_image.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/reader.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "tickforge/dataset/dataset.h"
#include "tickforge/features/depth_image_internal.h"
#include "tickforge/features/options.h"
#include "tickforge/features/render_bins.h"
#include "tickforge/dbn/records.h"
#include "tickforge/dbn/schema.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/time.h"

namespace tickforge::features {
namespace {

// Round price/unit half away from zero, in integers.
inline int64_t RoundHalfAway(int64_t price, int64_t unit) {
  const int64_t q = price / unit;
  const int64_t r = price % unit;
  if (2 * (r < 0 ? -r : r) >= unit) return price < 0 ? q - 1 : q + 1;
  return q;
}

int64_t MicroPipUnit(const ImageOptions& options) {
  return std::llround(options.micro_pip_size * static_cast<double>(dbn::kFixedPriceScale));
}

constexpr uint32_t kCountingRange = 512;

// The median of v[0..n) (n >= 1, values in [lo, hi]): the middle value, or the mean of the
// two middle values for an even count; v may be reordered. When the values span a short range
// (book sizes usually do) one histogram in `counts` (2 × kCountingRange entries) yields both
// middle values; otherwise they are selected.
float Median(uint32_t* v, size_t n, uint32_t lo, uint32_t hi, uint32_t* counts) {
  const size_t upper_k = n / 2, lower_k = (n - 1) / 2;  // equal for an odd count
  double lower, upper;
  if (hi - lo < kCountingRange) {
    // Two tables, alternate values in each: runs of equal sizes (common) would otherwise
    // chain every increment on the store of the one before.
    uint32_t* even = counts;
    uint32_t* odd = counts + kCountingRange;
    std::fill(even, even + (hi - lo + 1), 0u);
    std::fill(odd, odd + (hi - lo + 1), 0u);
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
      ++even[v[i] - lo];
      ++odd[v[i + 1] - lo];
    }
    if (i < n) ++even[v[i] - lo];
    uint32_t at = 0;
    size_t seen = even[0] + odd[0];
    while (seen <= lower_k) ++at, seen += even[at] + odd[at];
    lower = lo + at;
    while (seen <= upper_k) ++at, seen += even[at] + odd[at];
    upper = lo + at;
  } else {
    std::nth_element(v, v + upper_k, v + n);
    upper = v[upper_k];
    // nth_element leaves the smaller values before upper_k: the lower middle is their maximum.
    lower = lower_k == upper_k ? upper : *std::max_element(v, v + upper_k);
  }
  return static_cast<float>((lower + upper) / 2);
}

template <typename ArrayType>
Result<const typename ArrayType::value_type*> ValuesOf(const arrow::RecordBatch& batch, const std::string& name,
                                                       const std::shared_ptr<arrow::DataType>& type,
                                                       std::vector<std::shared_ptr<arrow::Array>>& keep) {
  auto column = batch.GetColumnByName(name);
  if (!column) return Status::Invalid("dataset has no column '", name, "'");
  if (!column->type()->Equals(*type)) {
    return Status::Invalid("column '", name, "' is ", column->type()->ToString(), ", expected ", type->ToString(),
                           " (fixed-point prices as label build writes them)");
  }
  if (column->null_count() > 0) return Status::Invalid("column '", name, "' has nulls; book columns never do");
  keep.push_back(column);
  return static_cast<const ArrayType&>(*column).raw_values();
}

}  // namespace

namespace internal {

bool HaveAvx2() {
#if defined(__x86_64__)
  static const bool have = [] {
    __builtin_cpu_init();  // may run before the compiler's own initialization of these checks
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return have;
#else
  return false;
#endif
}

float SampleVariance(const uint32_t* v, size_t n) {
  if (n < 2) return 0;
  double mean = 0;
  for (size_t i = 0; i < n; ++i) mean += v[i];
  mean /= static_cast<double>(n);
  double sq = 0;
  for (size_t i = 0; i < n; ++i) sq += (v[i] - mean) * (v[i] - mean);
  return static_cast<float>(sq / static_cast<double>(n - 1));
}

}  // namespace internal

Result<Feature> FeatureFromName(const std::string& name) {
  if (name == "volume") return Feature::kVolume;
  if (name == "variance") return Feature::kVariance;
  if (name == "trade_counts") return Feature::kTradeCounts;
  return Status::Invalid("unknown feature '", name, "' (volume, variance, trade_counts)");
}

std::string FeatureName(Feature feature) {
  switch (feature) {
    case Feature::kVolume: return "volume";
    case Feature::kVariance: return "variance";
    case Feature::kTradeCounts: return "trade_counts";
  }
  return "";
}

Status ImageOptions::Validate() const {
  if (time_bins < 1) return Status::Invalid("time_bins must be >= 1, got ", time_bins);
  if (ticks_per_bin < 1) return Status::Invalid("ticks_per_bin must be >= 1, got ", ticks_per_bin);
  const double units = micro_pip_size * static_cast<double>(dbn::kFixedPriceScale);
  if (!(units >= 1) || std::abs(units - std::round(units)) > 1e-6) {
    return Status::Invalid(fmt::format("micro_pip_size must be a positive multiple of 1e-9, got {:g}", micro_pip_size));
  }
  if (features.empty()) return Status::Invalid("at least one feature is needed");
  for (size_t i = 0; i < features.size(); ++i) {
    if (std::count(features.begin(), features.end(), features[i]) > 1) {
      return Status::Invalid("feature '", FeatureName(features[i]), "' is listed twice");
    }
  }
  return Status::OK();
}

Result<Book> BookOf(const arrow::RecordBatch& batch) {
  Book book;
  book.rows = batch.num_rows();
  for (int l = 0; l < kLevels; ++l) {
    using dbn::BookField;
    const auto name = [l](BookField field) -> const std::string& { return dbn::BookColumnName(field, l); };
    ARROW_ASSIGN_OR_RAISE(book.bid_px[l], ValuesOf<arrow::Int64Array>(batch, name(BookField::kBidPx), arrow::int64(), book.keep_alive));
    ARROW_ASSIGN_OR_RAISE(book.ask_px[l], ValuesOf<arrow::Int64Array>(batch, name(BookField::kAskPx), arrow::int64(), book.keep_alive));
    ARROW_ASSIGN_OR_RAISE(book.bid_sz[l], ValuesOf<arrow::UInt32Array>(batch, name(BookField::kBidSz), arrow::uint32(), book.keep_alive));
    ARROW_ASSIGN_OR_RAISE(book.ask_sz[l], ValuesOf<arrow::UInt32Array>(batch, name(BookField::kAskSz), arrow::uint32(), book.keep_alive));
    ARROW_ASSIGN_OR_RAISE(book.bid_ct[l], ValuesOf<arrow::UInt32Array>(batch, name(BookField::kBidCt), arrow::uint32(), book.keep_alive));
    ARROW_ASSIGN_OR_RAISE(book.ask_ct[l], ValuesOf<arrow::UInt32Array>(batch, name(BookField::kAskCt), arrow::uint32(), book.keep_alive));
  }
  return book;
}

namespace {

// One side and level of one bin, accumulated over its rows.
struct LevelRows {
  int64_t price_sum = 0;
  uint64_t trades = 0;
  uint32_t lo = UINT32_MAX, hi = 0;  ///< the smallest and largest size
  size_t n = 0;  ///< rows that define the level; their sizes are in the scratch
};


// Add rows [from, to) of micro-pip offsets when every one of them defines the level (the usual
// case); return false, adding nothing, otherwise. Compiled for AVX2, where its loops become a
// few vector instructions per 8 rows; the caller checks the processor has it.
TICKFORGE_TARGET_AVX2 bool AddDefinedRowsAvx2(const int32_t* px, const uint32_t* sz, const uint32_t* ct,
                                                        bool want_trades, int64_t from, int64_t to, int64_t base,
                                                        uint32_t* sizes, LevelRows& acc) {
  int64_t sum = 0;
  int32_t empty = 0;  // a count, not a flag: reductions of counts vectorize
  for (int64_t r = from; r < to; ++r) {
    empty += px[r] == kNoMicroPips;
    sum += px[r];
  }
  if (empty != 0) return false;
  uint32_t lo = acc.lo, hi = acc.hi;
  for (int64_t r = from; r < to; ++r) {
    lo = std::min(lo, sz[r]);
    hi = std::max(hi, sz[r]);
  }
  uint64_t trades = 0;
  if (want_trades) {
    for (int64_t r = from; r < to; ++r) trades += ct[r];
  }
  std::copy(sz + from, sz + to, sizes + acc.n);
  const int64_t rows = to - from;
  acc = LevelRows{acc.price_sum + sum + base * rows, acc.trades + trades, lo, hi, acc.n + static_cast<size_t>(rows)};
  return true;
}


// Add rows [from, to) of one level's columns (a function of its own so the accumulators stay
// in registers). Prices are fixed point (rounded here by `unit`) or micro-pip offsets from
// `base` (unit 1).
template <bool kTrades, typename Price, typename Unit>
inline void AddRows(const Price* px, Price undefined, int64_t base, const uint32_t* sz, const uint32_t* ct,
                    int64_t from, int64_t to, Unit unit, uint32_t* sizes, LevelRows& acc) {
  int64_t price_sum = acc.price_sum;
  uint64_t trades = acc.trades;
  uint32_t lo = acc.lo, hi = acc.hi;
  size_t n = acc.n;
  for (int64_t r = from; r < to; ++r) {
    if (px[r] == undefined) continue;  // the level is empty in this row
    price_sum += RoundHalfAway(px[r], static_cast<int64_t>(unit));
    const uint32_t size = sz[r];
    sizes[n++] = size;
    lo = std::min(lo, size);
    hi = std::max(hi, size);
    if constexpr (kTrades) trades += ct[r];
  }
  price_sum += base * static_cast<int64_t>(n - acc.n);
  acc = LevelRows{price_sum, trades, lo, hi, n};
}

// Aggregate with the micro-pip unit as `Unit`: an integral constant for the default unit, so
// the per-row rounding divides by a constant (a multiply) rather than with a division
// instruction, which dominated the cost of aggregating raw rows.
template <bool kTrades, typename Unit>
void AggregateBins(const std::vector<const Book*>& chunks, const std::vector<int64_t>& starts, int64_t first_row,
                   int64_t bins, const ImageOptions& options, Unit unit, BinCell* cells) {
  const int64_t total_rows = starts.back() + chunks.back()->rows;
  const bool want_volume = std::count(options.features.begin(), options.features.end(), Feature::kVolume) > 0;
  const bool want_variance = std::count(options.features.begin(), options.features.end(), Feature::kVariance) > 0;
  const bool avx2 = internal::HaveAvx2();
  // Scratch reached through plain pointers: a thread_local named in the row loop costs a
  // __tls_get_addr call per use in a shared library.
  thread_local std::vector<uint32_t> sizes_buffer, counts_buffer;
  sizes_buffer.resize(static_cast<size_t>(options.ticks_per_bin));
  counts_buffer.resize(2 * kCountingRange);
  uint32_t* const sizes = sizes_buffer.data();
  uint32_t* const counts = counts_buffer.data();
  // Level by level, each through all bins: two streams of rows at a time (price and size),
  // which the hardware prefetches, rather than forty interleaved ones.
  for (int side = 0; side < 2; ++side) {
    for (int l = 0; l < kLevels; ++l) {
      size_t chunk = 0;
      for (int64_t b = 0; b < bins; ++b) {
        const int64_t begin = first_row + b * options.ticks_per_bin;
        const int64_t end = std::min(begin + options.ticks_per_bin, total_rows);
        while (chunk + 1 < chunks.size() && starts[chunk + 1] <= begin) ++chunk;
        LevelRows acc;
        // The bin's rows in order, chunk by chunk (a bin may straddle a chunk boundary).
        for (size_t c = chunk; c < chunks.size() && starts[c] < end; ++c) {
          const Book& book = *chunks[c];
          const uint32_t* sz = side == 0 ? book.bid_sz[l] : book.ask_sz[l];
          const uint32_t* ct = side == 0 ? book.bid_ct[l] : book.ask_ct[l];
          const int64_t from = std::max(begin, starts[c]) - starts[c];
          const int64_t to = std::min(end, starts[c] + book.rows) - starts[c];
          if (book.micro_pip_prices) {  // rounded already: rounding by 1 is the identity
            if (avx2 && to > from &&
                AddDefinedRowsAvx2(side == 0 ? book.bid_mp[l] : book.ask_mp[l], sz, ct, kTrades, from, to,
                                   book.micro_pip_base, sizes, acc)) {
              continue;
            }
            AddRows<kTrades>(side == 0 ? book.bid_mp[l] : book.ask_mp[l], kNoMicroPips, book.micro_pip_base, sz, ct,
                             from, to, std::integral_constant<int64_t, 1>{}, sizes, acc);
          } else {
            AddRows<kTrades>(side == 0 ? book.bid_px[l] : book.ask_px[l], dbn::kUndefPrice, 0, sz, ct, from, to, unit,
                             sizes, acc);
          }
        }
        BinCell& cell = cells[(b * 2 + side) * kLevels + l];
        cell = BinCell{kNoPrice, 0, 0, 0};
        if (acc.n == 0) continue;
        cell.price = FloorDiv(acc.price_sum, static_cast<int64_t>(acc.n));
        // Unrequested features stay 0: they are never rendered.
        if (want_variance) cell.variance = internal::SampleVariance(sizes, acc.n);
        if (want_volume) cell.volume = Median(sizes, acc.n, acc.lo, acc.hi, counts);  // may reorder sizes: last
        cell.trade_counts = static_cast<float>(acc.trades);
      }
    }
  }
}

// Instantiate AggregateBins for the unit and whether trade counts are wanted.
template <typename Unit>
void AggregateBinsFor(const std::vector<const Book*>& chunks, const std::vector<int64_t>& starts, int64_t first_row,
                      int64_t bins, const ImageOptions& options, Unit unit, BinCell* cells) {
  if (std::count(options.features.begin(), options.features.end(), Feature::kTradeCounts) > 0) {
    AggregateBins<true>(chunks, starts, first_row, bins, options, unit, cells);
  } else {
    AggregateBins<false>(chunks, starts, first_row, bins, options, unit, cells);
  }
}

}  // namespace

BinAggregates Aggregate(const Book& book, int64_t first_row, int64_t bins, const ImageOptions& options) {
  BinAggregates out;
  AggregateChunks({&book}, {0}, first_row, bins, options, out);
  return out;
}

void AggregateChunks(const std::vector<const Book*>& chunks, const std::vector<int64_t>& starts, int64_t first_row,
                     int64_t bins, const ImageOptions& options, BinAggregates& out) {
  out.ticks_per_bin = options.ticks_per_bin;
  out.first_row = first_row;
  out.cells.resize(static_cast<size_t>(bins * 2 * kLevels));  // every cell is written below
  const int64_t unit = MicroPipUnit(options);
  if (unit == 10'000) {  // micro_pip_size 1e-5, the default
    AggregateBinsFor(chunks, starts, first_row, bins, options, std::integral_constant<int64_t, 10'000>{},
                     out.cells.data());
  } else {
    AggregateBinsFor(chunks, starts, first_row, bins, options, unit, out.cells.data());
  }
}

void MicroPipRange(const int64_t* prices, int64_t n, const ImageOptions& options, int64_t& lo, int64_t& hi) {
  const int64_t unit = MicroPipUnit(options);
  for (int64_t i = 0; i < n; ++i) {
    if (prices[i] == dbn::kUndefPrice) continue;
    const int64_t p = RoundHalfAway(prices[i], unit);
    lo = std::min(lo, p);
    hi = std::max(hi, p);
  }
}

void ToMicroPipOffsets(const int64_t* prices, int64_t n, const ImageOptions& options, int64_t base, int32_t* out) {
  const int64_t unit = MicroPipUnit(options);
  for (int64_t i = 0; i < n; ++i) {
    out[i] = prices[i] == dbn::kUndefPrice ? kNoMicroPips : static_cast<int32_t>(RoundHalfAway(prices[i], unit) - base);
  }
}

int64_t MidMicroPips(const Book& book, int64_t t, const ImageOptions& options) {
  const __int128 sum = static_cast<__int128>(book.ask_px[0][t]) + book.bid_px[0][t];
  return static_cast<int64_t>(sum / (2 * static_cast<__int128>(MicroPipUnit(options))));
}


Status Render(const Book& book, int64_t t, const ImageOptions& options, float* out) {
  ARROW_RETURN_NOT_OK(options.Validate());
  const int64_t first = t - options.window_rows() + 1;
  if (first < 0 || t >= book.rows) {
    return Status::IndexError("row ", t, " has no full window of ", options.window_rows(), " rows (dataset has ",
                              book.rows, " rows)");
  }
  const BinAggregates bins = Aggregate(book, first, options.time_bins, options);
  RenderFromBins(bins, options.time_bins - 1, MidMicroPips(book, t, options), options, out);
  return Status::OK();
}

}  // namespace tickforge::features

namespace tickforge::features {

Result<ImageOptions> DatasetImageOptions(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path));
  std::shared_ptr<arrow::Schema> schema;
  ARROW_RETURN_NOT_OK(WithPath(reader->GetSchema(&schema), path));
  ARROW_ASSIGN_OR_RAISE(const auto metadata, dataset::LabelMetadata::FromSchema(*schema, path));
  ImageOptions options;
  if (metadata && !metadata->features.empty()) {
    // The image keys' own reader, so a recorded name is checked as a config's would be.
    ARROW_RETURN_NOT_OK(ImageOptionsTable().Apply(nlohmann::json{{"features", metadata->features}}, &options,
                                                  path + ": tickforge.label metadata"));
  }
  return options;
}

Result<std::vector<float>> RenderDatasetRow(const std::string& path, int64_t row, const ImageOptions& options) {
  ARROW_RETURN_NOT_OK(options.Validate());
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path));
  const int64_t rows = reader->parquet_reader()->metadata()->num_rows();
  const int64_t first = row - options.window_rows() + 1;
  if (row < 0 || row >= rows || first < 0) {
    return Status::IndexError(path, ": row ", row, " has no full window of ", options.window_rows(),
                              " rows (the dataset has ", rows, " rows)");
  }
  ARROW_ASSIGN_OR_RAISE(auto table, dataset::ReadBookRows(*reader, path, first, row + 1));
  ARROW_ASSIGN_OR_RAISE(auto batch, table->CombineChunksToBatch());
  auto book = BookOf(*batch);
  if (!book.ok()) return WithPath(book.status(), path);
  std::vector<float> image(static_cast<size_t>(options.image_floats()));
  ARROW_RETURN_NOT_OK(Render(*book, row - first, options, image.data()));
  return image;
}

Result<int64_t> RowAtOrBefore(const std::string& path, int64_t ts) {
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path));
  std::shared_ptr<arrow::Schema> schema;
  ARROW_RETURN_NOT_OK(reader->GetSchema(&schema));
  const int index = schema->GetFieldIndex(std::string(dataset::kTsEventColumn));
  if (index < 0) return Status::Invalid(path, ": no column ", dataset::kTsEventColumn);
  ARROW_ASSIGN_OR_RAISE(auto table, reader->ReadTable({index}));
  ARROW_ASSIGN_OR_RAISE(auto batch, table->CombineChunksToBatch());
  const auto& column = static_cast<const arrow::TimestampArray&>(*batch->column(0));
  const int64_t* begin = column.raw_values();
  const int64_t* end = begin + column.length();
  const int64_t* at = std::upper_bound(begin, end, ts);
  if (at == begin) return Status::IndexError(path, ": no row at or before ts ", ts);
  return static_cast<int64_t>(at - begin) - 1;
}

}  // namespace tickforge::features
