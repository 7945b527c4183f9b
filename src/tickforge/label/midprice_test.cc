#include "tickforge/label/midprice.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <tuple>

#include "tickforge/testing/assertions.h"

namespace tickforge::label {
namespace {

// DESIGN.md §3.7 evaluated directly on the kept rows, with 128-bit sums; NaN where undefined.
std::vector<double> Reference(const std::vector<int64_t>& bid, const std::vector<int64_t>& ask,
                              const MidLabelSpec& spec) {
  const auto n_rows = static_cast<int64_t>(bid.size());
  std::vector<int64_t> s;
  for (int64_t r = 0; r < n_rows; r += spec.downsample) s.push_back(bid[size_t(r)] + ask[size_t(r)]);
  const auto J = static_cast<int64_t>(s.size());
  const int64_t k = spec.horizon, h = spec.h();
  std::vector<double> out(bid.size(), std::nan(""));
  for (int64_t j = h - 1; j <= J - 1 - k; ++j) {
    __int128 minus = 0, plus = 0;
    for (int64_t i = j - h + 1; i <= j; ++i) minus += s[size_t(i)];
    for (int64_t i = j + k - h + 1; i <= j + k; ++i) plus += s[size_t(i)];
    const double p = static_cast<double>(static_cast<int64_t>(plus)) / static_cast<double>(2 * h);
    const double base = spec.scheme == MidScheme::kDeepLob
                            ? static_cast<double>(static_cast<int64_t>(minus)) / static_cast<double>(2 * h)
                            : static_cast<double>(s[size_t(j)]) / 2.0;
    out[size_t(j * spec.downsample)] = (p - base) / base;
  }
  return out;
}

TEST(MidpriceTest, MatchesDirectSumsForEveryScheme) {
  std::mt19937_64 rng(11);
  std::vector<int64_t> bid, ask;
  int64_t price = 1'000'000'000'000;  // large fixed-point prices
  for (int i = 0; i < 2000; ++i) {
    price += static_cast<int64_t>(rng() % 2001) - 1000;
    bid.push_back(price);
    ask.push_back(price + 10'000 + static_cast<int64_t>(rng() % 5) * 10'000);
  }
  int64_t defined_total = 0;
  for (auto scheme : {MidScheme::kDeepLob, MidScheme::kFi2010}) {
    for (auto [k, h, n] : {std::tuple<int64_t, int64_t, int64_t>{1, 0, 1}, {10, 0, 1}, {50, 0, 1}, {20, 5, 1},
                           {5, 0, 10}, {7, 3, 4}, {3000, 0, 1}}) {
      const MidLabelSpec spec{scheme, k, h, n};
      ASSERT_OK_AND_ASSIGN(auto values, ComputeMidValues(bid, ask, spec));
      const auto expected = Reference(bid, ask, spec);
      ASSERT_EQ(values.size(), expected.size());
      for (size_t t = 0; t < values.size(); ++t) {
        if (std::isnan(expected[t])) {
          ASSERT_TRUE(std::isnan(values[t])) << spec.Column() << " t=" << t;
        } else {
          ASSERT_EQ(values[t], expected[t]) << spec.Column() << " t=" << t;
          ++defined_total;
        }
      }
    }
  }
  EXPECT_GT(defined_total, 10000);
}

TEST(MidpriceTest, DefinedExactlyFromKMinusOneToNMinusOneMinusK) {
  std::vector<int64_t> bid(100), ask(100);
  for (int i = 0; i < 100; ++i) {
    bid[size_t(i)] = 1000 + i * (i % 3);
    ask[size_t(i)] = 1010 + i;
  }
  ASSERT_OK_AND_ASSIGN(auto values, ComputeMidValues(bid, ask, {MidScheme::kDeepLob, 10, 0, 1}));
  for (int t = 0; t < 100; ++t) EXPECT_EQ(!std::isnan(values[size_t(t)]), t >= 9 && t <= 89) << t;
}

TEST(MidpriceTest, ClassesAgainstAlpha) {
  EXPECT_EQ(MidClass(-0.2, 0.1), 0);
  EXPECT_EQ(MidClass(-0.1, 0.1), 1);
  EXPECT_EQ(MidClass(0.0, 0.1), 1);
  EXPECT_EQ(MidClass(0.1, 0.1), 1);
  EXPECT_EQ(MidClass(0.2, 0.1), 2);
  EXPECT_EQ(MidClass(0.0, 0.0), 1);
}

TEST(MidpriceTest, BalancedAlphaIsTheThirdQuantileOfMagnitudes) {
  std::vector<double> values = {-4, 1, -2, 3, 5, -6, 0.5};  // |l| sorted: .5 1 2 3 4 5 6
  // numpy.quantile(|l|, 1/3): index 2, so 2.0.
  EXPECT_EQ(BalancedAlpha(values), 2.0);
  std::vector<double> four = {1, -2, 3, -4};  // index 1, weight 0: 2.0
  EXPECT_EQ(BalancedAlpha(four), 2.0);
}

TEST(MidpriceTest, RejectsBadSpecs) {
  EXPECT_FALSE(MidLabelSpec({MidScheme::kDeepLob, 0, 0, 1}).Validate().ok());
  EXPECT_FALSE(MidLabelSpec({MidScheme::kDeepLob, 5, 6, 1}).Validate().ok());
  EXPECT_FALSE(MidLabelSpec({MidScheme::kDeepLob, 5, 0, 0}).Validate().ok());
  EXPECT_FALSE(ParseMidScheme("tlob").ok());
  EXPECT_EQ(MidLabelSpec({MidScheme::kFi2010, 50, 0, 1}).Column(), "label_fi2010_k50");
}

}  // namespace
}  // namespace tickforge::label
