#include "tickforge/loader/plan_internal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "tickforge/loader/segment_cache_internal.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"

namespace tickforge::loader::internal {
namespace {

using testing::DatasetSpec;
using testing::ScopedTempDir;
using testing::WriteLabeledDataset;

constexpr int64_t kBatch = 8;

class PlanTest : public ::testing::Test {
 protected:
  // Two symbols; five classes, two of them twice as common as the others (so the rare ones
  // are drawn more than once an epoch).
  void Write(std::function<int(int64_t)> label, std::function<int(int64_t)> other_label = nullptr) {
    for (const auto& [symbol, rows] : {std::pair{"6AM4", int64_t{4000}}, std::pair{"6EM4", int64_t{3000}}}) {
      DatasetSpec spec;
      spec.symbol = symbol;
      spec.rows = rows;
      spec.label = other_label && spec.symbol == "6EM4" ? other_label : label;
      ASSERT_OK(WriteLabeledDataset(dir_.path(), spec).status());
    }
  }
  void SetUp() override {
    Write([](int64_t r) {
      constexpr int kClasses[] = {0, 0, 1, 2, 3, 4, 4};
      return kClasses[r % 7];
    });
  }

  LoaderOptions Options() const {
    LoaderOptions o;
    o.parquet_dir = dir_.path().string();
    o.batch_size = kBatch;
    o.image.time_bins = 4;
    o.image.ticks_per_bin = 5;
    o.stride = 3;
    o.seed = 5;
    return o;
  }

  ScopedTempDir dir_{"loader_plan"};
};

TEST_F(PlanTest, IsDeterministicForASeedAndEpoch) {
  ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(Options()));
  const auto plan = PlanEpoch(index, Options(), 0);
  ASSERT_EQ(static_cast<int64_t>(plan.size()), index.batches_per_epoch * kBatch);
  EXPECT_EQ(PlanEpoch(index, Options(), 0), plan);
  EXPECT_NE(PlanEpoch(index, Options(), 1), plan);
  auto other = Options();
  other.seed = 6;
  ASSERT_OK_AND_ASSIGN(auto other_index, BuildIndex(other));
  EXPECT_NE(PlanEpoch(other_index, other, 0), plan);
  for (uint32_t i : plan) ASSERT_LT(i, index.samples.size());
}

void ExpectEvenClasses(const SampleIndex& index, const std::vector<uint32_t>& plan, int classes) {
  const int64_t base = kBatch / classes, extra = kBatch % classes;
  for (size_t b = 0; b * kBatch < plan.size(); ++b) {
    std::map<int, int64_t> counts;
    for (size_t i = b * kBatch; i < (b + 1) * kBatch; ++i) ++counts[index.samples[plan[i]].label];
    ASSERT_EQ(static_cast<int>(counts.size()), std::min<int>(classes, kBatch)) << "batch " << b;
    int64_t more = 0;
    for (const auto& [label, n] : counts) {
      ASSERT_TRUE(n == base || n == base + 1) << "batch " << b << " class " << label << ": " << n;
      more += n == base + 1;
    }
    ASSERT_EQ(more, extra) << "batch " << b;
  }
}

TEST_F(PlanTest, EveryBatchHoldsTheClassesEvenly) {
  for (const bool shuffle : {true, false}) {
    for (const bool locality : {false, true}) {
      auto o = Options();
      o.shuffle = shuffle;
      o.locality = locality;
      ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
      ASSERT_EQ(index.num_classes, 5);
      ExpectEvenClasses(index, PlanEpoch(index, o, 2), 5);
    }
  }
}

TEST_F(PlanTest, ClassesAreDrawnInPasses) {
  ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(Options()));
  const auto plan = PlanEpoch(index, Options(), 0);
  std::vector<int64_t> uses(index.samples.size(), 0);
  for (uint32_t i : plan) ++uses[i];
  for (int c = 0; c < index.num_classes; ++c) {
    int64_t lo = INT64_MAX, hi = 0;
    for (uint32_t i : index.by_class[static_cast<size_t>(c)]) {
      lo = std::min(lo, uses[i]);
      hi = std::max(hi, uses[i]);
    }
    EXPECT_LE(hi - lo, 1) << "class " << c;
    if (c == 1) {
      EXPECT_GE(hi, 2) << "a rare class is drawn again once used up";
    }
  }
}

TEST_F(PlanTest, WithoutShuffleClassesAreDrawnInIndexOrder) {
  auto o = Options();
  o.shuffle = false;
  ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
  const auto plan = PlanEpoch(index, o, 0);
  std::vector<size_t> next(static_cast<size_t>(index.num_classes), 0);
  for (size_t b = 0; b < 3; ++b) {
    int last = -1;
    for (size_t i = b * kBatch; i < (b + 1) * kBatch; ++i) {
      const int c = index.samples[plan[i]].label;
      EXPECT_GE(c, last) << "batch " << b << " is in class order";
      last = c;
      EXPECT_EQ(plan[i], index.by_class[static_cast<size_t>(c)][next[static_cast<size_t>(c)]++]);
    }
  }
}

TEST_F(PlanTest, LocalityDrawsASegmentBlockAfterAnother) {
  Write([](int64_t) { return 0; });  // one class: the plan is its stream alone
  for (const bool locality : {true, false}) {
    auto o = Options();
    o.image.ticks_per_bin = 1;  // segments of kBinsPerSegment rows: several per dataset
    o.image.time_bins = 20;
    o.stride = 1;
    o.locality = locality;
    ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
    ASSERT_EQ(index.by_class[0].size(), index.samples.size());
    const auto plan = PlanEpoch(index, o, 0);
    // Where each block (symbol, segment) is drawn: with locality, in consecutive batches only.
    std::map<std::pair<int, int64_t>, std::set<int64_t>> batches_of;
    for (size_t i = 0; i < plan.size(); ++i) {
      const Sample& s = index.samples[plan[i]];
      batches_of[{s.symbol, s.row / kBinsPerSegment}].insert(static_cast<int64_t>(i) / kBatch);
    }
    ASSERT_GT(batches_of.size(), 8u);
    bool contiguous = true;
    for (const auto& [block, batches] : batches_of) {
      contiguous = contiguous && *batches.rbegin() - *batches.begin() + 1 == static_cast<int64_t>(batches.size());
    }
    EXPECT_EQ(contiguous, locality);
  }
}

TEST_F(PlanTest, RanksWithoutAClassPlanOverTheOthers) {
  // One sample of class 4 in all: at most one rank holds it.
  Write([](int64_t r) { return r == 1009 ? 4 : static_cast<int>(r % 4); },
        [](int64_t r) { return static_cast<int>(r % 4); });
  int with_rare = 0;
  for (int rank = 0; rank < 2; ++rank) {
    auto o = Options();
    o.world_size = 2;
    o.rank = rank;
    ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
    ASSERT_EQ(index.num_classes, 5);
    const bool rare = !index.by_class[4].empty();
    with_rare += rare;
    ExpectEvenClasses(index, PlanEpoch(index, o, 0), rare ? 5 : 4);
  }
  EXPECT_EQ(with_rare, 1);
}

}  // namespace
}  // namespace tickforge::loader::internal
