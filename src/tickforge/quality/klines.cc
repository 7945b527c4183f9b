// Klines checks: missing and duplicate intervals, times going backwards, timestamps off the
// interval grid, microseconds in the millisecond column, non-positive prices, and OHLC bars
// whose high is below the open or close (or the low above them).
#include <algorithm>

#include "tickforge/quality/checkers_internal.h"
#include "tickforge/util/time.h"

namespace tickforge::quality {
namespace {

class KlinesChecker final : public Checker {
 public:
  KlinesChecker(std::optional<int64_t> interval_ms, const Options& options)
      : Checker(options), interval_(interval_ms.value_or(0)) {
    // Bars of a day or less start on multiples of their length since the epoch; weekly bars
    // start on Mondays (the epoch was a Thursday). Others (3d, 1mo) are not checked for it.
    if (interval_ > 0 && kMillisPerDay % interval_ == 0) grid_ = interval_;
    if (interval_ == 7 * kMillisPerDay) grid_ = interval_, grid_offset_ = 4 * kMillisPerDay;
  }

  void Join(Checker& next_checker) override {
    auto& next = static_cast<KlinesChecker&>(next_checker);
    if (interval_ <= 0) return;
    const int64_t missing = Missing(last().time, next.first().time);
    if (missing > 0) next.Flag("missing_interval", next.first().file, next.first().row, missing);
  }

 protected:
  Status DoConsume(const arrow::RecordBatch& batch, const std::string& file, int64_t first_row) override {
    ARROW_ASSIGN_OR_RAISE(auto ts, NumericColumn::Of(batch, "timestamp"));
    ARROW_ASSIGN_OR_RAISE(auto close_time, NumericColumn::Of(batch, "close_time", false));
    ARROW_ASSIGN_OR_RAISE(auto open, NumericColumn::Of(batch, "open"));
    ARROW_ASSIGN_OR_RAISE(auto high, NumericColumn::Of(batch, "high"));
    ARROW_ASSIGN_OR_RAISE(auto low, NumericColumn::Of(batch, "low"));
    ARROW_ASSIGN_OR_RAISE(auto close, NumericColumn::Of(batch, "close"));
    if (!ts.is_integer()) return Status::TypeError("column 'timestamp' is not an integer time");
    const int64_t n = batch.num_rows();
    for (int64_t i = 0; i < n; ++i) {
      const int64_t row = first_row + i;
      const int64_t t = ts.Int(i);
      const bool micros = t >= kMicrosInMillisThreshold;
      if (micros || (close_time.valid(i) && close_time.is_integer() && close_time.Int(i) >= kMicrosInMillisThreshold)) {
        Flag("time_unit", file, row);
      }
      // A time in the wrong unit is no bar time: the interval checks skip it.
      if (micros) {
      } else if (has_prev_) {
        if (t == prev_) {
          Flag("duplicate_interval", file, row);
        } else if (t < prev_) {
          Flag("time_backwards", file, row);
        } else if (interval_ > 0) {
          const int64_t missing = Missing(prev_, t);
          if (missing > 0) Flag("missing_interval", file, row, missing);
        }
      }
      if (!micros) {
        if (grid_ > 0 && FloorMod(t - grid_offset_, grid_) != 0) Flag("off_grid", file, row);
        has_prev_ = true;
        prev_ = t;
      }
      const bool o = open.valid(i), h = high.valid(i), l = low.valid(i), c = close.valid(i);
      const double vo = o ? open.Double(i) : 0, vh = h ? high.Double(i) : 0, vl = l ? low.Double(i) : 0,
                   vc = c ? close.Double(i) : 0;
      if ((o && !(vo > 0)) || (h && !(vh > 0)) || (l && !(vl > 0)) || (c && !(vc > 0))) {
        Flag("non_positive_price", file, row);
      }
      if (o && h && l && c && (vh < std::max(vo, vc) || vl > std::min(vo, vc) || vl > vh)) {
        Flag("ohlc_inconsistent", file, row);
      }
    }
    Touch(file, first_row, ts.Int(0), 0);
    Touch(file, first_row + n - 1, ts.Int(n - 1), 0);
    return Status::OK();
  }

  std::string_view repeat_check() const override { return "duplicate_interval"; }

 private:
  static int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }
  /// Whole intervals that fit strictly between two bar times (an off-grid bar counts as its
  /// interval's bar, so a bar 1.5 intervals later misses none).
  int64_t Missing(int64_t before, int64_t after) const {
    return after > before ? (after - before) / interval_ - 1 : 0;
  }

  int64_t interval_ = 0;
  int64_t grid_ = 0;
  int64_t grid_offset_ = 0;
  bool has_prev_ = false;
  int64_t prev_ = 0;
};

}  // namespace

std::unique_ptr<Checker> MakeKlinesChecker(std::optional<int64_t> interval_ms, const Options& options) {
  return std::make_unique<KlinesChecker>(interval_ms, options);
}

}  // namespace tickforge::quality
