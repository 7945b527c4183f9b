#include "tickforge/loader/loader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <set>
#include <tuple>

#include "tickforge/loader/segment_cache_internal.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"

namespace tickforge::loader {
namespace {

using testing::DatasetSpec;
using testing::ScopedTempDir;
using testing::WriteLabeledDataset;

// What a batch held, to compare runs.
struct Record {
  int64_t index;
  std::vector<float> features;
  std::vector<int64_t> labels;
  std::vector<int32_t> symbols;
  std::vector<int64_t> rows;
  bool operator==(const Record&) const = default;
};

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Longer than a raw segment (one row group), so off-grid windows span two.
    for (const auto& [symbol, rows, seed] : {std::tuple{"6AM4", int64_t{34000}, uint64_t{1}},
                                             std::tuple{"6EM4", int64_t{6000}, uint64_t{2}}}) {
      DatasetSpec spec;
      spec.symbol = symbol;
      spec.rows = rows;
      spec.seed = seed;
      spec.label = [](int64_t r) { return r % 11 == 0 ? -1 : static_cast<int>(r % 3); };
      ASSERT_OK_AND_ASSIGN(auto path, WriteLabeledDataset(dir_.path(), spec));
      paths_.push_back(path.string());
    }
  }

  LoaderOptions Options() const {
    LoaderOptions o;
    o.parquet_dir = dir_.path().string();
    o.batch_size = 16;
    o.image.time_bins = 8;
    o.image.ticks_per_bin = 10;
    o.stride = 40;
    o.seed = 3;
    o.threads = 2;
    return o;
  }

  static std::vector<Record> Run(Loader& loader, int64_t epoch, int64_t first = 0, int64_t step = 1) {
    std::vector<Record> out;
    EXPECT_TRUE(loader.Start(epoch, first, step).ok());
    while (true) {
      auto next = loader.Next();
      EXPECT_TRUE(next.ok()) << next.status().ToString();
      if (!next.ok() || !*next) break;
      const Batch& b = **next;
      out.push_back(Record{b.index, b.features, b.labels, b.symbols, b.rows});
    }
    return out;
  }

  ScopedTempDir dir_{"loader"};
  std::vector<std::string> paths_;
};

TEST_F(LoaderTest, ImagesEqualRenderingEachSampleAlone) {
  for (const int64_t stride : {40, 7}) {  // on the bin grid (aggregates) and off it (raw rows)
    auto o = Options();
    o.stride = stride;
    ASSERT_OK_AND_ASSIGN(auto loader, Loader::Open(o));
    ASSERT_OK(loader->Start(0));
    int compared = 0;
    for (int b = 0; b < 12; ++b) {
      ASSERT_OK_AND_ASSIGN(auto batch, loader->Next());
      ASSERT_NE(batch, nullptr);
      const int64_t floats = o.image.image_floats();
      for (int64_t i = 0; i < 4; ++i) {  // each image renders from its own read: a few a batch
        const int64_t row = batch->rows[static_cast<size_t>(i)];
        const auto& path = paths_[static_cast<size_t>(batch->symbols[static_cast<size_t>(i)])];
        ASSERT_OK_AND_ASSIGN(auto image, features::RenderDatasetRow(path, row, o.image));
        ASSERT_EQ(std::memcmp(image.data(), batch->features.data() + i * floats, floats * sizeof(float)), 0)
            << "stride " << stride << " row " << row;
        ++compared;
      }
    }
    EXPECT_EQ(compared, 12 * 4);
    loader->Stop();
  }
}

TEST_F(LoaderTest, ResumeAndWorkerSharesRenderThePlannedBatches) {
  ASSERT_OK_AND_ASSIGN(auto loader, Loader::Open(Options()));
  const auto all = Run(*loader, 1);
  ASSERT_EQ(static_cast<int64_t>(all.size()), loader->batches_per_epoch());
  for (size_t b = 0; b < all.size(); ++b) {
    ASSERT_EQ(all[b].index, static_cast<int64_t>(b));
    const auto planned = loader->PlanBatch(1, static_cast<int64_t>(b));
    ASSERT_EQ(planned.size(), 16u);
    for (size_t i = 0; i < planned.size(); ++i) {
      ASSERT_EQ(planned[i].row, all[b].rows[i]);
      ASSERT_EQ(planned[i].symbol, all[b].symbols[i]);
      ASSERT_EQ(planned[i].label, all[b].labels[i]);
    }
  }
  const auto resumed = Run(*loader, 1, 5);
  EXPECT_EQ(resumed, std::vector<Record>(all.begin() + 5, all.end()));
  const auto odd = Run(*loader, 1, 1, 2);
  std::vector<Record> expected;
  for (size_t b = 1; b < all.size(); b += 2) expected.push_back(all[b]);
  EXPECT_EQ(odd, expected);
  EXPECT_NE(Run(*loader, 2), all);
  EXPECT_TRUE(loader->PlanBatch(1, loader->batches_per_epoch()).empty());
  EXPECT_FALSE(loader->Start(0, 0, 0).ok());
}

