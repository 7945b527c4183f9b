// Row identity: equal rows hash equal, by value rather than by type; different rows, nulls and
// column orders apart; the natural key's columns alone when it names them.
#include "tickforge/store/row_key_internal.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <set>

#include "tickforge/testing/assertions.h"

namespace tickforge::store {
namespace {

template <typename Builder, typename T>
std::shared_ptr<arrow::Array> Column(const std::vector<std::optional<T>>& values) {
  Builder builder;
  for (const auto& v : values) EXPECT_TRUE((v ? builder.Append(*v) : builder.AppendNull()).ok());
  return builder.Finish().ValueOrDie();
}

std::shared_ptr<arrow::RecordBatch> Batch(const std::vector<std::pair<std::string, std::shared_ptr<arrow::Array>>>& columns) {
  arrow::FieldVector fields;
  arrow::ArrayVector arrays;
  for (const auto& [name, array] : columns) {
    fields.push_back(arrow::field(name, array->type()));
    arrays.push_back(array);
  }
  return arrow::RecordBatch::Make(arrow::schema(fields), arrays.front()->length(), arrays);
}

std::vector<Key128> Keys(const std::shared_ptr<arrow::RecordBatch>& batch, const std::vector<std::string>& columns = {}) {
  auto keys = RowKeys(*batch, columns);
  EXPECT_TRUE(keys.ok()) << keys.status().ToString();
  return keys.ok() ? *keys : std::vector<Key128>{};
}

TEST(StoreRowKeyTest, EqualRowsEqualKeysOthersApart) {
  auto batch = Batch({{"id", Column<arrow::Int64Builder, int64_t>({1, 2, 1, std::nullopt, std::nullopt, 0})},
                      {"px", Column<arrow::DoubleBuilder, double>({0.5, 0.5, 0.5, 0.0, 0.0, 0.0})},
                      {"s", Column<arrow::StringBuilder, std::string>({"a", "a", "a", "", "", ""})}});
  const auto keys = Keys(batch);
  ASSERT_EQ(keys.size(), 6u);
  EXPECT_EQ(keys[0], keys[2]);  // the same values
  EXPECT_NE(keys[0], keys[1]);
  EXPECT_EQ(keys[3], keys[4]);  // null equals null
  EXPECT_NE(keys[3], keys[5]);  // but not 0
  EXPECT_NE(keys[0].b, keys[1].b);  // both lanes differ, not only the one the hash table uses
  EXPECT_EQ(Key128Hash{}(keys[0]), keys[0].a);
}

TEST(StoreRowKeyTest, ValuesHashByValueNotByType) {
  // -0.0 is 0.0; integers of any width and timestamps with the same value are alike; strings
  // by their bytes whatever their offsets' width.
  auto doubles = Keys(Batch({{"x", Column<arrow::DoubleBuilder, double>({0.0, -0.0})}}));
  EXPECT_EQ(doubles[0], doubles[1]);
  auto floats = Keys(Batch({{"x", Column<arrow::FloatBuilder, float>({0.0f, -0.0f})}}));
  EXPECT_EQ(floats[0], floats[1]);
  const auto of = [](std::shared_ptr<arrow::Array> array) { return Keys(Batch({{"x", std::move(array)}})); };
  const auto i64 = of(Column<arrow::Int64Builder, int64_t>({-5, 7}));
  EXPECT_EQ(of(Column<arrow::Int8Builder, int8_t>({-5, 7})), i64);
  EXPECT_EQ(of(Column<arrow::Int32Builder, int32_t>({-5, 7})), i64);
  EXPECT_EQ(of(Column<arrow::UInt16Builder, uint16_t>({7}))[0], i64[1]);
  EXPECT_EQ(of(*Column<arrow::Int64Builder, int64_t>({-5, 7})->View(arrow::timestamp(arrow::TimeUnit::MILLI))), i64);
  EXPECT_EQ(of(Column<arrow::StringBuilder, std::string>({"BTCUSDT"})),
            of(Column<arrow::LargeStringBuilder, std::string>({"BTCUSDT"})));
  // Booleans are not the integers 0 and 1.
  EXPECT_NE(of(Column<arrow::BooleanBuilder, bool>({true}))[0], of(Column<arrow::Int64Builder, int64_t>({1}))[0]);
  // Other types hash their text: dates alike, different dates apart.
  const auto dates = of(Column<arrow::Date32Builder, int32_t>({19000, 19000, 19001}));
  EXPECT_EQ(dates[0], dates[1]);
  EXPECT_NE(dates[0], dates[2]);
}

TEST(StoreRowKeyTest, ColumnOrderAndTheNaturalKey) {
  auto batch = Batch({{"a", Column<arrow::Int64Builder, int64_t>({1, 2})},
                      {"b", Column<arrow::Int64Builder, int64_t>({2, 1})},
                      {"note", Column<arrow::StringBuilder, std::string>({"x", "y"})}});
  const auto all = Keys(batch);
  EXPECT_NE(all[0], all[1]);  // (1, 2) is not (2, 1)
  // The natural key reads only its columns, in its order.
  auto other = Batch({{"note", Column<arrow::StringBuilder, std::string>({"z", "w"})},
                      {"b", Column<arrow::Int64Builder, int64_t>({2, 1})},
                      {"a", Column<arrow::Int64Builder, int64_t>({1, 2})}});
  EXPECT_EQ(Keys(batch, {"a", "b"}), Keys(other, {"a", "b"}));
  EXPECT_NE(Keys(batch, {"a", "b"}), Keys(batch, {"b", "a"}));
  EXPECT_NE(Keys(batch, {"a", "b"}), all);
  auto missing = RowKeys(*batch, {"a", "trade_id"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("natural key column 'trade_id' is missing"), std::string::npos);
}

TEST(StoreRowKeyTest, HashesArePinned) {
  // Cache folders are named by these hashes: they must not change between versions.
  EXPECT_EQ(HashBytes(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(HashBytes("a"), ((0xcbf29ce484222325ULL ^ 1) ^ 'a') * 0x100000001b3ULL);
  EXPECT_EQ(Mix(0), 0u);
  Key128 key{0x9e3779b97f4a7c15ULL, 0xd1b54a32d192ed03ULL};
  Absorb(key, 42);
  EXPECT_EQ(key.a, Mix(0x9e3779b97f4a7c15ULL ^ 42));
  EXPECT_EQ(key.b, Mix(0xd1b54a32d192ed03ULL + 42 * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL));
}

}  // namespace
}  // namespace tickforge::store
