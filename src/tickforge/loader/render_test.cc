#include "tickforge/loader/render_internal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"

namespace tickforge::loader::internal {
namespace {

using testing::DatasetSpec;
using testing::ScopedTempDir;
using testing::WriteLabeledDataset;

// Windows that span two cache segments render as the rows do: across an aggregates segment's
// end on the bin grid, across a raw segment's (a row group's) end off it.
TEST(RenderBatchTest, WindowsAcrossSegmentsEqualRenderingFromTheRows) {
  ScopedTempDir dir("loader_render");
  DatasetSpec spec;
  spec.rows = 34000;
  spec.label = [](int64_t) { return 0; };
  ASSERT_OK_AND_ASSIGN(const auto path, WriteLabeledDataset(dir.path(), spec));
  for (const int64_t stride : {10, 1}) {
    LoaderOptions o;
    o.parquet_dir = dir.path().string();
    o.batch_size = 6;
    o.image.time_bins = 8;
    o.image.ticks_per_bin = 10;
    o.image.features = {features::Feature::kVolume, features::Feature::kTradeCounts};
    o.stride = stride;
    ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
    const int64_t W = o.image.window_rows();
    const int64_t bin_segment_end = kBinsPerSegment * o.image.ticks_per_bin;  // 5,120
    const std::vector<int64_t> rows = stride == 1
        ? std::vector<int64_t>{kRawSegmentRows - 1, kRawSegmentRows + 5, kRawSegmentRows + W - 2, W - 1, 33999,
                               kRawSegmentRows - W}
        : std::vector<int64_t>{bin_segment_end + 9, bin_segment_end + W - 11, 2 * bin_segment_end + 39, W - 1,
                               33999, 6 * bin_segment_end - 1};
    std::vector<uint32_t> plan;
    for (const int64_t row : rows) {
      const auto it = std::find_if(index.samples.begin(), index.samples.end(),
                                   [&](const Sample& s) { return s.row == row; });
      ASSERT_NE(it, index.samples.end()) << row;
      plan.push_back(static_cast<uint32_t>(it - index.samples.begin()));
    }
    SegmentCache cache(int64_t{1} << 30);
    Batch batch;
    ASSERT_OK(RenderBatch(index, o, cache, plan.data(), batch));
    ASSERT_EQ(batch.size, 6);
    const int64_t floats = o.image.image_floats();
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(batch.rows[i], rows[i]);
      EXPECT_EQ(batch.symbols[i], 0);
      EXPECT_EQ(batch.labels[i], 0);
      EXPECT_EQ(batch.ts_event[i], spec.first_ts + rows[i] * spec.ts_step);
      EXPECT_EQ(batch.sequence[i], static_cast<uint32_t>(rows[i]));
      ASSERT_OK_AND_ASSIGN(auto image, features::RenderDatasetRow(path.string(), rows[i], o.image));
      EXPECT_EQ(std::memcmp(image.data(), batch.features.data() + static_cast<int64_t>(i) * floats,
                            floats * sizeof(float)),
                0)
          << "stride " << stride << " row " << rows[i];
    }
    // The batch's windows touched each segment once: later windows of the same segment hit.
    const auto stats = cache.stats();
    EXPECT_GT(stats.hits, 0);
    EXPECT_EQ(stats.entries, stats.misses);
  }
}

// Off the bin grid under the default shuffle, windows look their bins up in sliding segments
// (a bin per start row): windows of every phase, with a bin that straddles two row groups
// (aggregated from the edge rows the segments keep), that end at the dataset's last row, or
// start at its first, render as the rows do, with all three features.
TEST(RenderBatchTest, SlidingSegmentsOfEveryPhaseEqualRenderingFromTheRows) {
  ScopedTempDir dir("loader_render_sliding");
  DatasetSpec spec;
  spec.rows = 2 * kSlideSegmentRows + 1234;
  spec.label = [](int64_t) { return 0; };
  ASSERT_OK_AND_ASSIGN(const auto path, WriteLabeledDataset(dir.path(), spec));
  LoaderOptions o;
  o.parquet_dir = dir.path().string();
  o.image.time_bins = 6;
  o.image.ticks_per_bin = 7;
  o.image.features = {features::Feature::kVolume, features::Feature::kVariance, features::Feature::kTradeCounts};
  o.stride = 1;
  ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
  const int64_t W = o.image.window_rows();
  std::vector<int64_t> rows = {W - 1, spec.rows - 1, spec.rows - 2, kSlideSegmentRows - 1, 2 * kSlideSegmentRows + W};
  // Every phase of a window whose bins cross the first segment's end.
  for (int64_t phase = 0; phase < 7; ++phase) rows.push_back(kSlideSegmentRows + 20 + phase);
  // Windows whose last bin straddles it (its mid is in the next row group's head rows).
  for (int64_t row = kSlideSegmentRows; row < kSlideSegmentRows + 6; ++row) rows.push_back(row);
  o.batch_size = static_cast<int64_t>(rows.size());
  std::vector<uint32_t> plan;
  for (const int64_t row : rows) plan.push_back(static_cast<uint32_t>(row - (W - 1)));  // stride 1: row order
  for (size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(index.samples[plan[i]].row, rows[i]);
  SegmentCache cache(int64_t{1} << 30);
  Batch batch;
  ASSERT_OK(RenderBatch(index, o, cache, plan.data(), batch));
  const int64_t floats = o.image.image_floats();
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(auto image, features::RenderDatasetRow(path.string(), rows[i], o.image));
    EXPECT_EQ(std::memcmp(image.data(), batch.features.data() + static_cast<int64_t>(i) * floats,
                          floats * sizeof(float)),
              0)
        << "row " << rows[i];
  }
  // One sliding segment per row group, each made once.
  const auto stats = cache.stats();
  EXPECT_EQ(stats.misses, 3);
  EXPECT_EQ(stats.entries, 3);
}

// shuffle='local' off the bin grid renders from the same sliding segments: windows across
// 640-row blocks (once phase segments of 64 bins), raw segments and every phase render as the
// rows do.
TEST(RenderBatchTest, PhaseSegmentsOfLocalShuffleEqualRenderingFromTheRows) {
  ScopedTempDir dir("loader_render_phase");
  DatasetSpec spec;
  spec.rows = 70000;  // two raw segments
  spec.label = [](int64_t) { return 0; };
  ASSERT_OK_AND_ASSIGN(const auto path, WriteLabeledDataset(dir.path(), spec));
  LoaderOptions o;
  o.parquet_dir = dir.path().string();
  o.image.time_bins = 8;
  o.image.ticks_per_bin = 10;
  o.image.features = {features::Feature::kVolume, features::Feature::kVariance};
  o.stride = 1;
  o.locality = true;
  ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
  const int64_t W = o.image.window_rows();
  const int64_t phase_rows = 64 * o.image.ticks_per_bin;  // 640
  std::vector<int64_t> rows = {W - 1, kRawSegmentRows - 1, kRawSegmentRows + 5, kRawSegmentRows + W - 2,
                               69999, phase_rows + 3, phase_rows + W - 7};
  for (int64_t phase = 0; phase < 10; ++phase) rows.push_back(3 * phase_rows + phase + 30);  // every phase
  for (int64_t phase = 0; phase < 10; ++phase) rows.push_back(3 * phase_rows + phase + 50);  // again: hits
  o.batch_size = static_cast<int64_t>(rows.size());
  std::vector<uint32_t> plan;
  for (const int64_t row : rows) plan.push_back(static_cast<uint32_t>(row - (W - 1)));  // stride 1: row order
  for (size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(index.samples[plan[i]].row, rows[i]);
  SegmentCache cache(int64_t{1} << 30);
  Batch batch;
  ASSERT_OK(RenderBatch(index, o, cache, plan.data(), batch));
  const int64_t floats = o.image.image_floats();
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(auto image, features::RenderDatasetRow(path.string(), rows[i], o.image));
    EXPECT_EQ(std::memcmp(image.data(), batch.features.data() + static_cast<int64_t>(i) * floats,
                          floats * sizeof(float)),
              0)
        << "row " << rows[i];
  }
  // The second window of each phase found its phase's segments made by the first.
  const auto before = cache.stats();
  Batch again;
  ASSERT_OK(RenderBatch(index, o, cache, plan.data(), again));
  EXPECT_EQ(again.features, batch.features);
  EXPECT_EQ(cache.stats().misses, before.misses) << "everything cached";
}

TEST(BatchPoolTest, ReleasedBatchesAreReused) {
  auto pool = std::make_shared<BatchPool>();
  auto first = pool->Acquire();
  first->features.resize(1000);
  const float* buffer = first->features.data();
  first.reset();
  auto again = pool->Acquire();
  EXPECT_EQ(again->features.data(), buffer);
  auto other = pool->Acquire();
  EXPECT_NE(other.get(), again.get());
}

}  // namespace
}  // namespace tickforge::loader::internal
