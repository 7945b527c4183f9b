#include "tickforge/loader/index_internal.h"

#include <arrow/api.h>
#include <parquet/arrow/reader.h>
#include <parquet/statistics.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <utility>

#include "tickforge/dataset/dataset.h"
#include "tickforge/loader/read_internal.h"
#include "tickforge/util/parquet.h"

namespace tickforge::loader::internal {
namespace {

struct TimeRange {
  int64_t min = INT64_MAX;
  int64_t max = INT64_MIN;
};

// The range of ts_event over the datasets: from the row groups' statistics, or in files
// written without them, from the (sorted) column itself.
Result<TimeRange> TimeRangeOf(const std::map<std::string, std::string>& datasets) {
  TimeRange range;
  const std::string ts_column(dataset::kTsEventColumn);
  for (const auto& [symbol, path] : datasets) {
    ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path, {.pool = ReadPool()}));
    const auto metadata = reader->parquet_reader()->metadata();
    const int ts_index = metadata->schema()->ColumnIndex(ts_column);
    if (ts_index < 0) return Status::Invalid(path, ": no column '", ts_column, "' (is this a label build dataset?)");
    bool have_stats = true;
    for (int g = 0; g < metadata->num_row_groups(); ++g) {
      auto stats = metadata->RowGroup(g)->ColumnChunk(ts_index)->statistics();
      if (!stats || !stats->HasMinMax()) {
        have_stats = false;
        break;
      }
      auto typed = std::static_pointer_cast<parquet::Int64Statistics>(stats);
      range.min = std::min(range.min, typed->min());
      range.max = std::max(range.max, typed->max());
    }
    if (!have_stats && metadata->num_rows() > 0) {
      ARROW_ASSIGN_OR_RAISE(auto ts, ReadRows(path, 0, metadata->num_rows(), {ts_column}));
      const auto& chunks = ts->column(0)->chunks();
      range.min = std::min(range.min, static_cast<const arrow::TimestampArray&>(*chunks.front()).Value(0));
      const auto& last = static_cast<const arrow::TimestampArray&>(*chunks.back());
      range.max = std::max(range.max, last.Value(last.length() - 1));
    }
  }
  return range;
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
  // Split cuts come from every dataset of the directory, so they do not move with `symbols`.
  ARROW_ASSIGN_OR_RAISE(const TimeRange range, TimeRangeOf(found));
  ARROW_ASSIGN_OR_RAISE(found, Choose(std::move(found), options.symbols, options.parquet_dir));

  SampleIndex index;
  const int64_t W = options.image.window_rows();
  // Pass 1: metadata only: row counts, schema, label horizon.
  int64_t horizon = -1;
  int nbins = 0;
  for (const auto& [symbol, path] : found) {
    ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path, {.pool = ReadPool()}));
    std::shared_ptr<arrow::Schema> schema;
    ARROW_RETURN_NOT_OK(reader->GetSchema(&schema));
    ARROW_RETURN_NOT_OK(dataset::CheckSchema(*schema, path));
    ARROW_ASSIGN_OR_RAISE(const auto label_metadata, dataset::LabelMetadata::FromSchema(*schema, path));
    if (label_metadata) {
      horizon = std::max(horizon, label_metadata->horizon());
      nbins = std::max(nbins, label_metadata->nbins);
    }
    index.names.push_back(symbol);
    index.datasets.push_back({path, reader->parquet_reader()->metadata()->num_rows()});
  }
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
      static_cast<double>(windows), static_cast<double>(windows) * options.sample_fraction / options.world_size * 1.05 + 1024)));
  int64_t total = 0;  // samples of all ranks
  const auto keep_limit = static_cast<uint64_t>(std::ldexp(options.sample_fraction, 64) - 1);
  const std::vector<std::string> columns = {std::string(dataset::kLabelColumn), std::string(dataset::kTsEventColumn),
                                            std::string(dataset::kSequenceColumn)};
  for (size_t s = 0; s < index.datasets.size(); ++s) {
    const auto& path = index.datasets[s].path;
    ARROW_ASSIGN_OR_RAISE(auto table, ReadRows(path, 0, index.datasets[s].rows, columns));
    ARROW_ASSIGN_OR_RAISE(auto chunks, ChunksOf(*table));
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
    const auto [lo, hi] = SplitBounds(options.split, index.datasets[s].rows, W, horizon, first_at(cut1), first_at(cut2));
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
        if (options.world_size > 1 &&
            RankOfRow(options.seed, symbol_hash, t, options.world_size) != static_cast<uint64_t>(options.rank)) {
          continue;
        }
        samples.push_back(Sample{t, ts.Value(t - start), seq.Value(t - start), static_cast<int16_t>(s), label});
      }
      start = end;
    }
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
  // No sample at all (say, a split in which the chosen symbols have no rows) is an empty epoch;
  // some, but fewer than a batch, is a configuration to point out.
  if (index.batches_per_epoch == 0 && total > 0) {
    return Status::Invalid(options.parquet_dir, ": ", total, " samples",
                           options.split.empty() ? "" : " in split " + options.split,
                           " are fewer than one batch of ", options.batch_size, " per rank");
  }
  // A class no sample of this rank holds has an empty list and is not drawn here: such a rank
  // builds its batches over the classes it has (possible only with rare classes and
  // world_size > 1).
  return index;
}

}  // namespace tickforge::loader::internal
