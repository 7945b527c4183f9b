#include "tickforge/label/movement.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

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
