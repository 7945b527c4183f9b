#include "tickforge/book/decimal.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace tickforge::book {
namespace {

int64_t Fixed(std::string_view text, int scale) {
  int64_t out = -1;
  EXPECT_EQ(ParseFixed(text, scale, &out), DecimalError::kOk) << text;
  return out;
}

TEST(DecimalTest, ParsesExchangeStringsExactly) {
  EXPECT_EQ(Fixed("61837.63000000", 9), 61837630000000);
  EXPECT_EQ(Fixed("0.00105000", 8), 105000);
  EXPECT_EQ(Fixed("0.014", 3), 14);
  EXPECT_EQ(Fixed("1001", 0), 1001);
  EXPECT_EQ(Fixed("105055.0", 9), 105055000000000);
  EXPECT_EQ(Fixed(".5", 1), 5);
  EXPECT_EQ(Fixed("5.", 2), 500);
  EXPECT_EQ(Fixed("0", 8), 0);
  // 0.1 + 0.2 is not 0.3 in binary: the parse never goes through a double.
  EXPECT_EQ(Fixed("0.1", 9) + Fixed("0.2", 9), Fixed("0.3", 9));
  EXPECT_EQ(Fixed("9223372036.854775807", 9), INT64_MAX);
}

TEST(DecimalTest, DigitsPastTheScaleMustBeZeros) {
  EXPECT_EQ(Fixed("0.0140", 3), 14);
  int64_t out = 0;
  EXPECT_EQ(ParseFixed("0.0141", 3, &out), DecimalError::kTooPrecise);
  EXPECT_EQ(ParseFixed("1.5", 0, &out), DecimalError::kTooPrecise);
  EXPECT_EQ(ParseFixed("0.0000000001", 9, &out), DecimalError::kTooPrecise);
}

TEST(DecimalTest, RejectsWhatIsNotAPlainDecimal) {
  int64_t out = 0;
  for (const char* text : {"", ".", "-1", "+1", "1e5", " 1", "1 ", "1.2.3", "0x10", "1,5", "nan"}) {
    EXPECT_EQ(ParseFixed(text, 8, &out), DecimalError::kSyntax) << text;
    EXPECT_EQ(DecimalPlaces(text), -1) << text;
  }
  EXPECT_EQ(ParseFixed("9223372036.854775808", 9, &out), DecimalError::kOverflow);
  EXPECT_EQ(ParseFixed("99999999999999999999", 0, &out), DecimalError::kOverflow);
  EXPECT_EQ(ParseFixed("1", 19, &out), DecimalError::kOverflow);
}

TEST(DecimalTest, CountsDecimalPlaces) {
  EXPECT_EQ(DecimalPlaces("61837.63000000"), 8);
  EXPECT_EQ(DecimalPlaces("0.014"), 3);
  EXPECT_EQ(DecimalPlaces("1001"), 0);
  EXPECT_EQ(DecimalPlaces("5."), 0);
}

}  // namespace
}  // namespace tickforge::book
