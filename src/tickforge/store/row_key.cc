// Hashing rows by their natural key (see row_key_internal.h).
#include "tickforge/store/row_key_internal.h"

#include <arrow/api.h>

#include <cstring>

namespace tickforge::store {
namespace {

/// Fold column `array` into the row keys.
Status AbsorbColumn(const arrow::Array& array, std::vector<Key128>& keys) {
  const int64_t n = array.length();
  constexpr uint64_t kNull = 0x6e756c6c6e756c6cULL;
  auto each = [&](auto&& get) {
    // Most columns have no nulls: skip the bitmap test per value (the same keys either way).
    if (array.null_count() == 0) {
      for (int64_t i = 0; i < n; ++i) Absorb(keys[i], get(i));
    } else {
      for (int64_t i = 0; i < n; ++i) Absorb(keys[i], array.IsNull(i) ? kNull : get(i));
    }
  };
  switch (array.type_id()) {
    case arrow::Type::INT8: { auto& a = static_cast<const arrow::Int8Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::INT16: { auto& a = static_cast<const arrow::Int16Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::INT32: { auto& a = static_cast<const arrow::Int32Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::INT64: { auto& a = static_cast<const arrow::Int64Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::UINT8: { auto& a = static_cast<const arrow::UInt8Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::UINT16: { auto& a = static_cast<const arrow::UInt16Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::UINT32: { auto& a = static_cast<const arrow::UInt32Array&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::UINT64: { auto& a = static_cast<const arrow::UInt64Array&>(array); each([&](int64_t i) { return a.Value(i); }); break; }
    case arrow::Type::TIMESTAMP: { auto& a = static_cast<const arrow::TimestampArray&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)); }); break; }
    case arrow::Type::BOOL: { auto& a = static_cast<const arrow::BooleanArray&>(array); each([&](int64_t i) { return uint64_t(a.Value(i)) + 2; }); break; }
    case arrow::Type::DOUBLE: {
      auto& a = static_cast<const arrow::DoubleArray&>(array);
      each([&](int64_t i) { double v = a.Value(i) == 0.0 ? 0.0 : a.Value(i); uint64_t bits; std::memcpy(&bits, &v, 8); return bits; });
      break;
    }
    case arrow::Type::FLOAT: {
      auto& a = static_cast<const arrow::FloatArray&>(array);
      each([&](int64_t i) { float v = a.Value(i) == 0.0f ? 0.0f : a.Value(i); uint32_t bits; std::memcpy(&bits, &v, 4); return uint64_t(bits); });
      break;
    }
    case arrow::Type::STRING: { auto& a = static_cast<const arrow::StringArray&>(array); each([&](int64_t i) { return HashBytes(a.GetView(i)); }); break; }
    case arrow::Type::LARGE_STRING: { auto& a = static_cast<const arrow::LargeStringArray&>(array); each([&](int64_t i) { return HashBytes(a.GetView(i)); }); break; }
    default:
      for (int64_t i = 0; i < n; ++i) {
        ARROW_ASSIGN_OR_RAISE(auto scalar, array.GetScalar(i));
        Absorb(keys[i], array.IsNull(i) ? kNull : HashBytes(scalar->ToString()));
      }
  }
  return Status::OK();
}

}  // namespace

/// Return the natural-key hash of every row (all columns when `key_columns` is empty).
Result<std::vector<Key128>> RowKeys(const arrow::RecordBatch& batch,
                                    const std::vector<std::string>& key_columns) {
  std::vector<Key128> keys(batch.num_rows(), Key128{0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL});
  if (key_columns.empty()) {
    for (const auto& column : batch.columns()) ARROW_RETURN_NOT_OK(AbsorbColumn(*column, keys));
  } else {
    for (const auto& name : key_columns) {
      auto column = batch.GetColumnByName(name);
      if (!column) return Status::Invalid("natural key column '", name, "' is missing");
      ARROW_RETURN_NOT_OK(AbsorbColumn(*column, keys));
    }
  }
  return keys;
}

}  // namespace tickforge::store
