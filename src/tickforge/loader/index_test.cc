#include "tickforge/loader/index_internal.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "tickforge/label/label.h"
#include "tickforge/synth/synth.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"
#include "tickforge/util/parquet.h"

namespace tickforge::loader::internal {
namespace {

using testing::DatasetSpec;
using testing::ScopedTempDir;
using testing::WriteLabeledDataset;

constexpr int64_t kW = 20;        // window rows: 4 bins of 5 rows
constexpr int64_t kHorizon = 25;  // lookforward_offset 5 + lookforward_input 20 (DatasetSpec's)

// Three symbols over overlapping but different time ranges, with nulls and uneven classes.
std::vector<DatasetSpec> Specs() {
  std::vector<DatasetSpec> specs(3);
  specs[0].symbol = "6AM4";
  specs[0].rows = 3000;
  specs[0].label = [](int64_t r) { return r % 7 == 3 ? -1 : static_cast<int>(r % 5); };
  specs[1].symbol = "6EM4";
  specs[1].rows = 2500;
  specs[1].first_ts += 500'000'000;
  specs[1].ts_step = 1'200'000;
  specs[1].seed = 2;
  specs[1].label = [](int64_t r) { return static_cast<int>((r / 3) % 4); };
  specs[2].symbol = "M6AM4";
  specs[2].rows = 1800;
  specs[2].first_ts += 1'000'000'000;
  specs[2].seed = 3;
  specs[2].label = [](int64_t r) { return r < 100 ? -1 : static_cast<int>(r % 3 == 0 ? 4 : 1); };
  return specs;
}

class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& spec : specs_) ASSERT_OK(WriteLabeledDataset(dir_.path(), spec).status());
  }

  LoaderOptions Options() const {
    LoaderOptions o;
    o.parquet_dir = dir_.path().string();
    o.batch_size = 8;
    o.image.time_bins = 4;
    o.image.ticks_per_bin = 5;
    o.stride = 5;
    o.seed = 1;
    return o;
  }

  // The samples the plan semantics allow, recomputed from the specs: rows t = W-1 + k·stride
  // with a label, inside the split's bounds.
  std::vector<std::tuple<int16_t, int64_t, uint8_t>> Expected(const LoaderOptions& o,
                                                             const std::vector<std::string>& symbols = {}) const {
    int64_t t_min = INT64_MAX, t_max = INT64_MIN;
    for (const auto& spec : specs_) {
      t_min = std::min(t_min, spec.first_ts);
      t_max = std::max(t_max, spec.first_ts + (spec.rows - 1) * spec.ts_step);
    }
    const double span = static_cast<double>(t_max) - static_cast<double>(t_min);
    const auto cut1 = static_cast<int64_t>(static_cast<double>(t_min) + o.split_fractions[0] * span);
    const auto cut2 =
        static_cast<int64_t>(static_cast<double>(t_min) + (o.split_fractions[0] + o.split_fractions[1]) * span);
    std::vector<DatasetSpec> chosen;
    for (const auto& spec : specs_) {
      if (symbols.empty() || std::count(symbols.begin(), symbols.end(), spec.symbol)) chosen.push_back(spec);
    }
    std::sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) { return a.symbol < b.symbol; });
    std::vector<std::tuple<int16_t, int64_t, uint8_t>> out;
    for (size_t s = 0; s < chosen.size(); ++s) {
      const auto& spec = chosen[s];
      const auto first_at = [&](int64_t cut) {
        int64_t r = 0;
        while (r < spec.rows && spec.first_ts + r * spec.ts_step < cut) ++r;
        return r;
      };
      const int64_t r1 = first_at(cut1), r2 = first_at(cut2);
      for (int64_t t = kW - 1; t < spec.rows; t += o.stride) {
        const int label = spec.label(t);
        if (label < 0) continue;
        if (o.split == "train" && t > r1 - 1 - kHorizon) continue;
        if (o.split == "val" && (t < r1 + kW - 1 || t > r2 - 1 - kHorizon)) continue;
        if (o.split == "test" && t < r2 + kW - 1) continue;
        out.emplace_back(static_cast<int16_t>(s), t, static_cast<uint8_t>(label));
      }
    }
    return out;
  }

  static std::vector<std::tuple<int16_t, int64_t, uint8_t>> Got(const SampleIndex& index) {
    std::vector<std::tuple<int16_t, int64_t, uint8_t>> out;
    for (const auto& s : index.samples) out.emplace_back(s.symbol, s.row, s.label);
    return out;
  }

  ScopedTempDir dir_{"loader_index"};
  std::vector<DatasetSpec> specs_ = Specs();
};

