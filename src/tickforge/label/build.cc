// The per-symbol build: one symbol's series streamed from its parts, each row's movement given
// out as soon as its forward window is complete (MovementSeries), classed against the
// boundaries and written, chunk by chunk, as a labeled dataset through dataset/.
#include "tickforge/label/build_internal.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <string>

#include "tickforge/dataset/dataset.h"
#include "tickforge/label/movement.h"
#include "tickforge/label/series_internal.h"

namespace tickforge::label::internal {

Result<SymbolResult> BuildSymbol(const SymbolInfo& info, const std::vector<double>& boundaries,
                                 const LabelConfig& config, const std::function<bool(int32_t, int64_t)>& in_fit,
                                 const std::shared_ptr<arrow::Schema>& base_schema,
                                 const std::filesystem::path& path, const std::vector<MidColumn>& mid,
                                 int size_scale) {
  // Readers need the label horizon the dataset was built with (the loader's purged splits) and
  // the features it is meant for (render's default).
  const dataset::LabelMetadata base_meta{.lookback_rows = config.lookback_rows,
                                          .lookforward_input = config.lookforward_input,
                                          .lookforward_offset = config.lookforward_offset,
                                          .nbins = config.nbins,
                                          .mode = std::string(ModeName(config.mode)),
                                          .features = config.features};
  dataset::LabelMetadata label_meta = base_meta;
  // What the images need to read the sizes and prices in units (docs/books.md).
  label_meta.size_scale = size_scale;
  label_meta.micro_pip_size = config.micro_pip_size.value_or(0);
  for (const auto& m : mid) {
    label_meta.midprice.push_back({.column = m.spec.Column(),
                                   .scheme = std::string(MidSchemeName(m.spec.scheme)),
                                   .horizon = m.spec.horizon,
                                   .smoothing = m.spec.h(),
                                   .downsample = m.spec.downsample,
                                   .alpha = m.alpha});
  }
  ARROW_ASSIGN_OR_RAISE(auto schema, dataset::MakeSchema(*base_schema, label_meta));
  ARROW_ASSIGN_OR_RAISE(auto out, dataset::CreateFile(path, schema));

  SymbolResult result;
  result.classes_fit.assign(static_cast<size_t>(config.nbins), 0);
  result.classes_rest.assign(static_cast<size_t>(config.nbins), 0);
  MovementSeries series(config.lookback_rows, config.lookforward_offset, config.lookforward_input, info.valid);
  // Each mid-price column streams beside the movement; a chunk goes out once all are known.
  std::vector<MidpriceSeries> mid_series;
  std::vector<std::deque<double>> mid_values(mid.size());
  for (const auto& m : mid) mid_series.emplace_back(m.spec, info.valid);
  result.mid_fit.assign(mid.size(), std::vector<int64_t>(3, 0));
  result.mid_rest.assign(mid.size(), std::vector<int64_t>(3, 0));
  const auto all_emitted = [&] {
    int64_t n = series.emitted();
    for (const auto& m : mid_series) n = std::min(n, m.emitted());
    return n;
  };

  std::deque<Chunk> pending;  // chunks waiting for the movements of their last rows
  int64_t pending_start = 0;  // series index of pending.front()'s first row
  std::deque<double> movements;  // from pending_start on

  const auto emit = [&](const Chunk& chunk) -> Status {
    const int64_t n = chunk.rows->num_rows();
    arrow::DoubleBuilder movement_builder;
    arrow::UInt8Builder label_builder;
    ARROW_RETURN_NOT_OK(movement_builder.Reserve(n));
    ARROW_RETURN_NOT_OK(label_builder.Reserve(n));
    for (int64_t i = 0; i < n; ++i) {
      const double m = movements.front();
      movements.pop_front();
      if (std::isnan(m)) {
        movement_builder.UnsafeAppendNull();
        label_builder.UnsafeAppendNull();
      } else {
        const int label = Digitize(m, boundaries);
        movement_builder.UnsafeAppend(m);
        label_builder.UnsafeAppend(static_cast<uint8_t>(label));
        ++result.labeled;
        auto& counts = in_fit(chunk.file[static_cast<size_t>(i)], pending_start + i) ? result.classes_fit
                                                                                      : result.classes_rest;
        ++counts[static_cast<size_t>(label)];
      }
    }
    ARROW_ASSIGN_OR_RAISE(auto movement_array, movement_builder.Finish());
    ARROW_ASSIGN_OR_RAISE(auto label_array, label_builder.Finish());
    auto columns = chunk.rows->columns();
    columns.push_back(movement_array);
    columns.push_back(label_array);
    for (size_t c = 0; c < mid.size(); ++c) {
      arrow::UInt8Builder builder;
      ARROW_RETURN_NOT_OK(builder.Reserve(n));
      for (int64_t i = 0; i < n; ++i) {
        const double l = mid_values[c].front();
        mid_values[c].pop_front();
        if (std::isnan(l)) {
          builder.UnsafeAppendNull();
          continue;
        }
        const int cls = MidClass(l, mid[c].alpha);
        builder.UnsafeAppend(static_cast<uint8_t>(cls));
        auto& counts = in_fit(chunk.file[static_cast<size_t>(i)], pending_start + i) ? result.mid_fit[c]
                                                                                      : result.mid_rest[c];
        ++counts[static_cast<size_t>(cls)];
      }
      ARROW_ASSIGN_OR_RAISE(auto array, builder.Finish());
      columns.push_back(std::move(array));
    }
    ARROW_RETURN_NOT_OK(out->Write(*arrow::RecordBatch::Make(schema, n, std::move(columns))));
    pending_start += n;
    return Status::OK();
  };

  SeriesReader reader(info, std::numeric_limits<int>::max(), {});
  while (true) {
    ARROW_ASSIGN_OR_RAISE(auto chunk, reader.Next());
    if (!chunk) break;
    const auto& bid = Column<arrow::Int64Array>(*chunk->rows, kBestBid);
    const auto& ask = Column<arrow::Int64Array>(*chunk->rows, kBestAsk);
    for (int64_t i = 0; i < chunk->rows->num_rows(); ++i) {
      const int64_t s = bid.Value(i) + ask.Value(i);
      series.Push(s, [&](double m, bool) { movements.push_back(m); });
      for (size_t c = 0; c < mid.size(); ++c) mid_series[c].Push(s, [&](double l) { mid_values[c].push_back(l); });
    }
    pending.push_back(std::move(*chunk));
    while (!pending.empty() && pending_start + pending.front().rows->num_rows() <= all_emitted()) {
      ARROW_RETURN_NOT_OK(emit(pending.front()));
      pending.pop_front();
    }
  }
  if (!pending.empty()) return Status::Invalid("internal: rows left without a movement for ", info.symbol);
  ARROW_ASSIGN_OR_RAISE(result.output_bytes, out->Close());
  return result;
}

}  // namespace tickforge::label::internal
