// Depth-image rendering from precomputed bins (Google Benchmark): the loader's inner loop at
// its default stride, one image at a time into a batch-sized ring of outputs, so the images go
// to memory as the loader's do.
#include <benchmark/benchmark.h>

#include <random>

#include "tickforge/features/render_bins.h"
#include "tickforge/testing/random_book.h"

namespace tickforge::features {
namespace {

struct Bins {
  BinAggregates aggregates;
  std::vector<int64_t> mids;  ///< per bin, the mid of its last row
};

// The bins (all three features) of a random-walk book of 300,000 rows.
const Bins& SampleBins(const ImageOptions& options) {
  static const Bins bins = [&options] {
    const testing::OwnedBook owned = testing::RandomBook(300'000, 7);
    const Book book = owned.View();
    ImageOptions all = options;
    all.features = {Feature::kVolume, Feature::kVariance, Feature::kTradeCounts};
    Bins out;
    out.aggregates = Aggregate(book, 0, book.rows / options.ticks_per_bin, all);
    for (int64_t b = 0; b < out.aggregates.bins(); ++b) {
      out.mids.push_back(MidMicroPips(book, (b + 1) * options.ticks_per_bin - 1, options));
    }
    return out;
  }();
  return bins;
}

// Render random samples of the book's bins (its first state.range(0) features), each through
// the function render(options, bins) returns, called as draw(last_bin, out); render's own work
// (such as sorting the bins) is not timed.
template <typename RenderFn>
void RenderSamples(benchmark::State& state, RenderFn render) {
  ImageOptions options;
  const std::vector<Feature> all = {Feature::kVolume, Feature::kVariance, Feature::kTradeCounts};
  options.features.assign(all.begin(), all.begin() + state.range(0));
  const Bins& bins = SampleBins(options);
  constexpr int kBatch = 32;
  std::vector<float> ring(static_cast<size_t>(options.image_floats()) * kBatch);
  std::mt19937_64 rng(1);
  const int64_t first = options.time_bins - 1, count = bins.aggregates.bins() - first;
  auto draw = render(options, bins);
  int64_t images = 0;
  for (auto _ : state) {
    const int64_t last_bin = first + static_cast<int64_t>(rng() % static_cast<uint64_t>(count));
    float* out = ring.data() + static_cast<size_t>(images % kBatch) * static_cast<size_t>(options.image_floats());
    draw(last_bin, out);
    benchmark::DoNotOptimize(out);
    ++images;
  }
  state.SetItemsProcessed(images);
  state.SetBytesProcessed(images * options.image_floats() * static_cast<int64_t>(sizeof(float)));
}

void BM_RenderFromBins(benchmark::State& state) {
  RenderSamples(state, [](const ImageOptions& options, const Bins& bins) {
    return [&options, &bins](int64_t last_bin, float* out) {
      RenderFromBins(bins.aggregates, last_bin, bins.mids[static_cast<size_t>(last_bin)], options, out);
    };
  });
}
BENCHMARK(BM_RenderFromBins)->Arg(1)->Arg(3)->Unit(benchmark::kMicrosecond);

// The same samples with every bin's levels sorted once beforehand, as the loader's segments
// hold them.
void BM_RenderFromSortedBins(benchmark::State& state) {
  SortedBins sorted;
  std::vector<const BinCell*> columns;
  std::vector<const SortedBin*> levels;
  RenderSamples(state, [&](const ImageOptions& options, const Bins& bins) {
    sorted = SortedBins::Of(bins.aggregates.cells.data(), bins.aggregates.bins(), options);
    columns.resize(static_cast<size_t>(options.time_bins));
    levels.resize(static_cast<size_t>(options.time_bins));
    return [&](int64_t last_bin, float* out) {
      for (int k = 0; k < options.time_bins; ++k) {
        const int64_t b = last_bin - options.time_bins + 1 + k;
        columns[static_cast<size_t>(k)] = &bins.aggregates.at(b, 0, 0);
        levels[static_cast<size_t>(k)] = sorted.at(b);
      }
      RenderFromBinPointers(columns.data(), bins.mids[static_cast<size_t>(last_bin)], options, out,
                            PlaneScale::kMaxAbs, levels.data());
    };
  });
}
BENCHMARK(BM_RenderFromSortedBins)->Arg(1)->Arg(3)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tickforge::features
