#include "tickforge/label/movement.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace tickforge::label {

MovementWindow::MovementWindow(int64_t lookback, int64_t offset, int64_t forward)
    : lookback_(lookback), offset_(offset), forward_(forward) {
  const auto capacity = std::bit_ceil(static_cast<uint64_t>(lookback + offset + forward + 2));
  ring_.assign(capacity, 0);
  mask_ = capacity - 1;
}

void MovementWindow::Push(int64_t s) {
  const uint64_t next = Prefix(n_) + static_cast<uint64_t>(s);
  ++n_;
  ring_[static_cast<size_t>(n_) & mask_] = next;
}

bool MovementWindow::Ready(int64_t t) const {
  return t >= lookback_ && t + offset_ + forward_ < n_ &&
         t - lookback_ > n_ - static_cast<int64_t>(ring_.size());
}

double MovementWindow::Movement(int64_t t) const {
  const auto back_sum = static_cast<int64_t>(Prefix(t) - Prefix(t - lookback_));
  const int64_t f0 = t + 1 + offset_;
  const auto fwd_sum = static_cast<int64_t>(Prefix(f0 + forward_) - Prefix(f0));
  const double back = static_cast<double>(back_sum) / static_cast<double>(2 * lookback_);
  const double fwd = static_cast<double>(fwd_sum) / static_cast<double>(2 * forward_);
  return (fwd - back) / back;
}

Result<SeriesLabels> ComputeLabels(std::span<const int64_t> bid, std::span<const int64_t> ask,
                                   std::span<const double> boundaries, int64_t lookback, int64_t offset,
                                   int64_t forward) {
  if (bid.size() != ask.size()) return Status::Invalid("bid and ask differ in length");
  if (lookback < 1 || forward < 1 || offset < 0) {
    return Status::Invalid("need lookback, forward >= 1 and offset >= 0");
  }
  const auto n = static_cast<int64_t>(bid.size());
  SeriesLabels out;
  out.movement.reserve(bid.size());
  out.label.reserve(bid.size());
  MovementSeries series(lookback, offset, forward, n);
  for (size_t i = 0; i < bid.size(); ++i) {
    series.Push(bid[i] + ask[i], [&](double m, bool defined) {
      out.movement.push_back(m);
      out.label.push_back(defined ? static_cast<int16_t>(Digitize(m, boundaries)) : int16_t{-1});
    });
  }
  return out;
}

std::vector<double> Quantiles(std::vector<double>& values, int nbins) {
  std::sort(values.begin(), values.end());
  const auto n = static_cast<int64_t>(values.size());
  std::vector<double> out;
  out.reserve(static_cast<size_t>(nbins) + 1);
  for (int k = 0; k <= nbins; ++k) {
    // numpy: virtual index q*(n-1), neighbours floor and floor+1 (clipped), then _lerp, which
    // computes from the upper neighbour when the weight is at least one half.
    const double q = static_cast<double>(k) / static_cast<double>(nbins);
    const double h = q * static_cast<double>(n - 1);
    const double below = std::floor(h);
    const auto lo = std::clamp<int64_t>(static_cast<int64_t>(below), 0, n - 1);
    const auto hi = std::clamp<int64_t>(lo + 1, 0, n - 1);
    const double gamma = h - below;
    const double a = values[static_cast<size_t>(lo)], b = values[static_cast<size_t>(hi)];
    const double diff = b - a;
    out.push_back(gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma);
  }
  return out;
}

int Digitize(double movement, std::span<const double> boundaries) {
  if (boundaries.size() < 2) return 0;
  const auto inner = boundaries.subspan(1, boundaries.size() - 2);
  return static_cast<int>(std::upper_bound(inner.begin(), inner.end(), movement) - inner.begin());
}

}  // namespace tickforge::label
