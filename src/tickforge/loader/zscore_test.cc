#include "tickforge/loader/zscore_internal.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "tickforge/loader/render_internal.h"
#include "tickforge/loader/segment_cache_internal.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"

namespace tickforge::loader::internal {
namespace {

using testing::DatasetSpec;
using testing::ScopedTempDir;
using testing::WriteLabeledDataset;

class ZScoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& [symbol, seed] : {std::pair{"6AM4", uint64_t{1}}, std::pair{"6EM4", uint64_t{2}}}) {
      DatasetSpec spec;
      spec.symbol = symbol;
      spec.rows = 3000;
      spec.seed = seed;
      ASSERT_OK(WriteLabeledDataset(dir_.path(), spec).status());
    }
  }
  LoaderOptions Options(std::string split) const {
    LoaderOptions o;
    o.parquet_dir = dir_.path().string();
    o.batch_size = 4;
    o.image.time_bins = 6;
    o.image.ticks_per_bin = 5;
    o.image.features = {features::Feature::kVariance, features::Feature::kVolume};
    o.stride = 5;
    o.normalization = Normalization::kZScore;
    o.split = std::move(split);
    return o;
  }
  ScopedTempDir dir_{"loader_zscore"};
};

TEST_F(ZScoreTest, FitIsTheMomentsOfTheRawTrainingImages) {
  auto o = Options("train");
  o.normalization_samples = 50;
  ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
  ASSERT_OK_AND_ASSIGN(auto stats, FitZScore(index, o));
  ASSERT_EQ(stats.planes.size(), 2u);
  EXPECT_EQ(stats.planes[0].feature, "volume");  // the stacking order, not the order given
  EXPECT_EQ(stats.planes[1].feature, "variance");
  EXPECT_EQ(stats.samples, 50);
  // The same 50 samples (evenly spaced over the training split at stride ticks_per_bin),
  // rendered unscaled one at a time, with the moments summed naively in long double.
  auto raw = o;
  raw.normalization = Normalization::kNone;
  raw.batch_size = 1;
  const auto n = static_cast<int64_t>(index.samples.size());
  SegmentCache cache(int64_t{1} << 28);
  const int64_t plane = int64_t{features::kImageRows} * o.image.time_bins;
  long double sum[2] = {0, 0}, sq[2] = {0, 0};
  std::vector<std::vector<float>> images;
  for (int64_t i = 0; i < 50; ++i) {
    const auto at = static_cast<uint32_t>(i * n / 50);
    Batch batch;
    ASSERT_OK(RenderBatch(index, raw, cache, &at, batch));
    images.push_back(batch.features);
    for (int p = 0; p < 2; ++p) {
      for (int64_t k = 0; k < plane; ++k) sum[p] += batch.features[static_cast<size_t>(p * plane + k)];
    }
  }
  const long double count = 50.0L * static_cast<long double>(plane);
  for (int p = 0; p < 2; ++p) {
    const long double mean = sum[p] / count;
    for (const auto& image : images) {
      for (int64_t k = 0; k < plane; ++k) {
        const long double d = image[static_cast<size_t>(p * plane + k)] - mean;
        sq[p] += d * d;
      }
    }
    EXPECT_NEAR(stats.planes[static_cast<size_t>(p)].mean, static_cast<double>(mean), 1e-9 * std::abs(static_cast<double>(mean)) + 1e-12);
    const double std = std::sqrt(static_cast<double>(sq[p] / count));
    EXPECT_NEAR(stats.planes[static_cast<size_t>(p)].std, std, 1e-9 * std);
    EXPECT_GT(std, 0);
  }
}

TEST_F(ZScoreTest, TrainingLoaderStoresWhatValidationReuses) {
  ASSERT_OK_AND_ASSIGN(auto val_index, BuildIndex(Options("val")));
  auto missing = ResolveZScore(val_index, Options("val"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("split='train'"), std::string::npos) << missing.status().ToString();
  EXPECT_NE(missing.status().message().find("normalization_stats"), std::string::npos);

  ASSERT_OK_AND_ASSIGN(auto train_index, BuildIndex(Options("train")));
  ASSERT_OK_AND_ASSIGN(auto fitted, ResolveZScore(train_index, Options("train")));
  EXPECT_TRUE(fitted.fitted);
  ASSERT_OK_AND_ASSIGN(auto path, DefaultStatsPath(train_index, Options("train")));
  EXPECT_EQ(fitted.path, path);
  EXPECT_TRUE(std::filesystem::exists(path));
  ASSERT_OK_AND_ASSIGN(auto reused, ResolveZScore(val_index, Options("val")));
  EXPECT_FALSE(reused.fitted);
  ASSERT_EQ(reused.planes.size(), fitted.planes.size());
  for (size_t p = 0; p < fitted.planes.size(); ++p) {
    EXPECT_EQ(reused.planes[p].mean, fitted.planes[p].mean);  // exact: JSON doubles round-trip
    EXPECT_EQ(reused.planes[p].std, fitted.planes[p].std);
  }
  // Other image options are other statistics: the stored file is not theirs.
  auto other = Options("val");
  other.image.time_bins = 7;
  ASSERT_OK_AND_ASSIGN(auto other_index, BuildIndex(other));
  EXPECT_FALSE(ResolveZScore(other_index, other).ok());
  // ... and named explicitly, the file is refused for them, naming it.
  other.normalization_stats = path;
  auto refused = ResolveZScore(other_index, other);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(path), std::string::npos);
}

TEST_F(ZScoreTest, BadStatisticsFilesAreNamed) {
  const auto path = (dir_.path() / "stats.json").string();
  auto o = Options("val");
  o.normalization_stats = path;
  ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
  for (const char* text : {"{not json", "{\"format\": \"tickforge.zscore/1\"}", "[1, 2]"}) {
    std::ofstream(path) << text;
    auto read = ResolveZScore(index, o);
    ASSERT_FALSE(read.ok()) << text;
    EXPECT_NE(read.status().message().find(path), std::string::npos) << read.status().ToString();
  }
}

TEST(ApplyZScore, SubtractsTheMeanAndDividesByTheStd) {
  ZScoreStats stats;
  stats.planes = {{"volume", 2.0, 4.0}, {"variance", -1.0, 0.0}};  // a zero std divides by 1
  float image[4] = {6.0f, 2.0f, 1.0f, -3.0f};
  ApplyZScore(stats, 2, image);
  EXPECT_EQ(image[0], 1.0f);
  EXPECT_EQ(image[1], 0.0f);
  EXPECT_EQ(image[2], 2.0f);
  EXPECT_EQ(image[3], -2.0f);
}

}  // namespace
}  // namespace tickforge::loader::internal
