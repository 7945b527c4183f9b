#include "tickforge/loader/window_internal.h"

#include <gtest/gtest.h>

#include <arrow/api.h>

#include <cmath>
#include <filesystem>

#include "tickforge/loader/read_internal.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"

namespace tickforge::loader {
namespace {

using internal::WindowColumns;
using testing::DatasetSpec;
using testing::ScopedTempDir;
using testing::WriteLabeledDataset;

constexpr int kLevels = 4;

// The window columns of rows [begin, end) as doubles (CellValue), read straight from the file.
std::vector<std::vector<double>> ReadCells(const std::string& path, int64_t begin, int64_t end) {
  auto table = internal::ReadRows(path, begin, end, WindowColumns(kLevels)).ValueOrDie();
  table = table->CombineChunks().ValueOrDie();
  std::vector<std::vector<double>> rows(static_cast<size_t>(end - begin));
  for (int c = 0; c < table->num_columns(); ++c) {
    const auto& chunk = *table->column(c)->chunk(0);
    for (int64_t r = 0; r < table->num_rows(); ++r) {
      const double x = c % 2 == 0
                           ? internal::CellValue(true, static_cast<const arrow::Int64Array&>(chunk).Value(r))
                           : static_cast<double>(static_cast<const arrow::UInt32Array&>(chunk).Value(r));
      rows[static_cast<size_t>(r)].push_back(x);
    }
  }
  return rows;
}

TEST(WindowTest, ColumnsGoAskPriceAskSizeBidPriceBidSizePerLevel) {
  const auto names = WindowColumns(2);
  EXPECT_EQ(names, (std::vector<std::string>{"ask_px_00", "ask_sz_00", "bid_px_00", "bid_sz_00", "ask_px_01",
                                             "ask_sz_01", "bid_px_01", "bid_sz_01"}));
}

TEST(WindowTest, WindowsAcrossSegmentsEqualDirectReadsWithTrainingStatistics) {
  ScopedTempDir dir("window");
  DatasetSpec spec;
  spec.rows = 34000;  // two row groups: windows near row 32768 span two segments
  ASSERT_OK_AND_ASSIGN(auto path, WriteLabeledDataset(dir.path(), spec));
  LoaderOptions o;
  o.parquet_dir = dir.path().string();
  o.representation = "snapshots";
  o.normalization = Normalization::kZScore;
  o.window = 50;
  o.levels = kLevels;
  o.batch_size = 8;
  o.stride = 1;
  o.split = "test";  // its rows reach the second row group
  ASSERT_OK_AND_ASSIGN(auto loader, Loader::Open(o));
  ASSERT_TRUE(std::filesystem::exists(dir.path() / internal::kWindowStatsFile));
  // The training split ends at the first row at or after 70% of the time range.
  const int64_t train_rows = static_cast<int64_t>(std::ceil(0.7 * (spec.rows - 1)));
  ASSERT_OK_AND_ASSIGN(auto stats, internal::ComputeStats(path.string(), spec.rows, train_rows, kLevels));
  // Naive two-pass statistics over the training rows.
  const auto train = ReadCells(path.string(), 0, train_rows);
  for (size_t c = 0; c < 4 * kLevels; ++c) {
    double sum = 0, sq = 0;
    for (const auto& row : train) sum += row[c];
    const double mean = sum / static_cast<double>(train.size());
    for (const auto& row : train) sq += (row[c] - mean) * (row[c] - mean);
    EXPECT_NEAR(stats.mean[c], mean, 1e-9 * std::abs(mean) + 1e-12) << c;
    EXPECT_NEAR(stats.std[c], std::sqrt(sq / static_cast<double>(train.size())), 1e-7 * std::abs(mean) + 1e-9) << c;
  }
  ASSERT_OK(loader->Start(0));
  int crossing = 0, compared = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(auto batch, loader->Next());
    if (!batch) break;
    for (int64_t i = 0; i < batch->size; ++i) {
      const int64_t t = batch->rows[size_t(i)];
      ASSERT_GE(t - o.window + 1, train_rows);  // the window of a test sample is after the cuts
      crossing += t - o.window + 1 < internal::kRawSegmentRows && t >= internal::kRawSegmentRows;
      if (compared > 400) continue;
      const auto cells = ReadCells(path.string(), t - o.window + 1, t + 1);
      for (int64_t r = 0; r < o.window; ++r) {
        for (int64_t c = 0; c < 4 * kLevels; ++c) {
          const float want = internal::Normalize(cells[size_t(r)][size_t(c)], stats.mean[size_t(c)],
                                                 stats.std[size_t(c)], true);
          ASSERT_EQ(batch->features[size_t((i * o.window + r) * 4 * kLevels + c)], want) << t << " " << r << " " << c;
        }
      }
      ++compared;
    }
  }
  EXPECT_GT(compared, 100);
  EXPECT_GT(crossing, 0);
}

TEST(WindowTest, NormalizeHandlesUndefinedPricesAndConstantColumns) {
  EXPECT_EQ(internal::Normalize(std::nan(""), 1, 2, true), 0.0f);
  EXPECT_EQ(internal::Normalize(5, 3, 0, true), 2.0f);
  EXPECT_EQ(internal::Normalize(5, 3, 2, true), 1.0f);
  EXPECT_EQ(internal::Normalize(5, 3, 2, false), 5.0f);
  EXPECT_TRUE(std::isnan(internal::CellValue(true, INT64_MAX)));
  EXPECT_EQ(internal::CellValue(true, 650'000'000), 0.65);
}

}  // namespace
}  // namespace tickforge::loader