TEST_F(LoaderTest, ThreadsAndPrefetchDoNotChangeTheBatches) {
  ASSERT_OK_AND_ASSIGN(auto one, Loader::Open(Options()));
  auto o = Options();
  o.threads = 4;
  o.prefetch = 1;
  ASSERT_OK_AND_ASSIGN(auto four, Loader::Open(o));
  EXPECT_EQ(Run(*one, 0), Run(*four, 0));
}

TEST_F(LoaderTest, RanksServeDisjointSharesInEqualBatchCounts) {
  ASSERT_OK_AND_ASSIGN(auto whole, Loader::Open(Options()));
  std::set<std::pair<int, int64_t>> all;
  for (const auto& s : whole->samples()) all.emplace(s.symbol, s.row);
  std::set<std::pair<int, int64_t>> seen;
  size_t held = 0;
  int64_t batches = -1;
  for (int rank = 0; rank < 3; ++rank) {
    auto o = Options();
    o.world_size = 3;
    o.rank = rank;
    ASSERT_OK_AND_ASSIGN(auto loader, Loader::Open(o));
    if (batches < 0) batches = loader->batches_per_epoch();
    EXPECT_EQ(loader->batches_per_epoch(), batches);
    EXPECT_EQ(loader->symbol_names(), whole->symbol_names());
    for (const auto& s : loader->samples()) seen.emplace(s.symbol, s.row);
    held += loader->samples().size();
    // Every batch a rank hands out holds its own samples only.
    const auto recs = Run(*loader, 0);
    EXPECT_EQ(static_cast<int64_t>(recs.size()), batches);
    std::set<std::pair<int, int64_t>> own;
    for (const auto& s : loader->samples()) own.emplace(s.symbol, s.row);
    for (const auto& r : recs) {
      for (size_t i = 0; i < r.rows.size(); ++i) ASSERT_TRUE(own.count({r.symbols[i], r.rows[i]}));
    }
  }
  EXPECT_EQ(seen.size(), held) << "ranks share samples";
  EXPECT_EQ(seen, all);
  EXPECT_EQ(batches, whole->num_samples() / (16 * 3));
}

TEST_F(LoaderTest, CacheHitsOnTheSecondEpochWhenEverythingFits) {
  ASSERT_OK_AND_ASSIGN(auto loader, Loader::Open(Options()));
  Run(*loader, 0);
  const auto first = loader->cache_stats();
  EXPECT_GT(first.misses, 0);
  EXPECT_GT(first.hits, 0);
  EXPECT_EQ(first.evictions, 0);
  EXPECT_LE(first.bytes, Options().cache_bytes);
  Run(*loader, 1);
  const auto second = loader->cache_stats();
  EXPECT_EQ(second.misses, first.misses);
  EXPECT_GT(second.hits, first.hits);
  // Classes as the metadata records them (nbins 5), of which the labels use three.
  const auto counts = loader->class_counts();
  ASSERT_EQ(counts.size(), 5u);
  EXPECT_EQ(counts[3] + counts[4], 0);
  EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), int64_t{0}), 2 * loader->batches_per_epoch() * 16);
}

TEST_F(LoaderTest, ASmallCacheStaysInItsBudgetAndGivesTheSameBatches) {
  auto o = Options();
  o.stride = 7;  // raw segments: a row group each
  o.sample_fraction = 0.1;
  ASSERT_OK_AND_ASSIGN(auto ample, Loader::Open(o));
  const auto expected = Run(*ample, 0);
  // Room for the read of a raw segment, in progress, but not for it beside the 5.5 MB the
  // 34,000-row symbol's first raw segment takes.
  o.cache_bytes = internal::ReadBytes(internal::kRawSegmentRows) + (int64_t{4} << 20);
  o.threads = 1;
  ASSERT_OK_AND_ASSIGN(auto small, Loader::Open(o));
  EXPECT_EQ(Run(*small, 0), expected);
  const auto stats = small->cache_stats();
  EXPECT_GT(stats.evictions, 0);
  EXPECT_LE(stats.bytes, o.cache_bytes);
  EXPECT_EQ(stats.entries + stats.evictions, stats.misses);
}

}  // namespace
}  // namespace tickforge::loader
