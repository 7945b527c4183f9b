// Depth-image rendering from precomputed bins (Google Benchmark): the loader's inner loop at
// its default stride, one image at a time into a batch-sized ring of outputs, so the images go
// to memory as the loader's do.
#include <benchmark/benchmark.h>

#include <random>

#include "tickforge/features/depth_image.h"
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

void BM_RenderFromBins(benchmark::State& state) {
  ImageOptions options;
  const std::vector<Feature> all = {Feature::kVolume, Feature::kVariance, Feature::kTradeCounts};
  options.features.assign(all.begin(), all.begin() + state.range(0));
  const Bins& bins = SampleBins(options);
  constexpr int kBatch = 32;
  std::vector<float> ring(static_cast<size_t>(options.image_floats()) * kBatch);
  std::mt19937_64 rng(1);
  const int64_t first = options.time_bins - 1, count = bins.aggregates.bins() - first;
  int64_t images = 0;
  for (auto _ : state) {
    const int64_t last_bin = first + static_cast<int64_t>(rng() % static_cast<uint64_t>(count));
    float* out = ring.data() + static_cast<size_t>(images % kBatch) * static_cast<size_t>(options.image_floats());
    RenderFromBins(bins.aggregates, last_bin, bins.mids[static_cast<size_t>(last_bin)], options, out);
    benchmark::DoNotOptimize(out);
    ++images;
  }
  state.SetItemsProcessed(images);
  state.SetBytesProcessed(images * options.image_floats() * static_cast<int64_t>(sizeof(float)));
}
BENCHMARK(BM_RenderFromBins)->Arg(1)->Arg(3)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tickforge::features
