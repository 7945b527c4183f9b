#include "tickforge/book/decimal.h"

#include <limits>

namespace tickforge::book {
namespace {

constexpr int64_t kPow10[kMaxScale + 1] = {1,
                                           10,
                                           100,
                                           1000,
                                           10000,
                                           100000,
                                           1000000,
                                           10000000,
                                           100000000,
                                           1000000000,
                                           10000000000,
                                           100000000000,
                                           1000000000000,
                                           10000000000000,
                                           100000000000000,
                                           1000000000000000,
                                           10000000000000000,
                                           100000000000000000,
                                           1000000000000000000};

}  // namespace

std::string_view DecimalErrorText(DecimalError error) {
  switch (error) {
    case DecimalError::kOk:
      return "";
    case DecimalError::kSyntax:
      return "is not a plain decimal";
    case DecimalError::kTooPrecise:
      return "has more decimals than the scale (it would have to be rounded)";
    case DecimalError::kOverflow:
      return "is too large for 64-bit fixed point";
  }
  return "";
}

DecimalError ParseFixed(std::string_view text, int scale, int64_t* out) {
  if (scale < 0 || scale > kMaxScale) return DecimalError::kOverflow;
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  uint64_t value = 0;
  size_t i = 0;
  const size_t n = text.size();
  bool digits = false;
  for (; i < n && text[i] >= '0' && text[i] <= '9'; ++i) {
    const uint64_t d = static_cast<uint64_t>(text[i] - '0');
    if (value > (kMax - d) / 10) return DecimalError::kOverflow;
    value = value * 10 + d;
    digits = true;
  }
  int decimals = 0;
  if (i < n && text[i] == '.') {
    for (++i; i < n && text[i] >= '0' && text[i] <= '9'; ++i) {
      digits = true;
      const uint64_t d = static_cast<uint64_t>(text[i] - '0');
      if (decimals == scale) {
        if (d != 0) return DecimalError::kTooPrecise;
        continue;
      }
      if (value > (kMax - d) / 10) return DecimalError::kOverflow;
      value = value * 10 + d;
      ++decimals;
    }
  }
  if (i != n || !digits) return DecimalError::kSyntax;
  const auto pad = static_cast<uint64_t>(kPow10[scale - decimals]);
  if (value > kMax / pad) return DecimalError::kOverflow;
  *out = static_cast<int64_t>(value * pad);
  return DecimalError::kOk;
}

int DecimalPlaces(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  bool digits = false;
  for (; i < n && text[i] >= '0' && text[i] <= '9'; ++i) digits = true;
  int places = 0;
  if (i < n && text[i] == '.') {
    for (++i; i < n && text[i] >= '0' && text[i] <= '9'; ++i) {
      digits = true;
      ++places;
    }
  }
  return i == n && digits ? places : -1;
}

}  // namespace tickforge::book