TEST_F(IndexTest, HoldsEveryLabeledWindowEndAtTheStride) {
  for (const int64_t stride : {5, 3, 1, 10}) {
    auto o = Options();
    o.stride = stride;
    ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
    EXPECT_EQ(index.names, (std::vector<std::string>{"6AM4", "6EM4", "M6AM4"}));
    ASSERT_EQ(index.datasets.size(), 3u);
    EXPECT_EQ(index.datasets[0].rows, 3000);
    EXPECT_EQ(index.datasets[1].rows, 2500);
    EXPECT_EQ(index.datasets[2].rows, 1800);
    const auto expected = Expected(o);
    EXPECT_EQ(Got(index), expected) << "stride " << stride;
    EXPECT_EQ(index.num_classes, 5);
    EXPECT_EQ(index.batches_per_epoch, static_cast<int64_t>(expected.size()) / 8);
  }
}

TEST_F(IndexTest, SamplesCarryTheirRowsTimeAndSequence) {
  ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(Options()));
  ASSERT_FALSE(index.samples.empty());
  for (const auto& s : index.samples) {
    const auto& spec = specs_[static_cast<size_t>(s.symbol)];  // the specs are in name order
    ASSERT_EQ(s.ts_event, spec.first_ts + s.row * spec.ts_step);
    ASSERT_EQ(s.sequence, static_cast<uint32_t>(s.row));
  }
}

TEST_F(IndexTest, ClassListsPartitionTheSamplesInIndexOrder) {
  ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(Options()));
  ASSERT_EQ(index.by_class.size(), 5u);
  size_t total = 0;
  for (int c = 0; c < 5; ++c) {
    const auto& list = index.by_class[static_cast<size_t>(c)];
    EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));
    for (uint32_t i : list) EXPECT_EQ(index.samples[i].label, c);
    total += list.size();
  }
  EXPECT_EQ(total, index.samples.size());
  EXPECT_GE(index.bytes(), static_cast<int64_t>(index.samples.size() * sizeof(Sample) + total * sizeof(uint32_t)));
}

TEST(SplitBoundsTest, PurgesTheLabelHorizonAndTheWindow) {
  // rows 1000, window 20, horizon 25, cuts at rows 700 and 850.
  const auto whole = SplitBounds("", 1000, 20, 25, 700, 850);
  EXPECT_EQ(whole.lo, 19);
  EXPECT_EQ(whole.hi, 999);
  const auto train = SplitBounds("train", 1000, 20, 25, 700, 850);
  EXPECT_EQ(train.lo, 19);
  EXPECT_EQ(train.hi, 674);  // its label reads rows up to 699, the last before the cut
  const auto val = SplitBounds("val", 1000, 20, 25, 700, 850);
  EXPECT_EQ(val.lo, 719);  // its window starts at row 700, the first of the split
  EXPECT_EQ(val.hi, 824);
  const auto test = SplitBounds("test", 1000, 20, 25, 700, 850);
  EXPECT_EQ(test.lo, 869);
  EXPECT_EQ(test.hi, 999);
}

TEST_F(IndexTest, SplitsCutByTimeWithPurgeGaps) {
  std::set<std::pair<int16_t, int64_t>> seen;
  size_t in_splits = 0;
  for (const char* split : {"train", "val", "test"}) {
    auto o = Options();
    o.split = split;
    o.split_fractions = {0.6, 0.25, 0.15};
    ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
    const auto expected = Expected(o);
    ASSERT_FALSE(expected.empty()) << split;
    EXPECT_EQ(Got(index), expected) << split;
    for (const auto& [symbol, row, label] : expected) seen.emplace(symbol, row);
    in_splits += expected.size();
  }
  EXPECT_EQ(seen.size(), in_splits) << "splits overlap";
  EXPECT_LT(in_splits, Expected(Options()).size()) << "no purge gap";
}

TEST_F(IndexTest, SplitCutsDoNotMoveWithTheSymbolsChosen) {
  auto o = Options();
  o.split = "val";
  o.symbols = {"M6AM4", "6AM4"};
  ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
  EXPECT_EQ(index.names, (std::vector<std::string>{"6AM4", "M6AM4"}));
  const auto expected = Expected(o, o.symbols);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(Got(index), expected);
}

