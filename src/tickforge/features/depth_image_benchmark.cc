// Depth-image rendering from precomputed bins (Google Benchmark): the loader's inner loop at
// its default stride, one image at a time into a batch-sized ring of outputs, so the images go
// to memory as the loader's do.
#include <benchmark/benchmark.h>

#include <random>

#include "tickforge/dbn/records.h"
#include "tickforge/features/depth_image.h"

namespace tickforge::features {
namespace {

struct Bins {
  BinAggregates aggregates;
  std::vector<int64_t> mids;  ///< per bin, the mid of its last row
};

// The bins of a random-walk book around 0.65 (fixed point, 0.5 micro-pip ticks, so adjacent
// levels often share a micro-pip row) with gaps in its ladder and an empty bid level now and then.
const Bins& SampleBins(const ImageOptions& options) {
  static const Bins bins = [&options] {
    constexpr int64_t kRows = 300'000;
    std::mt19937_64 rng(7);
    std::array<std::vector<int64_t>, kLevels> bid_px, ask_px;
    std::array<std::vector<uint32_t>, kLevels> bid_sz, ask_sz, bid_ct, ask_ct;
    std::vector<int64_t> mids;
    int64_t mid = 650'000'000;
    for (int64_t r = 0; r < kRows; ++r) {
      mid += (static_cast<int64_t>(rng() % 3) - 1) * 5000;
      mids.push_back(mid);
      for (int l = 0; l < kLevels; ++l) {
        const bool empty = rng() % 50 == 0;
        bid_px[l].push_back(empty ? dbn::kUndefPrice : mid - 5000 * (l + 1 + static_cast<int64_t>(rng() % 2)));
        ask_px[l].push_back(mid + 5000 * (l + 1 + static_cast<int64_t>(rng() % 2)));
        bid_sz[l].push_back(static_cast<uint32_t>(1 + rng() % 100));
        ask_sz[l].push_back(static_cast<uint32_t>(1 + rng() % 100));
        bid_ct[l].push_back(static_cast<uint32_t>(1 + rng() % 5));
        ask_ct[l].push_back(static_cast<uint32_t>(1 + rng() % 5));
      }
    }
    Book book;
    book.rows = kRows;
    for (int l = 0; l < kLevels; ++l) {
      book.bid_px[l] = bid_px[l].data();
      book.ask_px[l] = ask_px[l].data();
      book.bid_sz[l] = bid_sz[l].data();
      book.ask_sz[l] = ask_sz[l].data();
      book.bid_ct[l] = bid_ct[l].data();
      book.ask_ct[l] = ask_ct[l].data();
    }
    ImageOptions all = options;
    all.features = {Feature::kVolume, Feature::kVariance, Feature::kTradeCounts};
    Bins out;
    out.aggregates = Aggregate(book, 0, kRows / options.ticks_per_bin, all);
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
