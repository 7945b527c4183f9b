#include "tickforge/loader/index_internal.h"

#include <arrow/api.h>
#include <parquet/arrow/reader.h>
#include <parquet/statistics.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tickforge/dataset/dataset.h"
#include "tickforge/loader/read_internal.h"
#include "tickforge/loader/window_internal.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/time.h"

namespace tickforge::loader::internal {
namespace {

struct TimeRange {
  int64_t min = INT64_MAX;
  int64_t max = INT64_MIN;
};

// Widen `range` to the ts_event of the dataset at `path`: from the row groups' statistics, or
// in files written without them, from the (sorted) column itself.
Status AddTimeRange(const std::string& path, TimeRange& range) {
  const std::string ts_column(dataset::kTsEventColumn);
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path, {.pool = ReadPool()}));
  const auto metadata = reader->parquet_reader()->metadata();
  const int ts_index = metadata->schema()->ColumnIndex(ts_column);
  if (ts_index < 0) return Status::Invalid(path, ": no column '", ts_column, "' (is this a label build dataset?)");
  bool have_stats = true;
  TimeRange local;
  for (int g = 0; g < metadata->num_row_groups(); ++g) {
    auto stats = metadata->RowGroup(g)->ColumnChunk(ts_index)->statistics();
    if (!stats || !stats->HasMinMax()) {
      have_stats = false;
      break;
    }
    auto typed = std::static_pointer_cast<parquet::Int64Statistics>(stats);
    local.min = std::min(local.min, typed->min());
    local.max = std::max(local.max, typed->max());
  }
  if (!have_stats && metadata->num_rows() > 0) {
    ARROW_ASSIGN_OR_RAISE(auto ts, ReadRows(path, 0, metadata->num_rows(), {ts_column}));
    const auto& chunks = ts->column(0)->chunks();
    local.min = static_cast<const arrow::TimestampArray&>(*chunks.front()).Value(0);
    const auto& last = static_cast<const arrow::TimestampArray&>(*chunks.back());
    local.max = last.Value(last.length() - 1);
  }
  range.min = std::min(range.min, local.min);
  range.max = std::max(range.max, local.max);
  return Status::OK();
}

// Return whether a dataset holds order counts: some bid_ct_00 or ask_ct_00 above 0 by the row
// groups' statistics (a file without them is taken to hold counts). Depth streams that carry
// none write 0 (docs/books.md).
bool HasOrderCounts(const parquet::FileMetaData& metadata) {
  for (const char* name : {"bid_ct_00", "ask_ct_00"}) {
    const int column = metadata.schema()->ColumnIndex(name);
    if (column < 0) return true;
    for (int g = 0; g < metadata.num_row_groups(); ++g) {
      auto stats = std::dynamic_pointer_cast<parquet::Int32Statistics>(metadata.RowGroup(g)->ColumnChunk(column)->statistics());
      if (!stats || !stats->HasMinMax() || stats->max() != 0) return true;
    }
  }
  return metadata.num_rows() == 0;
}

// Keep the micro_pip_size a dataset records; datasets that record different ones cannot share
// one image grid, and that is an error naming two of them.
Status NoteRecordedImage(const std::optional<dataset::LabelMetadata>& metadata, const std::string& path,
                         std::string& recorded_by, SampleIndex& index) {
  if (!metadata || metadata->micro_pip_size <= 0) return Status::OK();
  if (index.micro_pip_size > 0 && index.micro_pip_size != metadata->micro_pip_size) {
    return Status::Invalid(path, " records micro_pip_size ", metadata->micro_pip_size, ", ", recorded_by, " ",
                           index.micro_pip_size, "; pass micro_pip_size to serve them together");
  }
  index.micro_pip_size = metadata->micro_pip_size;
  recorded_by = path;
  return Status::OK();
}

// The datasets of `found` that `symbols` names (all when empty); an unknown symbol is an error
// listing the known ones.
Result<std::map<std::string, std::string>> Choose(std::map<std::string, std::string> found,
                                                  const std::vector<std::string>& symbols,
                                                  const std::string& dir) {
  if (symbols.empty()) return found;
  std::map<std::string, std::string> chosen;
  for (const auto& symbol : symbols) {
    auto it = found.find(symbol);
    if (it == found.end()) {
      std::string known;
      for (const auto& [name, _] : found) known += (known.empty() ? "" : ", ") + name;
      return Status::KeyError("unknown symbol '", symbol, "' (datasets in ", dir, ": ", known, ")");
    }
    chosen.insert(*it);
  }
  return chosen;
}

}  // namespace