TEST_F(IndexTest, UnknownSymbolListsTheKnownOnes) {
  auto o = Options();
  o.symbols = {"6AM4", "NOPE"};
  const auto index = BuildIndex(o);
  ASSERT_FALSE(index.ok());
  EXPECT_TRUE(index.status().IsKeyError());
  EXPECT_NE(index.status().message().find("unknown symbol 'NOPE'"), std::string::npos);
  EXPECT_NE(index.status().message().find("6AM4, 6EM4, M6AM4"), std::string::npos) << index.status().ToString();
}

TEST(IndexErrorsTest, SplitNeedsTheRecordedHorizon) {
  ScopedTempDir dir("loader_index_nometa");
  DatasetSpec spec;
  spec.metadata = std::nullopt;
  ASSERT_OK(WriteLabeledDataset(dir.path(), spec).status());
  LoaderOptions o;
  o.parquet_dir = dir.path().string();
  o.batch_size = 4;
  o.image.time_bins = 4;
  o.image.ticks_per_bin = 5;
  o.stride = 5;
  ASSERT_OK_AND_ASSIGN(auto whole, BuildIndex(o));
  EXPECT_EQ(whole.num_classes, 5);  // from the labels, with no nbins recorded
  o.split = "train";
  const auto split = BuildIndex(o);
  ASSERT_FALSE(split.ok());
  EXPECT_NE(split.status().message().find("needs the label horizon"), std::string::npos) << split.status().ToString();
}

TEST_F(IndexTest, FewerSamplesThanABatchIsAnError) {
  auto o = Options();
  o.batch_size = 100000;
  const auto index = BuildIndex(o);
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.status().message().find("fewer than one batch of 100000 per rank"), std::string::npos)
      << index.status().ToString();
}

TEST_F(IndexTest, SampleFractionKeepsASeededShare) {
  ASSERT_OK_AND_ASSIGN(auto all, BuildIndex(Options()));
  auto o = Options();
  o.sample_fraction = 0.3;
  ASSERT_OK_AND_ASSIGN(auto some, BuildIndex(o));
  ASSERT_OK_AND_ASSIGN(auto again, BuildIndex(o));
  EXPECT_EQ(Got(some), Got(again));
  const auto full = Got(all);
  const std::set<std::tuple<int16_t, int64_t, uint8_t>> full_set(full.begin(), full.end());
  for (const auto& s : Got(some)) EXPECT_TRUE(full_set.count(s));
  const double share = static_cast<double>(some.samples.size()) / static_cast<double>(all.samples.size());
  EXPECT_GT(share, 0.25);
  EXPECT_LT(share, 0.35);
  const auto limit = static_cast<uint64_t>(std::ldexp(0.3, 64) - 1);
  for (const auto& s : some.samples) EXPECT_TRUE(KeepsRow(1, Fnv1a64(some.names[static_cast<size_t>(s.symbol)]), s.row, limit));
  o.seed = 2;
  ASSERT_OK_AND_ASSIGN(auto other, BuildIndex(o));
  EXPECT_NE(Got(other), Got(some));
}

TEST_F(IndexTest, RanksHoldDisjointSharesWithEqualBatchCounts) {
  ASSERT_OK_AND_ASSIGN(auto all, BuildIndex(Options()));
  for (const int world : {2, 3}) {
    std::set<std::tuple<int16_t, int64_t, uint8_t>> seen;
    size_t held = 0;
    for (int rank = 0; rank < world; ++rank) {
      auto o = Options();
      o.world_size = world;
      o.rank = rank;
      ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
      EXPECT_EQ(index.batches_per_epoch, static_cast<int64_t>(all.samples.size()) / (8 * world));
      EXPECT_EQ(index.num_classes, all.num_classes);
      for (const auto& s : index.samples) {
        EXPECT_EQ(RankOfRow(1, Fnv1a64(index.names[static_cast<size_t>(s.symbol)]), s.row, world),
                  static_cast<uint64_t>(rank));
        seen.emplace(s.symbol, s.row, s.label);
      }
      held += index.samples.size();
      EXPECT_GT(index.samples.size(), all.samples.size() / world / 2);
    }
    EXPECT_EQ(seen.size(), held) << "ranks share samples";
    const auto full = Got(all);
    const std::set<std::tuple<int16_t, int64_t, uint8_t>> full_set(full.begin(), full.end());
    EXPECT_EQ(seen, full_set);
  }
}

