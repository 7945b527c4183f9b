#include "tickforge/util/random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace tickforge {
namespace {

TEST(SplitMix64Test, KnownSequence) {
  // The first outputs of the reference generator seeded with 0 (state advanced by the
  // golden gamma each call), as published with the algorithm.
  EXPECT_EQ(SplitMix64(0), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(SplitMix64(0x9E3779B97F4A7C15ULL), 0x6E789E6AA1B965F4ULL);
}

TEST(RngTest, IsTheSplitMix64Sequence) {
  Rng rng(0);
  EXPECT_EQ(rng.Next(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(rng.Next(), 0x6E789E6AA1B965F4ULL);
}

TEST(Fnv1a64Test, KnownValues) {
  // The offset basis for the empty string, and the published value for "a".
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
}

TEST(RngTest, BelowStaysInRangeAndShuffleIsAPermutation) {
  Rng rng(42);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(rng.Below(7), 7u);
  std::vector<int> v(100);
  std::iota(v.begin(), v.end(), 0);
  rng.Shuffle(v);
  EXPECT_FALSE(std::is_sorted(v.begin(), v.end()));
  std::sort(v.begin(), v.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(v[i], i);
}

TEST(Xoshiro256Test, UniformIsNeverZeroAndBelowOne) {
  Xoshiro256 rng(7);
  for (int i = 0; i < 10000; ++i) {
    const double u = rng.Uniform();
    EXPECT_GT(u, 0.0);
    EXPECT_LE(u, 1.0);
  }
}

}  // namespace
}  // namespace tickforge
