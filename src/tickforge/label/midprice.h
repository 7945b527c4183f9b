// Mid-price labels of the DeepLOB / FI-2010 literature (DESIGN.md §3.7, docs/labeling.md
// "Mid-price labels"): smoothed mid-price changes over a horizon of k rows, three classes
// against a threshold α, streamed over a series or computed on one held in memory, and the α
// that balances the classes.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tickforge/util/status.h"

namespace tickforge::label {

/// How a label compares the future mean mid: with the past mean (deeplob) or the mid itself
/// (fi2010).
enum class MidScheme { kDeepLob, kFi2010 };

/// Return "deeplob" or "fi2010".
[[nodiscard]] std::string_view MidSchemeName(MidScheme scheme);
/// Read a scheme's name; an unknown one is an error naming the two.
[[nodiscard]] Result<MidScheme> ParseMidScheme(std::string_view name);

/// One mid-price label column. With s_t = ask_px_00 + bid_px_00 (exact int64) on the series
/// kept by the downsampling (rows 0, n, 2n, ... of the valid rows, indexed j):
///   m₋(j) = (Σ s_i, i in [j-h+1, j]) / (2h),  m₊(j) = (Σ s_i, i in [j+k-h+1, j+k]) / (2h)
///   deeplob: l = (m₊ − m₋) / m₋,  fi2010: l = (m₊ − s_j/2) / (s_j/2)
/// with the sums exact integers converted to double once. h = k is the definition
/// (m₊ the mean of the next k mids); defined for h-1 <= j <= J-1-k (J kept rows).
struct MidLabelSpec {
  MidScheme scheme = MidScheme::kDeepLob;
  int64_t horizon = 10;    ///< k, in kept rows
  int64_t smoothing = 0;   ///< h, in kept rows; 0 means h = k
  int64_t downsample = 1;  ///< n: every n-th valid row is labeled

  /// Return h (smoothing, or k when 0).
  [[nodiscard]] int64_t h() const { return smoothing > 0 ? smoothing : horizon; }
  /// Return the column name: label_<scheme>_k<k>.
  [[nodiscard]] std::string Column() const;
  /// Return how many dataset rows after its own a label reads: k·n.
  [[nodiscard]] int64_t RowsAhead() const { return horizon * downsample; }
  /// Return how many dataset rows before its own a label reads: (h-1)·n.
  [[nodiscard]] int64_t RowsBehind() const { return (h() - 1) * downsample; }
  /// Check k >= 1, 1 <= h <= k, n >= 1.
  [[nodiscard]] Status Validate() const;
};

/// Return the class of l against α: 0 when l < −α, 2 when l > α, else 1.
[[nodiscard]] inline int MidClass(double l, double alpha) { return l < -alpha ? 0 : (l > alpha ? 2 : 1); }

/// The labels' l of every row of a series of known length, in row order: NaN where undefined
/// (rows the downsampling skips, the first (h-1)·n and the last rows), each given out as soon
/// as its forward window is complete. Keeps the last k+1 prefix sums only.
class MidpriceSeries {
 public:
  MidpriceSeries(const MidLabelSpec& spec, int64_t rows);

  /// Append s = bid_px_00 + ask_px_00 of the next row, then call emit(l) for each row whose
  /// value became known, in row order.
  template <typename Emit>
  void Push(int64_t s, Emit&& emit) {
    if (pushed_ % n_ == 0) {
      const uint64_t next = Prefix(kept_) + static_cast<uint64_t>(s);
      ++kept_;
      ring_[static_cast<size_t>(kept_) & mask_] = next;
      last_s_[static_cast<size_t>(kept_ - 1) & mask_] = s;
    }
    ++pushed_;
    for (; next_ < pushed_; ++next_) {
      if (next_ % n_ != 0) {
        emit(std::numeric_limits<double>::quiet_NaN());
        continue;
      }
      const int64_t j = next_ / n_;
      if (j < h_ - 1 || j > last_) {
        emit(std::numeric_limits<double>::quiet_NaN());
      } else if (j + k_ < kept_) {
        emit(Value(j));
      } else {
        break;  // its forward window is not complete yet
      }
    }
  }
  /// Return how many rows have had their value given out.
  [[nodiscard]] int64_t emitted() const { return next_; }

 private:
  uint64_t Prefix(int64_t i) const { return ring_[static_cast<size_t>(i) & mask_]; }
  double Value(int64_t j) const;

  MidScheme scheme_;
  int64_t k_, h_, n_;
  int64_t last_;  // the last kept row whose label is defined
  std::vector<uint64_t> ring_;     // prefix sums P[i] = s_0 + ... + s_{i-1} (mod 2^64)
  std::vector<int64_t> last_s_;    // s of the kept rows (fi2010's m_t)
  size_t mask_ = 0;
  int64_t kept_ = 0, pushed_ = 0, next_ = 0;
};

/// l of every row of a series held in memory (NaN where undefined), as label build computes it.
[[nodiscard]] Result<std::vector<double>> ComputeMidValues(std::span<const int64_t> bid, std::span<const int64_t> ask,
                                                           const MidLabelSpec& spec);

/// Return the α that balances three classes on `values` (the defined l of the fit part): the
/// 1/3 quantile of |l| (numpy.quantile, linear), so a third are in class 1 and the rest split
/// by sign. `values` is overwritten. Requires a non-empty input.
[[nodiscard]] double BalancedAlpha(std::vector<double>& values);

}  // namespace tickforge::label
