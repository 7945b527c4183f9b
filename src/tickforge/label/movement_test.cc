#include "tickforge/label/movement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "tickforge/testing/assertions.h"

namespace tickforge::label {
namespace {

// Direct evaluation of DESIGN.md §3.2 with 128-bit sums, as a reference.
double Reference(const std::vector<int64_t>& s, int64_t t, int64_t L, int64_t O, int64_t F) {
  __int128 back = 0, fwd = 0;
  for (int64_t i = t - L; i < t; ++i) back += s[static_cast<size_t>(i)];
  for (int64_t i = t + 1 + O; i < t + 1 + O + F; ++i) fwd += s[static_cast<size_t>(i)];
  const double b = static_cast<double>(static_cast<int64_t>(back)) / static_cast<double>(2 * L);
  const double f = static_cast<double>(static_cast<int64_t>(fwd)) / static_cast<double>(2 * F);
  return (f - b) / b;
}

TEST(MovementWindowTest, MatchesDirectSumsOnEveryDefinedRow) {
  std::mt19937_64 rng(7);
  for (auto [L, O, F] : {std::tuple<int64_t, int64_t, int64_t>{5, 0, 3}, {50, 5, 30}, {1, 0, 1}, {17, 11, 2}}) {
    std::vector<int64_t> s;
    int64_t price = 2'000'000'000'000;  // large fixed-point sums: 2e12 per row
    for (int i = 0; i < 3000; ++i) {
      price += static_cast<int64_t>(rng() % 2001) - 1000;
      s.push_back(price);
    }
    MovementWindow window(L, O, F);
    int64_t next = L;
    int64_t checked = 0;
    for (int64_t s_i : s) {
      window.Push(s_i);
      while (next <= window.LastDefined(static_cast<int64_t>(s.size())) && window.Ready(next)) {
        ASSERT_EQ(window.Movement(next), Reference(s, next, L, O, F)) << "t=" << next;
        ++next;
        ++checked;
      }
    }
    EXPECT_EQ(checked, static_cast<int64_t>(s.size()) - L - O - F);
    EXPECT_FALSE(window.Ready(L - 1));
  }
}

TEST(MovementWindowTest, ForgetsRowsOutsideItsWindow) {
  MovementWindow window(4, 2, 3);
  for (int i = 0; i < 1000; ++i) window.Push(100 + i);
  EXPECT_FALSE(window.Ready(10));   // long gone from the ring
  EXPECT_TRUE(window.Ready(1000 - 1 - 2 - 3));
  EXPECT_FALSE(window.Ready(1000 - 2 - 3));  // its forward window is not complete
}

std::vector<int64_t> RandomWalk(std::mt19937_64& rng, int n, int64_t start) {
  std::vector<int64_t> values;
  for (int i = 0; i < n; ++i) {
    start += static_cast<int64_t>(rng() % 2001) - 1000;
    values.push_back(start);
  }
  return values;
}

TEST(MovementSeriesTest, GivesEveryRowInOrderAsSoonAsItsWindowIsComplete) {
  std::mt19937_64 rng(11);
  for (auto [L, O, F] : {std::tuple<int64_t, int64_t, int64_t>{5, 0, 3}, {50, 5, 30}, {1, 0, 1}, {17, 11, 2}}) {
    const auto s = RandomWalk(rng, 2000, 2'000'000'000'000);
    const auto n = static_cast<int64_t>(s.size());
    MovementSeries series(L, O, F, n);
    std::vector<double> movements;
    std::vector<bool> defined;
    for (int64_t k = 1; k <= n; ++k) {
      series.Push(s[static_cast<size_t>(k - 1)], [&](double m, bool d) {
        movements.push_back(m);
        defined.push_back(d);
      });
      // Row t is known once row t+O+F is in; the undefined tail comes with the last row.
      const int64_t expected = k < n ? std::max(std::min(k, L), k - O - F) : n;
      ASSERT_EQ(series.emitted(), expected) << "after " << k << " rows";
      ASSERT_EQ(static_cast<int64_t>(movements.size()), expected);
    }
    for (int64_t t = 0; t < n; ++t) {
      const auto i = static_cast<size_t>(t);
      if (t < L || t > n - 1 - O - F) {
        EXPECT_FALSE(defined[i]) << "t=" << t;
        EXPECT_TRUE(std::isnan(movements[i])) << "t=" << t;
      } else {
        ASSERT_TRUE(defined[i]) << "t=" << t;
        ASSERT_EQ(movements[i], Reference(s, t, L, O, F)) << "t=" << t;
      }
    }
  }
}

TEST(MovementSeriesTest, ShortSeriesHasNoDefinedRow) {
  MovementSeries series(4, 2, 3, 9);  // 9 rows: t=4 needs rows up to 4+2+3 = 9
  int emitted = 0;
  for (int i = 0; i < 9; ++i) {
    series.Push(100 + i, [&](double m, bool defined) {
      EXPECT_FALSE(defined);
      EXPECT_TRUE(std::isnan(m));
      ++emitted;
    });
  }
  EXPECT_EQ(emitted, 9);
}

// The inner boundaries at or below m, counted directly.
int16_t ReferenceLabel(double m, const std::vector<double>& b) {
  return static_cast<int16_t>(std::count_if(b.begin() + 1, b.end() - 1, [&](double x) { return x <= m; }));
}

TEST(ComputeLabelsTest, MatchesDirectEvaluationOfEveryRow) {
  std::mt19937_64 rng(3);
  const std::vector<double> boundaries = {-1, -2e-7, -5e-8, 0, 5e-8, 2e-7, 1};
  for (auto [L, O, F] : {std::tuple<int64_t, int64_t, int64_t>{20, 0, 10}, {3, 7, 1}}) {
    const auto bid = RandomWalk(rng, 1500, 1'000'000'000'000);
    std::vector<int64_t> ask;
    for (int64_t b : bid) ask.push_back(b + 10'000 + static_cast<int64_t>(rng() % 5000));
    std::vector<int64_t> s;
    for (size_t i = 0; i < bid.size(); ++i) s.push_back(bid[i] + ask[i]);
    ASSERT_OK_AND_ASSIGN(auto out, ComputeLabels(bid, ask, boundaries, L, O, F));
    const auto n = static_cast<int64_t>(bid.size());
    ASSERT_EQ(static_cast<int64_t>(out.movement.size()), n);
    ASSERT_EQ(static_cast<int64_t>(out.label.size()), n);
    std::vector<int> seen(boundaries.size() - 1, 0);
    for (int64_t t = 0; t < n; ++t) {
      const auto i = static_cast<size_t>(t);
      if (t < L || t > n - 1 - O - F) {
        EXPECT_TRUE(std::isnan(out.movement[i])) << "t=" << t;
        EXPECT_EQ(out.label[i], -1) << "t=" << t;
      } else {
        const double m = Reference(s, t, L, O, F);
        ASSERT_EQ(out.movement[i], m) << "t=" << t;
        ASSERT_EQ(out.label[i], ReferenceLabel(m, boundaries)) << "t=" << t;
        ++seen[static_cast<size_t>(out.label[i])];
      }
    }
    // The boundaries are set so that the walk reaches more than one class.
    EXPECT_GT(std::count_if(seen.begin(), seen.end(), [](int c) { return c > 0; }), 1);
  }
}

TEST(ComputeLabelsTest, RejectsInputsOfDifferentLengthsAndBadWindows) {
  const std::vector<int64_t> three = {1, 2, 3}, two = {1, 2};
  const std::vector<double> boundaries = {-1, 0, 1};
  EXPECT_TRUE(ComputeLabels(three, two, boundaries, 1, 0, 1).status().IsInvalid());
  EXPECT_TRUE(ComputeLabels(three, three, boundaries, 0, 0, 1).status().IsInvalid());
  EXPECT_TRUE(ComputeLabels(three, three, boundaries, 1, -1, 1).status().IsInvalid());
  EXPECT_TRUE(ComputeLabels(three, three, boundaries, 1, 0, 0).status().IsInvalid());
  ASSERT_OK_AND_ASSIGN(auto out, ComputeLabels(three, three, boundaries, 1, 0, 1));
  EXPECT_EQ(out.label, (std::vector<int16_t>{-1, 1, -1}));  // movement(1) = (3-1)/1 > 0
}

TEST(QuantilesTest, LinearInterpolationLikeNumpy) {
  std::vector<double> values = {4, 0, 2, 1, 3};
  // numpy.quantile([0..4], [0, .25, .5, .75, 1]) = [0, 1, 2, 3, 4]
  EXPECT_EQ(Quantiles(values, 4), (std::vector<double>{0, 1, 2, 3, 4}));
  std::vector<double> two = {10, 20};
  // h = q*(n-1): 0, 1/3, 2/3, 1 -> 10, 13.33.., 16.66.., 20 with the upper-neighbour form past 0.5
  const auto q = Quantiles(two, 3);
  EXPECT_EQ(q[0], 10);
  EXPECT_EQ(q[1], 10 + 10 * (1.0 / 3));
  EXPECT_EQ(q[2], 20 - 10 * (1 - 2.0 / 3));
  EXPECT_EQ(q[3], 20);
  std::vector<double> one = {0.5};
  EXPECT_EQ(Quantiles(one, 13), std::vector<double>(14, 0.5));
}

TEST(DigitizeTest, CountsInnerBoundariesAtOrBelow) {
  const std::vector<double> b = {-1, -0.5, 0, 0.5, 1};
  EXPECT_EQ(Digitize(-5, b), 0);
  EXPECT_EQ(Digitize(-0.5, b), 1);  // a value on a boundary goes up
  EXPECT_EQ(Digitize(-0.49, b), 1);
  EXPECT_EQ(Digitize(0, b), 2);
  EXPECT_EQ(Digitize(0.75, b), 3);
  EXPECT_EQ(Digitize(7, b), 3);  // beyond the fitted range: the end class
}

}  // namespace
}  // namespace tickforge::label
