// The arithmetic of labeling (DESIGN.md §3.2-3.3): streaming price movements over exact
// integer window sums, numpy-identical quantiles and digitize (the seeded draws are in fit.cc); the
// movement of every row of a series (label build's loop) and its labels.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "tickforge/util/random.h"
#include "tickforge/util/status.h"

namespace tickforge::label {

/// Movements of one series, fed one row at a time. Keeps only the last L+O+F+1 prefix sums,
/// so memory does not depend on the length of the series.
class MovementWindow {
 public:
  MovementWindow(int64_t lookback, int64_t offset, int64_t forward);

  /// Append s = bid_px_00 + ask_px_00 of the next row.
  void Push(int64_t s);
  /// Return how many rows were pushed.
  [[nodiscard]] int64_t size() const { return n_; }
  /// Return whether movement(t) can be computed now: L <= t and t+O+F < size(), and its
  /// window is still held (t > size() - capacity).
  [[nodiscard]] bool Ready(int64_t t) const;
  /// Return movement(t); requires Ready(t).
  [[nodiscard]] double Movement(int64_t t) const;
  /// Return the last row index whose movement can ever be defined in a series of n rows.
  [[nodiscard]] int64_t LastDefined(int64_t n) const { return n - 1 - offset_ - forward_; }
  [[nodiscard]] int64_t lookback() const { return lookback_; }

 private:
  // Prefix sum P[i] = s_0 + ... + s_{i-1}, kept modulo 2^64: window sums are differences,
  // exact as long as the true window sum fits in int64.
  uint64_t Prefix(int64_t i) const { return ring_[static_cast<size_t>(i) & mask_]; }

  int64_t lookback_, offset_, forward_;
  std::vector<uint64_t> ring_;
  size_t mask_;
  int64_t n_ = 0;
};

/// The movement of every row of a series of known length, in row order: NaN where it is
/// undefined (the first L rows and the last O+F), each given out as soon as it is known, so
/// a caller streaming the series holds back only the rows of one window.
class MovementSeries {
 public:
  MovementSeries(int64_t lookback, int64_t offset, int64_t forward, int64_t rows)
      : window_(lookback, offset, forward), last_(window_.LastDefined(rows)) {}

  /// Append s = bid_px_00 + ask_px_00 of the next row, then call emit(movement, defined) for
  /// each row whose movement became known, in row order. An undefined movement is NaN; so is
  /// a defined one whose window sums are both zero.
  template <typename Emit>
  void Push(int64_t s, Emit&& emit) {
    window_.Push(s);
    for (; next_ < window_.size(); ++next_) {
      if (next_ < window_.lookback() || next_ > last_) {
        emit(std::numeric_limits<double>::quiet_NaN(), false);
      } else if (window_.Ready(next_)) {
        emit(window_.Movement(next_), true);
      } else {
        break;  // its forward window is not complete yet
      }
    }
  }
  /// Return how many rows have had their movement given out.
  [[nodiscard]] int64_t emitted() const { return next_; }

 private:
  MovementWindow window_;
  int64_t last_;
  int64_t next_ = 0;
};

/// Movements and labels of one series, row for row.
struct SeriesLabels {
  std::vector<double> movement;  // NaN where undefined
  std::vector<int16_t> label;    // -1 where the movement is undefined
};

/// Return the movements and labels (Digitize against `boundaries`) of a series held in memory,
/// as label build computes them. Requires bid and ask of one length, lookback and forward
/// >= 1, offset >= 0.
[[nodiscard]] Result<SeriesLabels> ComputeLabels(std::span<const int64_t> bid, std::span<const int64_t> ask,
                                                 std::span<const double> boundaries, int64_t lookback,
                                                 int64_t offset, int64_t forward);

/// Return numpy.quantile(values, k/nbins) for k = 0..nbins (method "linear"), bit for bit.
/// `values` is sorted in place. Requires a non-empty input.
[[nodiscard]] std::vector<double> Quantiles(std::vector<double>& values, int nbins);

/// Return the class of a movement: the number of inner boundaries b[1..nbins-1] <= movement.
[[nodiscard]] int Digitize(double movement, std::span<const double> boundaries);

}  // namespace tickforge::label
