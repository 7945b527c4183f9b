// Funding checks: missing funding intervals (the row's funding_interval_hours, else 8 h),
// repeated and backward times.
#include <cmath>

#include "tickforge/quality/checkers_internal.h"

namespace tickforge::quality {
namespace {

/// Binance's funding interval when the rows do not say (most perpetuals).
constexpr int64_t kDefaultFundingMillis = 8 * 3'600'000LL;

class FundingChecker final : public Checker {
 public:
  using Checker::Checker;

  void Join(Checker& next_checker) override {
    auto& next = static_cast<FundingChecker&>(next_checker);
    next.CheckStep(last().time, next.first().time, next.first_interval_, next.first().file, next.first().row);
  }

 protected:
  Status DoConsume(const arrow::RecordBatch& batch, const std::string& file, int64_t first_row) override {
    ARROW_ASSIGN_OR_RAISE(auto ts, NumericColumn::Of(batch, "timestamp"));
    ARROW_ASSIGN_OR_RAISE(auto hours, NumericColumn::Of(batch, "funding_interval_hours", false));
    if (!ts.is_integer()) return Status::TypeError("column 'timestamp' is not an integer time");
    const int64_t n = batch.num_rows();
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = ts.Int(i);
      const int64_t interval = hours.valid(i) && hours.Double(i) > 0
                                   ? static_cast<int64_t>(hours.Double(i) * 3'600'000.0)
                                   : kDefaultFundingMillis;
      if (empty() && i == 0) first_interval_ = interval;
      if (t >= kMicrosInMillisThreshold) Flag("time_unit", file, first_row + i);
      if (has_prev_) CheckStep(prev_, t, interval, file, first_row + i);
      has_prev_ = true;
      prev_ = t;
    }
    Touch(file, first_row, ts.Int(0), 0);
    Touch(file, first_row + n - 1, ts.Int(n - 1), 0);
    return Status::OK();
  }

  std::string_view repeat_check() const override { return "duplicate_interval"; }

 private:
  /// Funding times drift by a few milliseconds, so the intervals between two rows are rounded.
  void CheckStep(int64_t before, int64_t t, int64_t interval, const std::string& file, int64_t row) {
    if (t == before) {
      Flag("duplicate_interval", file, row);
    } else if (t < before) {
      Flag("time_backwards", file, row);
    } else {
      const int64_t missing = std::llround(static_cast<double>(t - before) / static_cast<double>(interval)) - 1;
      if (missing > 0) Flag("missing_interval", file, row, missing);
    }
  }

  bool has_prev_ = false;
  int64_t prev_ = 0;
  int64_t first_interval_ = kDefaultFundingMillis;
};

}  // namespace

std::unique_ptr<Checker> MakeFundingChecker(const Options& options) {
  return std::make_unique<FundingChecker>(options);
}

}  // namespace tickforge::quality
