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

TEST_F(PlanTest, NaturalUsesEverySampleOnceOverAllRanks) {
  for (const bool shuffle : {true, false}) {
    std::vector<int64_t> uses;
    std::vector<uint32_t> rank0;
    int64_t batches = -1;
    for (int rank = 0; rank < 3; ++rank) {
      auto o = Options();
      o.sampling = Sampling::kNatural;
      o.shuffle = shuffle;
      o.world_size = 3;
      o.rank = rank;
      ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
      ASSERT_TRUE(index.all_ranks);
      if (uses.empty()) uses.assign(index.samples.size(), 0);
      ASSERT_EQ(uses.size(), index.samples.size()) << "every rank indexes every sample";
      // batches_per_epoch = floor(samples / (B · world_size)), the same on every rank.
      ASSERT_EQ(index.batches_per_epoch, static_cast<int64_t>(index.samples.size()) / (kBatch * 3));
      if (batches >= 0) {
        ASSERT_EQ(index.batches_per_epoch, batches);
      }
      batches = index.batches_per_epoch;
      const auto plan = PlanEpoch(index, o, 1);
      ASSERT_EQ(static_cast<int64_t>(plan.size()), batches * kBatch);
      for (uint32_t i : plan) ++uses[i];
      if (rank == 0) rank0 = plan;
      if (!shuffle) {
        // Unshuffled: global batch g (rank g mod 3) is samples [g·B, (g+1)·B) in index order.
        for (int64_t b = 0; b < batches; ++b) {
          for (int64_t k = 0; k < kBatch; ++k) {
            ASSERT_EQ(plan[static_cast<size_t>(b * kBatch + k)], static_cast<uint32_t>((b * 3 + rank) * kBatch + k));
          }
        }
      }
    }
    const auto used = std::count(uses.begin(), uses.end(), 1);
    EXPECT_EQ(std::count_if(uses.begin(), uses.end(), [](int64_t n) { return n > 1; }), 0) << "disjoint";
    EXPECT_EQ(used, batches * kBatch * 3);
    EXPECT_LT(static_cast<int64_t>(uses.size()) - used, kBatch * 3) << "only the last partial round waits";
    if (shuffle) {
      auto o = Options();
      o.sampling = Sampling::kNatural;
      o.world_size = 3;
      ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
      EXPECT_EQ(PlanEpoch(index, o, 1), rank0);
      EXPECT_NE(PlanEpoch(index, o, 2), rank0);
    }
  }
}

TEST_F(PlanTest, ClassSymbolUniformSpreadsEachClassOverItsSymbols) {
  // Symbol 6EM4 holds only classes 0 and 1: the other classes come from 6AM4 alone.
  Write([](int64_t r) { return static_cast<int>(r % 5); }, [](int64_t r) { return static_cast<int>(r % 2); });
  for (const int64_t batch : {kBatch, int64_t{13}}) {
    auto o = Options();
    o.sampling = Sampling::kClassSymbolUniform;
    o.batch_size = batch;
    ASSERT_OK_AND_ASSIGN(auto index, BuildIndex(o));
    std::map<int, std::set<int16_t>> symbols_of;
    for (const auto& x : index.samples) symbols_of[x.label].insert(x.symbol);
    ASSERT_EQ(symbols_of[0].size(), 2u);
    ASSERT_EQ(symbols_of[4].size(), 1u);
    const auto plan = PlanEpoch(index, o, 0);
    ASSERT_EQ(PlanEpoch(index, o, 0), plan);
    std::map<std::pair<int, int16_t>, int64_t> extra;  // batches a (class, symbol) got the one more
    for (int64_t b = 0; b < index.batches_per_epoch; ++b) {
      std::map<int, std::map<int16_t, int64_t>> counts;
      std::map<int, int64_t> per_class;
      for (int64_t i = b * batch; i < (b + 1) * batch; ++i) {
        const Sample& x = index.samples[plan[static_cast<size_t>(i)]];
        ++counts[x.label][x.symbol];
        ++per_class[x.label];
      }
      // Classes as class_uniform: floor(B/5) or one more.
      for (const auto& [c, n] : per_class) ASSERT_TRUE(n == batch / 5 || n == batch / 5 + 1) << c;
      for (const auto& [c, symbols] : symbols_of) {
        int64_t lo = INT64_MAX, hi = 0;
        for (int16_t s : symbols) {
          const int64_t n = counts[c].count(s) ? counts[c][s] : 0;
          lo = std::min(lo, n);
          hi = std::max(hi, n);
        }
        ASSERT_LE(hi - lo, 1) << "batch " << b << " class " << c;
        if (hi > lo) {
          for (int16_t s : symbols) extra[{c, s}] += counts[c][s] == hi;
        }
      }
    }
    // The one more goes to either symbol over the epoch (seeded, not always the first).
    for (int c : {0, 1}) {
      const std::pair<int, int16_t> first{c, 0}, second{c, 1};
      if (extra.count(first) + extra.count(second) == 0) continue;
      EXPECT_GT(extra[first], 0) << c;
      EXPECT_GT(extra[second], 0) << c;
    }
  }
}

}  // namespace
}  // namespace tickforge::loader::internal