// The index of what label build writes, against the datasets' own columns.
TEST(IndexOfLabelBuildTest, MatchesTheDatasetsColumns) {
  ScopedTempDir dir("loader_index_label_build");
  synth::SynthOptions synth_options;
  synth_options.symbols = 2;
  synth_options.days = 2;
  synth_options.rows_per_day = 10000;
  synth_options.seed = 7;
  ASSERT_OK(synth::WriteMbp10Days(dir.path() / "raw", synth_options).status());
  label::LabelConfig config;
  config.lookback_rows = 50;
  config.lookforward_input = 40;
  config.lookforward_offset = 5;
  config.nbins = 4;
  config.min_symbol_samples = 100;
  ASSERT_OK(label::Run({(dir.path() / "raw").string()}, config, dir.path() / "out").status());
  LoaderOptions o;
  o.parquet_dir = (dir.path() / "out").string();
  o.batch_size = 8;
  o.image.time_bins = 5;
  o.image.ticks_per_bin = 10;
  o.stride = 10;
  ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
  ASSERT_EQ(index.names.size(), 2u);
  EXPECT_EQ(index.num_classes, 4);
  size_t at = 0;
  for (size_t s = 0; s < index.names.size(); ++s) {
    ASSERT_OK_AND_ASSIGN(auto reader, OpenParquet(index.datasets[s].path));
    std::shared_ptr<arrow::Table> table;
    ASSERT_OK_AND_ASSIGN(table, reader->ReadTable());
    ASSERT_OK_AND_ASSIGN(auto batch, table->CombineChunksToBatch());
    const auto& labels = static_cast<const arrow::UInt8Array&>(*batch->GetColumnByName("classification_label"));
    const auto& ts = static_cast<const arrow::TimestampArray&>(*batch->GetColumnByName("ts_event"));
    const auto& seq = static_cast<const arrow::UInt32Array&>(*batch->GetColumnByName("sequence"));
    EXPECT_EQ(index.datasets[s].rows, batch->num_rows());
    for (int64_t t = 49; t < batch->num_rows(); t += 10) {
      if (labels.IsNull(t)) continue;
      ASSERT_LT(at, index.samples.size());
      const auto& sample = index.samples[at++];
      EXPECT_EQ(sample.symbol, static_cast<int16_t>(s));
      EXPECT_EQ(sample.row, t);
      EXPECT_EQ(sample.label, labels.Value(t));
      EXPECT_EQ(sample.ts_event, ts.Value(t));
      EXPECT_EQ(sample.sequence, seq.Value(t));
    }
  }
  EXPECT_EQ(at, index.samples.size());
  EXPECT_GT(at, 100u);
}

TEST_F(IndexTest, LenientSkipsBadDatasetsAndListsThem) {
  // A file that is not Parquet, and a Parquet file without the label column, among the good.
  const auto garbage = (dir_.path() / "AUDUSD_ZZZ_dataset.parquet").string();
  { std::ofstream(garbage) << "not a parquet file"; }
  DatasetSpec unlabeled;
  unlabeled.symbol = "6BM4";
  unlabeled.rows = 500;
  ASSERT_OK_AND_ASSIGN(auto unlabeled_path, WriteLabeledDataset(dir_.path(), unlabeled));
  {
    ASSERT_OK_AND_ASSIGN(auto reader, OpenParquet(unlabeled_path.string()));
    std::shared_ptr<arrow::Table> table;
    ASSERT_OK_AND_ASSIGN(table, reader->ReadTable());
    ASSERT_OK_AND_ASSIGN(table, table->RemoveColumn(table->schema()->GetFieldIndex("classification_label")));
    ASSERT_OK_AND_ASSIGN(auto file, ParquetFile::Create(unlabeled_path, table->schema()));
    ASSERT_OK(file->WriteTable(*table));
    ASSERT_OK(file->Close().status());
  }
  auto strict = BuildIndex(Options());
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("dataset.parquet"), std::string::npos) << strict.status().ToString();

  auto o = Options();
  o.strictness = Strictness::kLenient;
  ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
  ASSERT_EQ(index.skipped.size(), 2u);
  std::set<std::string> skipped;
  for (const auto& s : index.skipped) {
    skipped.insert(s.path);
    EXPECT_NE(s.reason.find(s.path), std::string::npos) << s.reason;
  }
  EXPECT_EQ(skipped, (std::set<std::string>{garbage, unlabeled_path.string()}));
  EXPECT_EQ(index.names, (std::vector<std::string>{"6AM4", "6EM4", "M6AM4"}));
  // The good datasets give the samples they give alone (the cuts come from their times: the
  // unlabeled file's rows lie inside their range).
  EXPECT_EQ(Got(index), Expected(o));
}

}  // namespace
}  // namespace tickforge::loader::internal
