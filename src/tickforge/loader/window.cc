// Book windows (window_internal.h): the columns, their training statistics and the file that
// keeps them beside the datasets, the normalized segments and the batch's strided copy.
#include "tickforge/loader/window_internal.h"

#include <arrow/api.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "tickforge/dbn/schema.h"
#include "tickforge/loader/read_internal.h"
#include "tickforge/util/config.h"
#include "tickforge/util/io.h"
#include "tickforge/util/random.h"
#include "tickforge/util/time.h"

namespace tickforge::loader::internal {
namespace {

using dbn::BookField;

constexpr int64_t kUndefinedPrice = std::numeric_limits<int64_t>::max();

// Visit every cell of rows [begin, end) of the dataset at `path`, row group by row group:
// fn(row, column, value) with value as CellValue gives it.
// With `with_ts`, ts(row, ts_event) is called for each row first.
template <typename Fn, typename Ts = void (*)(int64_t, int64_t)>
Status ForEachCell(const std::string& path, int64_t begin, int64_t end, int levels, Fn&& fn, bool with_ts = false,
                   Ts&& ts = [](int64_t, int64_t) {}) {
  auto names = WindowColumns(levels);
  const int width = 4 * levels;
  if (with_ts) names.emplace_back(dataset::kTsEventColumn);
  const int64_t step = dataset::kRowGroupRows;
  for (int64_t from = begin; from < end; from += step) {
    const int64_t to = std::min(end, from + step);
    ARROW_ASSIGN_OR_RAISE(auto table, ReadRows(path, from, to, names));
    ARROW_ASSIGN_OR_RAISE(auto chunks, ChunksOf(*table));
    int64_t row = from;
    for (const auto& chunk : chunks) {
      if (with_ts) {
        const auto& column = static_cast<const arrow::TimestampArray&>(*chunk->column(width));
        for (int64_t i = 0; i < chunk->num_rows(); ++i) ts(row + i, column.Value(i));
      }
      for (int c = 0; c < width; ++c) {
        const bool is_price = c % 2 == 0;
        const auto& column = *chunk->column(c);
        if (is_price) {
          if (column.type_id() != arrow::Type::INT64) {
            return Status::Invalid(path, ": column '", names[size_t(c)], "' is ", column.type()->ToString(), ", expected int64");
          }
          const int64_t* v = static_cast<const arrow::Int64Array&>(column).raw_values();
          for (int64_t i = 0; i < chunk->num_rows(); ++i) fn(row + i, c, CellValue(true, v[i]));
        } else {
          if (column.type_id() != arrow::Type::UINT32) {
            return Status::Invalid(path, ": column '", names[size_t(c)], "' is ", column.type()->ToString(), ", expected uint32");
          }
          const uint32_t* v = static_cast<const arrow::UInt32Array&>(column).raw_values();
          for (int64_t i = 0; i < chunk->num_rows(); ++i) fn(row + i, c, static_cast<double>(v[i]));
        }
      }
      row += chunk->num_rows();
    }
  }
  return Status::OK();
}

nlohmann::json StatsJson(const ColumnStats& s, const std::string& file) {
  nlohmann::json out = {{"file", file}, {"rows", s.rows}, {"train_rows", s.train_rows}};
  if (s.day_first_row.empty()) {
    out["mean"] = s.mean;
    out["std"] = s.std;
  } else {
    out["day_first_row"] = s.day_first_row;
    out["day_mean"] = s.day_mean;
    out["day_std"] = s.day_std;
  }
  return out;
}

// Shifted sums of a column's defined values: mean and variance without the cancellation of
// raw sums for prices far from zero, and sums of several days add up.
struct Sums {
  std::vector<double> s1, s2;
  std::vector<int64_t> count;
  explicit Sums(size_t columns) : s1(columns, 0), s2(columns, 0), count(columns, 0) {}
  void Add(const Sums& o) {
    for (size_t i = 0; i < s1.size(); ++i) {
      s1[i] += o.s1[i];
      s2[i] += o.s2[i];
      count[i] += o.count[i];
    }
  }
  // Append each column's mean and population std (0 and 0 for a column without values).
  void Finish(const std::vector<double>& shift, std::vector<double>& mean, std::vector<double>& std) const {
    mean.clear();
    std.clear();
    for (size_t i = 0; i < s1.size(); ++i) {
      if (count[i] == 0) {
        mean.push_back(0);
        std.push_back(0);
        continue;
      }
      const double n = static_cast<double>(count[i]);
      const double m = s1[i] / n;
      mean.push_back(shift[i] + m);
      std.push_back(std::sqrt(std::max(0.0, s2[i] / n - m * m)));
    }
  }
};

}  // namespace

std::vector<std::string> WindowColumns(int levels) {
  std::vector<std::string> out;
  for (int l = 0; l < levels; ++l) {
    for (auto field : {BookField::kAskPx, BookField::kAskSz, BookField::kBidPx, BookField::kBidSz}) {
      out.push_back(dbn::BookColumnName(field, l));
    }
  }
  return out;
}

double CellValue(bool is_price, int64_t raw) {
  if (!is_price) return static_cast<double>(raw);
  if (raw == kUndefinedPrice) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(raw) / 1e9;
}

Result<ColumnStats> ComputeStats(const std::string& path, int64_t rows, int64_t train_rows, int levels) {
  const auto columns = static_cast<size_t>(4 * levels);
  std::vector<double> shift(columns, std::numeric_limits<double>::quiet_NaN());
  Sums sums(columns);
  ARROW_RETURN_NOT_OK(ForEachCell(path, 0, train_rows, levels, [&](int64_t, int c, double x) {
    if (std::isnan(x)) return;
    const auto i = static_cast<size_t>(c);
    if (sums.count[i] == 0) shift[i] = x;
    const double d = x - shift[i];
    sums.s1[i] += d;
    sums.s2[i] += d * d;
    ++sums.count[i];
  }));
  ColumnStats out{.rows = rows, .train_rows = train_rows};
  sums.Finish(shift, out.mean, out.std);
  return out;
}

Result<ColumnStats> ComputeRollingStats(const std::string& path, int64_t rows, int levels) {
  const auto columns = static_cast<size_t>(4 * levels);
  std::vector<double> shift(columns, std::numeric_limits<double>::quiet_NaN());
  std::vector<bool> have_shift(columns, false);
  std::vector<int64_t> days;  // UTC day of each group
  std::vector<Sums> by_day;
  ColumnStats out{.rows = rows};
  ARROW_RETURN_NOT_OK(ForEachCell(
      path, 0, rows, levels,
      [&](int64_t row, int c, double x) {
        if (std::isnan(x)) return;
        const auto i = static_cast<size_t>(c);
        if (!have_shift[i]) {
          shift[i] = x;
          have_shift[i] = true;
        }
        const auto& starts = out.day_first_row;
        auto& sums = by_day[static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), row) - starts.begin() - 1)];
        const double d = x - shift[i];
        sums.s1[i] += d;
        sums.s2[i] += d * d;
        ++sums.count[i];
      },
      /*with_ts=*/true,
      [&](int64_t row, int64_t ts) {
        // Rows come row group by row group, each group's timestamps before its cells, and
        // ts_event is sorted: a new day starts a new group of sums.
        const int64_t day = FloorDiv(ts, kNanosPerDay);
        if (days.empty() || day != days.back()) {
          days.push_back(day);
          by_day.emplace_back(columns);
          out.day_first_row.push_back(row);
        }
      }));
  out.day_mean.resize(days.size());
  out.day_std.resize(days.size());
  for (size_t d = 1; d < days.size(); ++d) {
    Sums past(columns);
    for (size_t p = d > static_cast<size_t>(kRollingDays) ? d - kRollingDays : 0; p < d; ++p) past.Add(by_day[p]);
    past.Finish(shift, out.day_mean[d], out.day_std[d]);
  }
  return out;
}

