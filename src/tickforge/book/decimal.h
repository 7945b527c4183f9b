// Exact decimal strings to fixed point: exchanges send prices and sizes as decimal text
// ("61837.63000000", "0.014", "1001"), and a book keyed by a double would both misorder
// levels that differ in the last digit and make sizes inexact. The parse never goes through
// a double and never rounds.
#pragma once

#include <cstdint>
#include <string_view>

namespace tickforge::book {

/// 1e-9 fixed point, as DBN prices.
inline constexpr int kPriceScale = 9;
/// The most decimals a scale may have (10^18 still fits int64).
inline constexpr int kMaxScale = 18;

enum class DecimalError : uint8_t {
  kOk,
  kSyntax,      ///< not digits with at most one '.', or empty
  kTooPrecise,  ///< a nonzero digit past the scale: keeping it would need rounding
  kOverflow,    ///< the fixed-point value exceeds int64
};

/// Return a phrase for error messages ("has more decimals than the scale").
[[nodiscard]] std::string_view DecimalErrorText(DecimalError error);

/// Parse a non-negative decimal ("123", "0.5", "61837.63000000", ".5" and "5." too) into
/// value * 10^scale, exactly. Digits past the scale must be zeros ("0.0140" at scale 3 is
/// 14; "0.0141" is kTooPrecise); signs, exponents and spaces are kSyntax.
[[nodiscard]] DecimalError ParseFixed(std::string_view text, int scale, int64_t* out);

/// Return how many digits follow the decimal point (0 for "1001"), or -1 when `text` is not
/// a decimal ParseFixed accepts.
[[nodiscard]] int DecimalPlaces(std::string_view text);

}  // namespace tickforge::book
