// The panel's value rules and casts: time keys of every time-like type, target presence, the
// output types, and float64 to float32 with nulls and offsets.
#include "tickforge/panel/cast_internal.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <limits>

#include "tickforge/panel/test_util_internal.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::panel {
namespace {

std::vector<int64_t> Values(const arrow::Int64Array& keys) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < keys.length(); ++i) out.push_back(keys.IsNull(i) ? -1 : keys.Value(i));
  return out;
}

TEST(PanelCastTest, TimeLikeTypes) {
  for (const auto& type : {arrow::int8(), arrow::int16(), arrow::int32(), arrow::int64(), arrow::uint8(),
                           arrow::uint16(), arrow::uint32(), arrow::uint64(), arrow::timestamp(arrow::TimeUnit::NANO),
                           arrow::date32(), arrow::date64(), arrow::time32(arrow::TimeUnit::SECOND),
                           arrow::time64(arrow::TimeUnit::MICRO), arrow::duration(arrow::TimeUnit::MILLI)}) {
    EXPECT_TRUE(IsTimeLike(*type)) << type->ToString();
  }
  for (const auto& type : {arrow::float64(), arrow::float32(), arrow::utf8(), arrow::boolean()}) {
    EXPECT_FALSE(IsTimeLike(*type)) << type->ToString();
  }
}

TEST(PanelCastTest, TimeKeysAreTheValuesInTheirOwnUnit) {
  // int64 is used as it is, without a copy.
  auto ints = MakeArray<arrow::Int64Builder, int64_t>({5, std::nullopt, -3});
  ASSERT_OK_AND_ASSIGN(auto keys, TimeKeys(ints));
  EXPECT_EQ(keys.get(), ints.get());

  // 64-bit time types are viewed, 32-bit ones widened, other integers cast; nulls stay null.
  auto ts = *ints->View(arrow::timestamp(arrow::TimeUnit::MILLI));
  ASSERT_OK_AND_ASSIGN(keys, TimeKeys(ts));
  EXPECT_EQ(Values(*keys), (std::vector<int64_t>{5, -1, -3}));
  auto days = *MakeArray<arrow::Int32Builder, int32_t>({19000, std::nullopt, -1})->View(arrow::date32());
  ASSERT_OK_AND_ASSIGN(keys, TimeKeys(days));
  EXPECT_EQ(Values(*keys), (std::vector<int64_t>{19000, -1, -1}));
  EXPECT_TRUE(keys->IsNull(1));
  EXPECT_FALSE(keys->IsNull(2));
  auto seconds = *MakeArray<arrow::Int32Builder, int32_t>({3600})->View(arrow::time32(arrow::TimeUnit::SECOND));
  ASSERT_OK_AND_ASSIGN(keys, TimeKeys(seconds));
  EXPECT_EQ(Values(*keys), (std::vector<int64_t>{3600}));
  ASSERT_OK_AND_ASSIGN(keys, TimeKeys(MakeArray<arrow::UInt16Builder, uint16_t>({65535, 7})));
  EXPECT_EQ(Values(*keys), (std::vector<int64_t>{65535, 7}));
  // A uint64 beyond int64 does not fit: an error, not a wrapped key.
  EXPECT_FALSE(TimeKeys(MakeArray<arrow::UInt64Builder, uint64_t>({std::numeric_limits<uint64_t>::max()})).ok());
}

TEST(PanelCastTest, PresenceIsNotNullAndNotNaN) {
  auto f64 = MakeArray<arrow::DoubleBuilder, double>({1.0, std::nullopt, NAN, 0.0});
  const Presence p64(f64);
  EXPECT_TRUE(p64(0));
  EXPECT_FALSE(p64(1));
  EXPECT_FALSE(p64(2));
  EXPECT_TRUE(p64(3));
  const Presence p32(MakeArray<arrow::FloatBuilder, float>({NAN, 2.0f}));
  EXPECT_FALSE(p32(0));
  EXPECT_TRUE(p32(1));
  const Presence ints(MakeArray<arrow::Int64Builder, int64_t>({std::nullopt, 0}));
  EXPECT_FALSE(ints(0));
  EXPECT_TRUE(ints(1));
  const Presence none(nullptr);  // no target: every row counts
  EXPECT_TRUE(none(12345));
}

