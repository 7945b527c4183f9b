// Column layouts of Binance's CSV files: which source field fills which normalized column, per
// kind and market (spot aggTrades files have 8 columns, futures files 7), the header names
// Binance writes, and the rule that reads a time as milliseconds or microseconds by its
// magnitude. The normalized schemas themselves (NormalizedSchema) are defined in layout.cc.
#pragma once

#include <arrow/type_fwd.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "tickforge/binance/binance.h"
#include "tickforge/util/status.h"

namespace tickforge::binance {

/// Times from 1e14 on count microseconds (1e14 µs is 1973, 1e14 ms is year 5138).
inline constexpr int64_t kMicrosThreshold = 100'000'000'000'000;

/// Split a Binance time into milliseconds and exact microseconds by its magnitude, per value,
/// because one file can hold both (spot files switched to microseconds on 2025-01-01). Return
/// false for a time at or below -1e14, which is out of range in either unit.
[[nodiscard]] inline bool SplitTime(int64_t value, int64_t* ms, int64_t* us) {
  if (value <= -kMicrosThreshold) return false;
  const bool micros = value >= kMicrosThreshold;
  *ms = micros ? value / 1000 : value;
  *us = micros ? value : value * 1000;
  return true;
}

enum class FieldType : uint8_t { kTime, kInt, kNullableInt, kFloat, kBool, kText };

/// One source CSV field: how to parse it and which normalized column(s) it fills.
struct SourceField {
  std::string_view name;
  FieldType type;
  /// Index of the normalized column it fills.
  int out;
  /// For kTime: index of the exact-µs column.
  int out_us = -1;
};

/// Return the fields of a `kind` file with `columns` columns (see DataColumns), in file order.
[[nodiscard]] std::span<const SourceField> FieldsFor(Kind kind, int columns);

/// Return the column count of `kind` data lines given the first one's field count: 7 or 8 for
/// aggTrades (futures or spot, else an error), always 12 for klines and 3 for funding (a line
/// with another count then fails in the parser, which names it).
[[nodiscard]] Result<int> DataColumns(Kind kind, int64_t fields);

/// Return whether `first` is the first header field Binance writes for `kind` (any case).
[[nodiscard]] bool KnownHeader(Kind kind, std::string_view first);

/// Fill the normalized columns a `kind` file with `columns` columns does not hold: a futures
/// aggTrades file has no is_best_match (nulls), and a funding file's funding_time is its
/// calc_time. `arrays` holds the parsed columns at their normalized indices.
void CompleteColumns(Kind kind, int columns, int64_t rows, std::vector<std::shared_ptr<arrow::Array>>* arrays);

}  // namespace tickforge::binance
