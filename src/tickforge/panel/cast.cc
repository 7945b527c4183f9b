// The panel's value rules and casts (see cast_internal.h).
#include "tickforge/panel/cast_internal.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <arrow/util/bit_util.h>

#include <algorithm>

namespace tickforge::panel {

bool IsTimeLike(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::UINT8:
    case arrow::Type::UINT16:
    case arrow::Type::UINT32:
    case arrow::Type::UINT64:
    case arrow::Type::TIMESTAMP:
    case arrow::Type::DATE32:
    case arrow::Type::DATE64:
    case arrow::Type::TIME32:
    case arrow::Type::TIME64:
    case arrow::Type::DURATION:
      return true;
    default:
      return false;
  }
}

Result<std::shared_ptr<arrow::Int64Array>> TimeKeys(const std::shared_ptr<arrow::Array>& array) {
  std::shared_ptr<arrow::Array> out;
  switch (array->type_id()) {
    case arrow::Type::INT64:
      out = array;
      break;
    case arrow::Type::TIMESTAMP:
    case arrow::Type::DATE64:
    case arrow::Type::TIME64:
    case arrow::Type::DURATION: {
      ARROW_ASSIGN_OR_RAISE(out, array->View(arrow::int64()));
      break;
    }
    case arrow::Type::DATE32:
    case arrow::Type::TIME32: {
      ARROW_ASSIGN_OR_RAISE(auto int32, array->View(arrow::int32()));
      ARROW_ASSIGN_OR_RAISE(out, arrow::compute::Cast(*int32, arrow::int64()));
      break;
    }
    default: {
      ARROW_ASSIGN_OR_RAISE(out, arrow::compute::Cast(*array, arrow::int64()));
    }
  }
  return std::static_pointer_cast<arrow::Int64Array>(out);
}

bool IsMetadataColumn(const PanelOptions& options, const std::string& time_column, const std::string& name) {
  if (name == options.symbol_column || name == time_column) return true;
  return std::find(options.metadata_columns.begin(), options.metadata_columns.end(), name) !=
         options.metadata_columns.end();
}

std::shared_ptr<arrow::DataType> OutputType(const PanelOptions& options, const std::string& time_column,
                                            const std::shared_ptr<arrow::Field>& field) {
  if (field->name() == options.symbol_column) return arrow::utf8();
  if (options.use_float32 && field->type()->id() == arrow::Type::DOUBLE &&
      !IsMetadataColumn(options, time_column, field->name())) {
    return arrow::float32();
  }
  return field->type();
}

// Converts float64 to float32 in one loop. The compute kernel does the same conversion, but
// its dispatch (function lookup, options, executor) cost more than the conversion itself for a
// column of a few thousand rows, called for every column of every batch.
Result<std::shared_ptr<arrow::Array>> DoubleToFloat(const arrow::DoubleArray& array) {
  const int64_t n = array.length();
  ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::Buffer> values,
                        arrow::AllocateBuffer(n * static_cast<int64_t>(sizeof(float))));
  const double* in = array.raw_values();
  auto* out = reinterpret_cast<float*>(values->mutable_data());
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(in[i]);
  std::shared_ptr<arrow::Buffer> validity;
  if (array.null_count() > 0) {
    ARROW_ASSIGN_OR_RAISE(validity, arrow::internal::CopyBitmap(arrow::default_memory_pool(),
                                                                array.null_bitmap_data(), array.offset(), n));
  }
  return std::make_shared<arrow::FloatArray>(n, std::move(values), std::move(validity), array.null_count());
}

Result<std::shared_ptr<arrow::Array>> CastTo(const std::shared_ptr<arrow::Array>& array,
                                             const std::shared_ptr<arrow::DataType>& type) {
  if (array->type()->Equals(*type)) return array;
  if (array->type_id() == arrow::Type::DOUBLE && type->id() == arrow::Type::FLOAT) {
    return DoubleToFloat(static_cast<const arrow::DoubleArray&>(*array));
  }
  // Promotions were chosen by schema unification and float32 was asked for: do not check for
  // lost precision (polars' strict=False).
  ARROW_ASSIGN_OR_RAISE(auto cast, arrow::compute::Cast(array, arrow::compute::CastOptions::Unsafe(type)));
  return cast.make_array();
}

}  // namespace tickforge::panel