int64_t SampleIndex::bytes() const {
  auto total = static_cast<int64_t>(samples.capacity() * sizeof(Sample));
  for (const auto& indices : by_class) total += static_cast<int64_t>(indices.capacity() * sizeof(uint32_t));
  return total;
}

RowBounds SplitBounds(std::string_view split, int64_t rows, int64_t window_rows, int64_t horizon, int64_t r1,
                      int64_t r2) {
  RowBounds b{window_rows - 1, rows - 1};
  if (split == "train") {
    b.hi = std::min(b.hi, r1 - 1 - horizon);
  } else if (split == "val") {
    b.lo = std::max(b.lo, r1 + window_rows - 1);
    b.hi = std::min(b.hi, r2 - 1 - horizon);
  } else if (split == "test") {
    b.lo = std::max(b.lo, r2 + window_rows - 1);
  }
  return b;
}

Result<SampleIndex> BuildIndex(const LoaderOptions& options) {
  ARROW_ASSIGN_OR_RAISE(auto found, options.dataset_files.empty() ? dataset::Discover(options.parquet_dir)
                                                                   : dataset::DiscoverFiles(options.dataset_files));
  ARROW_ASSIGN_OR_RAISE(auto chosen, Choose(found, options.symbols, options.parquet_dir));
  SampleIndex index;
  index.all_ranks = options.sampling == Sampling::kNatural;
  const bool lenient = options.strictness == Strictness::kLenient;
  // A dataset that fails: strict, the error (naming it); lenient, it is left out and listed.
  const auto skip = [&](const std::string& path, const Status& status) -> Status {
    const Status named = WithPath(status, path);
    if (!lenient) return named;
    index.skipped.push_back({path, Describe(named)});
    for (auto* map : {&found, &chosen}) {
      for (auto it = map->begin(); it != map->end();) it = it->second == path ? map->erase(it) : std::next(it);
    }
    return Status::OK();
  };
  // Split cuts come from every dataset of the directory, so they do not move with `symbols`.
  TimeRange range;
  for (const auto& [symbol, path] : std::map(found)) {
    if (Status st = AddTimeRange(path, range); !st.ok()) ARROW_RETURN_NOT_OK(skip(path, st));
  }

  const int64_t W_features = options.feature_rows();
  // The label served: classification_label, or a column of label build's (a mid-price label).
  const std::string label_column =
      options.label_column.empty() ? std::string(dataset::kLabelColumn) : options.label_column;
  int64_t label_behind = 0;  // rows before a sample its label reads
  // Pass 1: metadata only: row counts, schema, label horizon.
  int64_t horizon = -1;
  int nbins = 0;
  std::string recorded_micro_pip;  // the dataset that recorded index.micro_pip_size
  const bool wants_trade_counts =
      !options.snapshots() && std::count(options.image.features.begin(), options.image.features.end(),
                                         features::Feature::kTradeCounts) > 0;
  std::vector<std::string> no_counts;  // symbols whose datasets hold no order counts
  for (const auto& chosen_entry : std::map(chosen)) {
    // Named references, not a structured binding: clang 14 (the fuzz build) cannot capture those.
    const auto& symbol = chosen_entry.first;
    const auto& path = chosen_entry.second;
    Status st = [&]() -> Status {
      ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path, {.pool = ReadPool()}));
      std::shared_ptr<arrow::Schema> schema;
      ARROW_RETURN_NOT_OK(reader->GetSchema(&schema));
      ARROW_RETURN_NOT_OK(dataset::CheckSchema(*schema, path));
      ARROW_ASSIGN_OR_RAISE(const auto label_metadata, dataset::LabelMetadata::FromSchema(*schema, path));
      if (label_column != dataset::kLabelColumn) {
        const auto field = schema->GetFieldByName(label_column);
        if (!field || !field->type()->Equals(*arrow::uint8())) {
          return Status::Invalid(path, ": no uint8 label column '", label_column, "'");
        }
        const auto* mid = label_metadata ? label_metadata->FindMidprice(label_column) : nullptr;
        if (mid == nullptr) {
          return Status::Invalid(path, ": label column '", label_column, "' is not in its metadata's midprice list");
        }
        horizon = std::max(horizon, mid->rows_ahead());
        label_behind = std::max(label_behind, mid->rows_behind());
        nbins = 3;
      } else if (label_metadata) {
        horizon = std::max(horizon, label_metadata->horizon());
        nbins = std::max(nbins, label_metadata->nbins);
      }
      ARROW_RETURN_NOT_OK(NoteRecordedImage(label_metadata, path, recorded_micro_pip, index));
      if (wants_trade_counts && !HasOrderCounts(*reader->parquet_reader()->metadata())) no_counts.push_back(symbol);
      index.names.push_back(symbol);
      index.datasets.push_back({path, reader->parquet_reader()->metadata()->num_rows()});
      return Status::OK();
    }();
    if (!st.ok()) ARROW_RETURN_NOT_OK(skip(path, st));
  }
  if (!no_counts.empty()) {
    index.warnings.push_back(fmt::format(
        "trade_counts requested, but the datasets of {} hold no order counts (every bid_ct_00/ask_ct_00 is 0: "
        "a depth stream without them, e.g. Binance or Bybit); that plane is all zeros there",
        fmt::join(no_counts, ", ")));
  }
  // The purge covers the features' window and whatever of the past the label reads.
  const int64_t W = std::max(W_features, label_behind + 1);
  if (!options.split.empty() && horizon < 0) {
    return Status::Invalid("split='", options.split,
                           "' needs the label horizon, which these datasets do not record; rebuild them with label build");
  }
  const double span = static_cast<double>(range.max) - static_cast<double>(range.min);
  const auto cut1 = static_cast<int64_t>(static_cast<double>(range.min) + options.split_fractions[0] * span);
  const auto cut2 = static_cast<int64_t>(static_cast<double>(range.min) +
                                         (options.split_fractions[0] + options.split_fractions[1]) * span);

  // Pass 2: labels, timestamps and sequence numbers of each dataset, row group by row group
  // as read (never copied into one array). Ranks take disjoint shares by a seeded hash of
  // (symbol, row), the same every epoch.
  if (index.datasets.size() > static_cast<size_t>(INT16_MAX)) {
    return Status::Invalid(options.parquet_dir, ": ", index.datasets.size(), " symbol datasets; at most ", INT16_MAX,
                           " are served at once (choose some with symbols=)");
  }
  // At stride 1 the index holds a sample per row: reserve it once (this rank's expected share
  // of all windows) rather than let it grow by doubling, and fit it afterwards if a split
  // took fewer.
  auto& samples = index.samples;
  int64_t windows = 0;
  for (const auto& dataset : index.datasets) windows += std::max<int64_t>(0, (dataset.rows - W) / options.stride + 1);
  samples.reserve(static_cast<size_t>(std::min<double>(
      static_cast<double>(windows), static_cast<double>(windows) * options.sample_fraction / (index.all_ranks ? 1 : options.world_size) * 1.05 +
                                              1024)));
  int64_t total = 0;  // samples of all ranks
  const auto keep_limit = static_cast<uint64_t>(std::ldexp(options.sample_fraction, 64) - 1);
  const std::vector<std::string> columns = {label_column, std::string(dataset::kTsEventColumn),
                                            std::string(dataset::kSequenceColumn)};
  for (size_t s = 0; s < index.datasets.size();) {
    const std::string path = index.datasets[s].path;
    auto read = ReadRows(path, 0, index.datasets[s].rows, columns);
    Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> chunked =
        read.ok() ? ChunksOf(**read) : Result<std::vector<std::shared_ptr<arrow::RecordBatch>>>(read.status());
    if (!chunked.ok()) {
      ARROW_RETURN_NOT_OK(skip(path, chunked.status()));
      index.names.erase(index.names.begin() + static_cast<ptrdiff_t>(s));
      index.datasets.erase(index.datasets.begin() + static_cast<ptrdiff_t>(s));
      continue;
    }
    auto chunks = *std::move(chunked);
    // The split cuts as rows: the first at or after each cut (ts_event is sorted).
    const auto first_at = [&chunks](int64_t cut) {
      int64_t offset = 0;
      for (const auto& chunk : chunks) {
        const auto& ts = static_cast<const arrow::TimestampArray&>(*chunk->column(1));
        const int64_t* begin = ts.raw_values();
        const int64_t at = std::lower_bound(begin, begin + ts.length(), cut) - begin;
        if (at < ts.length()) return offset + at;
        offset += ts.length();
      }
      return offset;
    };
    index.datasets[s].train_rows = first_at(cut1);
    auto [lo, hi] = SplitBounds(options.split, index.datasets[s].rows, W, horizon, index.datasets[s].train_rows,
                                first_at(cut2));
    if (Rolling(options) && !chunks.empty() && chunks.front()->num_rows() > 0) {
      // Rolling statistics: the first day has no past days, so no window reaches into it.
      const int64_t first_ts = static_cast<const arrow::TimestampArray&>(*chunks.front()->column(1)).Value(0);
      lo = std::max(lo, first_at((FloorDiv(first_ts, kNanosPerDay) + 1) * kNanosPerDay) + W - 1);
    }
    const uint64_t symbol_hash = Fnv1a64(index.names[s]);
    int64_t start = 0;
    for (const auto& chunk : chunks) {
      const auto& labels = static_cast<const arrow::UInt8Array&>(*chunk->column(0));
      const auto& ts = static_cast<const arrow::TimestampArray&>(*chunk->column(1));
      const auto& seq = static_cast<const arrow::UInt32Array&>(*chunk->column(2));
      const int64_t end = start + chunk->num_rows();
      // Samples are rows W-1, W-1+stride, ...: the first of them in this chunk.
      const int64_t from = std::max(start, W - 1);
      for (int64_t t = W - 1 + (from - (W - 1) + options.stride - 1) / options.stride * options.stride;
           t < end && t <= hi; t += options.stride) {
        if (t < lo || labels.IsNull(t - start)) continue;
        if (options.sample_fraction < 1 && !KeepsRow(options.seed, symbol_hash, t, keep_limit)) continue;
        const uint8_t label = labels.Value(t - start);
        ++total;
        nbins = std::max(nbins, label + 1);
        if (options.world_size > 1 && !index.all_ranks &&
            RankOfRow(options.seed, symbol_hash, t, options.world_size) != static_cast<uint64_t>(options.rank)) {
          continue;
        }
        samples.push_back(Sample{t, ts.Value(t - start), seq.Value(t - start), static_cast<int16_t>(s), label});
      }
      start = end;
    }
    ++s;
  }
  if (samples.capacity() > samples.size() + samples.size() / 4) samples.shrink_to_fit();
  if (samples.size() > UINT32_MAX) {
    return Status::Invalid(options.parquet_dir, ": ", samples.size(), " samples on one rank; at most ", UINT32_MAX,
                           " (raise stride or lower sample_fraction)");
  }
  index.num_classes = nbins;
  // Each class's samples, in index order; the lists are sized exactly.
  std::vector<int64_t> per_class(static_cast<size_t>(index.num_classes), 0);
  for (const auto& sample : samples) ++per_class[sample.label];
  index.by_class.assign(static_cast<size_t>(index.num_classes), {});
  for (int c = 0; c < index.num_classes; ++c) {
    index.by_class[static_cast<size_t>(c)].reserve(static_cast<size_t>(per_class[static_cast<size_t>(c)]));
  }
  for (size_t i = 0; i < samples.size(); ++i) index.by_class[samples[i].label].push_back(static_cast<uint32_t>(i));
  index.batches_per_epoch = total / (options.batch_size * options.world_size);
  if (index.datasets.empty() && !index.skipped.empty()) {
    std::string names;
    for (const auto& skipped : index.skipped) names += "\n  " + skipped.reason;
    return Status::Invalid(options.parquet_dir, ": every dataset was skipped:", names);
  }
  // No sample at all (say, a split in which the chosen symbols have no rows) is an empty epoch;
  // some, but fewer than a batch, is a configuration to point out.
  if (index.batches_per_epoch == 0 && total > 0) {
    return Status::Invalid(options.parquet_dir, ": ", total, " samples",
                           options.split.empty() ? "" : " in split " + options.split,
                           " are fewer than one batch of ", options.batch_size, " per rank");
  }
  if (total == 0) {
    index.warnings.push_back(fmt::format("no samples{}: every epoch is empty (no row of the chosen datasets has its "
                                         "whole window and label horizon there)",
                                         options.split.empty() ? "" : " in split " + options.split));
  }
  // A class no sample of this rank holds has an empty list and is not drawn here: such a rank
  // builds its batches over the classes it has (possible only with rare classes and
  // world_size > 1).
  return index;
}

}  // namespace tickforge::loader::internal
