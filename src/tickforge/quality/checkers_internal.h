// The checkers of each data type (one file each) and the column access they share.
#pragma once

#include <arrow/api.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "tickforge/quality/checker.h"

namespace tickforge::quality {

/// Int64 millisecond times at or above this are microseconds (or finer) in a millisecond
/// column: 1e14 ms is the year 5138, 1e14 µs is 1973 (the Binance parser's threshold too).
inline constexpr int64_t kMicrosInMillisThreshold = 100'000'000'000'000;

[[nodiscard]] std::unique_ptr<Checker> MakeKlinesChecker(std::optional<int64_t> interval_ms, const Options& options);
[[nodiscard]] std::unique_ptr<Checker> MakeAggTradesChecker(const Options& options);
[[nodiscard]] std::unique_ptr<Checker> MakeFundingChecker(const Options& options);
/// `dbn`: the dataset is a DBN schema's, so whole-row repeats are duplicate records.
[[nodiscard]] std::unique_ptr<Checker> MakeBookChecker(bool dbn, const Options& options);
[[nodiscard]] std::unique_ptr<Checker> MakeDbnChecker(const Options& options);

/// A column read as int64 (integers of any width, timestamps) or double (floats, fixed-point
/// int64 prices stay int64); nulls read as absent.
class NumericColumn {
 public:
  /// Return the column `name` of `batch` or an error naming it; `required` false gives an
  /// empty column when it is absent.
  [[nodiscard]] static Result<NumericColumn> Of(const arrow::RecordBatch& batch, const std::string& name,
                                                bool required = true);
  [[nodiscard]] bool present() const { return array_ != nullptr; }
  [[nodiscard]] bool valid(int64_t i) const { return array_ && array_->IsValid(i); }
  [[nodiscard]] bool is_integer() const { return ints_ != nullptr; }
  [[nodiscard]] int64_t Int(int64_t i) const { return ints_[i]; }
  [[nodiscard]] double Double(int64_t i) const { return doubles_ ? doubles_[i] : static_cast<double>(ints_[i]); }

 private:
  std::shared_ptr<arrow::Array> array_;
  const int64_t* ints_ = nullptr;
  const double* doubles_ = nullptr;
};

}  // namespace tickforge::quality