Result<std::shared_ptr<const WindowStats>> LoadOrComputeStats(const SampleIndex& index, const LoaderOptions& options) {
  const auto path = std::filesystem::path(options.StatsDir()) / kWindowStatsFile;
  nlohmann::json doc = nlohmann::json::object();
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    ARROW_ASSIGN_OR_RAISE(doc, config::LoadFile(path.string()));
    if (!doc.is_object()) return Status::Invalid(path.string(), ": not a JSON object (delete it to recompute)");
  }
  // Entries are keyed by what they depend on: the levels and the training cut (as rows).
  const bool rolling = Rolling(options);
  const std::string key = rolling ? fmt::format("levels={},rolling_days={}", options.levels, kRollingDays)
                                  : fmt::format("levels={}", options.levels);
  auto& entries = doc[key];
  if (!entries.is_object()) entries = nlohmann::json::object();
  auto stats = std::make_shared<WindowStats>();
  bool changed = false;
  for (size_t s = 0; s < index.datasets.size(); ++s) {
    const auto& dataset = index.datasets[s];
    const auto& name = index.names[s];
    const auto file = std::filesystem::path(dataset.path).filename().string();
    ColumnStats found;
    bool have = false;
    if (entries.contains(name)) {
      const auto& e = entries[name];
      try {
        if (rolling && e.at("file") == file && e.at("rows") == dataset.rows) {
          found = {.rows = dataset.rows,
                   .day_first_row = e.at("day_first_row").get<std::vector<int64_t>>(),
                   .day_mean = e.at("day_mean").get<std::vector<std::vector<double>>>(),
                   .day_std = e.at("day_std").get<std::vector<std::vector<double>>>()};
          have = !found.day_first_row.empty() && found.day_mean.size() == found.day_first_row.size() &&
                 found.day_std.size() == found.day_first_row.size();
          for (size_t d = 1; have && d < found.day_mean.size(); ++d) {
            have = found.day_mean[d].size() == static_cast<size_t>(4 * options.levels) &&
                   found.day_std[d].size() == found.day_mean[d].size();
          }
        } else if (!rolling && e.at("file") == file && e.at("rows") == dataset.rows &&
                   e.at("train_rows") == dataset.train_rows) {
          found = {.rows = dataset.rows, .train_rows = dataset.train_rows,
                   .mean = e.at("mean").get<std::vector<double>>(), .std = e.at("std").get<std::vector<double>>()};
          have = found.mean.size() == static_cast<size_t>(4 * options.levels) && found.std.size() == found.mean.size();
        }
      } catch (const nlohmann::json::exception& e) {
        return Status::Invalid(path.string(), ": entry ", key, "/", name, ": ", e.what(), " (delete it to recompute)");
      }
    }
    if (!have && rolling) {
      ARROW_ASSIGN_OR_RAISE(found, ComputeRollingStats(dataset.path, dataset.rows, options.levels));
      entries[name] = StatsJson(found, file);
      changed = true;
    } else if (!have) {
      if (dataset.train_rows == 0) {
        return Status::Invalid(dataset.path, ": no rows before the training cut to take normalization statistics from");
      }
      ARROW_ASSIGN_OR_RAISE(found, ComputeStats(dataset.path, dataset.rows, dataset.train_rows, options.levels));
      entries[name] = StatsJson(found, file);
      changed = true;
    }
    stats->symbols.push_back(std::move(found));
  }
  if (changed) {
    doc["columns"] = "per level: ask_px, ask_sz, bid_px, bid_sz; prices in units (fixed point / 1e9)";
    ARROW_ASSIGN_OR_RAISE(auto out, AtomicFile::Create(path));
    const std::string text = doc.dump(1) + "\n";
    ARROW_RETURN_NOT_OK(out->stream()->Write(text.data(), static_cast<int64_t>(text.size())));
    ARROW_RETURN_NOT_OK(WithPath(out->Commit(), path.string()));
  }
  return std::shared_ptr<const WindowStats>(std::move(stats));
}

