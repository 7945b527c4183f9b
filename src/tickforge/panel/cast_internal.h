// How input values become panel values: which types can be a time column and the int64 keys
// they stand for, which rows hold a target, which columns the output casts, and the casts.
#pragma once

#include <arrow/array.h>
#include <arrow/type.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "tickforge/panel/panel.h"
#include "tickforge/util/status.h"

namespace tickforge::panel {

/// Return whether a column of `type` can be the time column: an integer, timestamp, date, time
/// of day or duration.
[[nodiscard]] bool IsTimeLike(const arrow::DataType& type);

/// Return the integer each time value stands for, in its column's own unit.
[[nodiscard]] Result<std::shared_ptr<arrow::Int64Array>> TimeKeys(const std::shared_ptr<arrow::Array>& array);

/// Whether row i holds a target value: not null and, for floats, not NaN (pandas' notna).
/// Without a target column every row does.
class Presence {
 public:
  explicit Presence(const std::shared_ptr<arrow::Array>& target) : target_(target) {
    if (!target_) return;
    if (target_->type_id() == arrow::Type::DOUBLE) f64_ = static_cast<const arrow::DoubleArray*>(target_.get());
    if (target_->type_id() == arrow::Type::FLOAT) f32_ = static_cast<const arrow::FloatArray*>(target_.get());
  }
  bool operator()(int64_t i) const {
    if (!target_) return true;
    if (target_->IsNull(i)) return false;
    if (f64_) return !std::isnan(f64_->Value(i));
    if (f32_) return !std::isnan(f32_->Value(i));
    return true;
  }

 private:
  std::shared_ptr<arrow::Array> target_;
  const arrow::DoubleArray* f64_ = nullptr;
  const arrow::FloatArray* f32_ = nullptr;
};

/// Return whether column `name` is never cast to float32: the symbol, the time column and the
/// options' metadata columns.
[[nodiscard]] bool IsMetadataColumn(const PanelOptions& options, const std::string& time_column,
                                    const std::string& name);

/// Return the type `field` has in the panel: utf8 for the symbol column, float32 for float64
/// columns other than metadata when use_float32 is set, else its own.
[[nodiscard]] std::shared_ptr<arrow::DataType> OutputType(const PanelOptions& options, const std::string& time_column,
                                                          const std::shared_ptr<arrow::Field>& field);

/// Convert float64 to float32, nulls kept.
[[nodiscard]] Result<std::shared_ptr<arrow::Array>> DoubleToFloat(const arrow::DoubleArray& array);

/// Return `array` as `type`: itself when the types are equal, DoubleToFloat for float64 to
/// float32, else Arrow's cast without overflow or truncation checks.
[[nodiscard]] Result<std::shared_ptr<arrow::Array>> CastTo(const std::shared_ptr<arrow::Array>& array,
                                                           const std::shared_ptr<arrow::DataType>& type);

}  // namespace tickforge::panel
