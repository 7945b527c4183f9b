#include "tickforge/label/build_internal.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tickforge/dataset/dataset.h"
#include "tickforge/label/test_common.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"
#include "tickforge/util/parquet.h"

namespace tickforge::label::internal {
namespace {

using testing::ScopedTempDir;

TEST(BuildSymbolTest, EveryRowOfTheSeriesWithItsMovementAndClass) {
  ScopedTempDir dir("tickforge_label_build");
  ASSERT_OK_AND_ASSIGN(auto paths, WriteDays(dir.path() / "raw", 3, 2, 2500));
  ASSERT_OK_AND_ASSIGN(auto files, ListInputs(paths));
  LabelConfig config = SmallConfig();
  config.nbins = 4;
  config.features = {"volume", "variance"};
  ASSERT_OK_AND_ASSIGN(auto ws, Split(files, config, dir.path() / "scratch", BuildOptions{}));
  const std::vector<double> boundaries = {-1.0, -2e-5, 0.0, 2e-5, 1.0};

  for (const auto& [name, info] : ws->symbols) {
    SCOPED_TRACE(name);
    // Fit rows: those of the first file (as global mode counts them).
    const auto in_fit = [](int32_t file, int64_t) { return file == 0; };
    const auto path = dir.path() / dataset::FileName(config.currency, name);
    ASSERT_OK_AND_ASSIGN(auto result, BuildSymbol(info, boundaries, config, in_fit, ws->schema, path));
    EXPECT_EQ(result.output_bytes, static_cast<int64_t>(std::filesystem::file_size(path)));

    ASSERT_OK_AND_ASSIGN(auto reader, OpenParquet(path.string()));
    ASSERT_OK_AND_ASSIGN(auto table, reader->ReadTable());
    ASSERT_OK_AND_ASSIGN(table, table->CombineChunks());
    ASSERT_OK(dataset::CheckSchema(*table->schema(), path.string()));
    ASSERT_OK_AND_ASSIGN(auto meta, dataset::LabelMetadata::FromSchema(*table->schema(), path.string()));
    ASSERT_TRUE(meta.has_value());
    EXPECT_EQ(*meta, (dataset::LabelMetadata{.lookback_rows = 50, .lookforward_input = 40, .lookforward_offset = 5,
                                             .nbins = 4, .mode = "global", .features = {"volume", "variance"}}));

    ASSERT_OK_AND_ASSIGN(auto series, SeriesBySpec(paths, name, config));
    ASSERT_EQ(table->num_rows(), static_cast<int64_t>(series.size()));
    const auto& ts = static_cast<const arrow::TimestampArray&>(*table->GetColumnByName("ts_event")->chunk(0));
    const auto& seq = static_cast<const arrow::UInt32Array&>(*table->GetColumnByName("sequence")->chunk(0));
    const auto& bid = static_cast<const arrow::Int64Array&>(*table->GetColumnByName("bid_px_00")->chunk(0));
    const auto& movement = static_cast<const arrow::DoubleArray&>(
        *table->GetColumnByName(std::string(dataset::kMovementColumn))->chunk(0));
    const auto& label = static_cast<const arrow::UInt8Array&>(
        *table->GetColumnByName(std::string(dataset::kLabelColumn))->chunk(0));

    const auto n = static_cast<int64_t>(series.size());
    std::vector<int64_t> fit(4, 0), rest(4, 0);
    int64_t labeled = 0;
    for (int64_t t = 0; t < n; ++t) {
      const DbnRow& row = series[static_cast<size_t>(t)];
      ASSERT_EQ(ts.Value(t), row.ts_event) << t;
      ASSERT_EQ(seq.Value(t), row.sequence) << t;
      ASSERT_EQ(bid.Value(t), row.bid) << t;
      const bool defined = t >= config.lookback_rows && t <= n - 1 - config.lookforward_offset - config.lookforward_input;
      ASSERT_EQ(movement.IsValid(t), defined) << t;
      ASSERT_EQ(label.IsValid(t), defined) << t;
      if (!defined) continue;
      const double m = MovementBySpec(series, t, 50, 5, 40);
      ASSERT_EQ(movement.Value(t), m) << t;
      // The class: how many inner boundaries lie at or below the movement.
      int expected_class = 0;
      for (size_t k = 1; k + 1 < boundaries.size(); ++k) expected_class += boundaries[k] <= m ? 1 : 0;
      ASSERT_EQ(label.Value(t), expected_class) << t;
      ++labeled;
      ++(row.file == 0 ? fit : rest)[static_cast<size_t>(expected_class)];
    }
    EXPECT_EQ(result.labeled, labeled);
    EXPECT_EQ(result.classes_fit, fit);
    EXPECT_EQ(result.classes_rest, rest);
    // The boundaries split the movements: every class holds rows, on both sides of the cut.
    for (int k = 0; k < 4; ++k) {
      EXPECT_GT(fit[static_cast<size_t>(k)], 0) << k;
      EXPECT_GT(rest[static_cast<size_t>(k)], 0) << k;
    }
  }
}

}  // namespace
}  // namespace tickforge::label::internal