Result<std::shared_ptr<Segment>> MakeWindowSegment(const std::string& path, int64_t first, int64_t n, int levels,
                                                   const ColumnStats& stats, bool zscore) {
  auto segment = std::make_shared<Segment>();
  segment->first = first;
  const int64_t width = 4 * levels;
  segment->window_rows.resize(static_cast<size_t>(n * width));
  float* out = segment->window_rows.data();
  if (!stats.day_first_row.empty()) {
    // Rolling: each row with its day's statistics (the index draws no window reaching into the
    // first day, which has none; its rows are written unnormalized).
    const auto& starts = stats.day_first_row;
    ARROW_RETURN_NOT_OK(ForEachCell(path, first, first + n, levels, [&](int64_t row, int c, double x) {
      const auto d = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), row) - starts.begin() - 1);
      const auto& mean = stats.day_mean[d];
      out[(row - first) * width + c] =
          mean.empty() ? Normalize(x, 0, 1, false) : Normalize(x, mean[size_t(c)], stats.day_std[d][size_t(c)], true);
    }));
  } else {
    ARROW_RETURN_NOT_OK(ForEachCell(path, first, first + n, levels, [&](int64_t row, int c, double x) {
      out[(row - first) * width + c] = Normalize(x, stats.mean[size_t(c)], stats.std[size_t(c)], zscore);
    }));
  }
  segment->bytes = n * width * static_cast<int64_t>(sizeof(float));
  return segment;
}