TEST(PanelCastTest, OutputTypesKeepMetadataAndTimeAsFloat64) {
  PanelOptions options;
  options.metadata_columns = {"price"};
  const auto type = [&](const std::string& name, const std::shared_ptr<arrow::DataType>& t) {
    return OutputType(options, "t", arrow::field(name, t))->ToString();
  };
  EXPECT_EQ(type("x", arrow::float64()), "float");
  EXPECT_EQ(type("price", arrow::float64()), "double");  // a metadata column
  EXPECT_EQ(type("t", arrow::float64()), "double");      // the time column
  EXPECT_EQ(type("symbol", arrow::int32()), "string");   // the symbol column is always text
  EXPECT_EQ(type("n", arrow::int32()), "int32");
  EXPECT_TRUE(IsMetadataColumn(options, "t", "symbol"));
  EXPECT_FALSE(IsMetadataColumn(options, "t", "x"));
  options.use_float32 = false;
  EXPECT_EQ(type("x", arrow::float64()), "double");
}

TEST(PanelCastTest, DoubleToFloatKeepsNullsOfASlice) {
  auto full = MakeArray<arrow::DoubleBuilder, double>({9.0, 1.5, std::nullopt, -2.25, std::nullopt, 1e10});
  // An offset that is not a multiple of 8: the validity bitmap must be copied from that bit.
  const auto slice = full->Slice(1, 5);
  ASSERT_OK_AND_ASSIGN(auto out, DoubleToFloat(static_cast<const arrow::DoubleArray&>(*slice)));
  ASSERT_OK(out->ValidateFull());
  ASSERT_EQ(out->type_id(), arrow::Type::FLOAT);
  const auto& floats = static_cast<const arrow::FloatArray&>(*out);
  ASSERT_EQ(floats.length(), 5);
  EXPECT_EQ(floats.null_count(), 2);
  EXPECT_EQ(floats.Value(0), 1.5f);
  EXPECT_TRUE(floats.IsNull(1));
  EXPECT_EQ(floats.Value(2), -2.25f);
  EXPECT_TRUE(floats.IsNull(3));
  EXPECT_EQ(floats.Value(4), static_cast<float>(1e10));
  // Without nulls, no bitmap at all.
  const auto head = full->Slice(0, 2);
  ASSERT_OK_AND_ASSIGN(auto dense, DoubleToFloat(static_cast<const arrow::DoubleArray&>(*head)));
  EXPECT_EQ(dense->null_count(), 0);
  EXPECT_EQ(dense->data()->buffers[0], nullptr);
}

TEST(PanelCastTest, CastToPromotesWithoutChecks) {
  auto ints = MakeArray<arrow::Int32Builder, int32_t>({1, std::nullopt, 3});
  ASSERT_OK_AND_ASSIGN(auto same, CastTo(ints, arrow::int32()));
  EXPECT_EQ(same.get(), ints.get());
  ASSERT_OK_AND_ASSIGN(auto wide, CastTo(ints, arrow::int64()));
  EXPECT_TRUE(wide->Equals(*MakeArray<arrow::Int64Builder, int64_t>({1, std::nullopt, 3})));
  auto doubles = MakeArray<arrow::DoubleBuilder, double>({0.1, std::nullopt});
  ASSERT_OK_AND_ASSIGN(auto floats, CastTo(doubles, arrow::float32()));
  EXPECT_TRUE(floats->Equals(*MakeArray<arrow::FloatBuilder, float>({0.1f, std::nullopt})));
  // Unsafe: an int64 too large for int32 wraps instead of failing (polars' strict=False).
  auto big = MakeArray<arrow::Int64Builder, int64_t>({int64_t{1} << 32 | 5});
  ASSERT_OK_AND_ASSIGN(auto narrow, CastTo(big, arrow::int32()));
  EXPECT_EQ(static_cast<const arrow::Int32Array&>(*narrow).Value(0), 5);
}

}  // namespace
}  // namespace tickforge::panel