Status RenderWindows(const SampleIndex& index, const LoaderOptions& options, SegmentCache& cache,
                     const uint32_t* plan, Batch& batch) {
  const int64_t T = options.window;
  const int64_t width = 4 * options.levels;
  const bool zscore = options.normalization != Normalization::kNone;
  batch.size = options.batch_size;
  batch.features.resize(static_cast<size_t>(batch.size * T * width));
  batch.labels.resize(static_cast<size_t>(batch.size));
  batch.symbols.resize(static_cast<size_t>(batch.size));
  batch.rows.resize(static_cast<size_t>(batch.size));
  batch.ts_event.resize(static_cast<size_t>(batch.size));
  batch.sequence.resize(static_cast<size_t>(batch.size));
  for (int64_t i = 0; i < batch.size; ++i) {
    const Sample& sample = index.samples[plan[i]];
    const auto& dataset = index.datasets[static_cast<size_t>(sample.symbol)];
    const auto& stats = index.window_stats->symbols[static_cast<size_t>(sample.symbol)];
    float* out = batch.features.data() + i * T * width;
    // Rows t-T+1..t, a contiguous range: one copy per cached segment it spans.
    for (int64_t row = sample.row - T + 1; row <= sample.row;) {
      const int64_t c = row / kRawSegmentRows;
      const uint64_t key = MixSeeds({static_cast<uint64_t>(sample.symbol), 3, static_cast<uint64_t>(c)});
      ARROW_ASSIGN_OR_RAISE(auto segment, cache.Get(key, ReadBytes(kRawSegmentRows), [&]() -> Result<std::shared_ptr<const Segment>> {
        const int64_t first = c * kRawSegmentRows;
        const int64_t end = std::min(dataset.rows, first + kRawSegmentRows);
        return MakeWindowSegment(dataset.path, first, end - first, options.levels, stats, zscore);
      }));
      const int64_t last = std::min(sample.row, segment->first + kRawSegmentRows - 1);
      std::memcpy(out, segment->window_rows.data() + (row - segment->first) * width,
                  static_cast<size_t>((last - row + 1) * width) * sizeof(float));
      out += (last - row + 1) * width;
      row = last + 1;
    }
    batch.Describe(i, sample);
  }
  return Status::OK();
}

}  // namespace tickforge::loader::internal
