#include <arrow/api.h>
#include <arrow/io/file.h>
#include <gtest/gtest.h>
#include <parquet/arrow/writer.h>

#include <filesystem>

#include "tickforge/binance/binance.h"
#include "tickforge/binance/parquet_normalizer_internal.h"
#include "tickforge/binance/test_common.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::binance {
namespace {

namespace fs = std::filesystem;

std::string WriteParquet(const fs::path& path, const std::shared_ptr<arrow::Table>& table) {
  auto out = *arrow::io::FileOutputStream::Open(path.string());
  EXPECT_TRUE(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), out, 1024).ok());
  EXPECT_TRUE(out->Close().ok());
  return path.string();
}

TEST_F(BinanceTest, ConsolidatedParquet) {
  // The seed's columns with a nanosecond timestamp and an extra column.
  arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::NANO, "UTC"), arrow::default_memory_pool());
  ASSERT_TRUE(ts.Append(1706745600000000000).ok());
  ASSERT_TRUE(ts.Append(1706745660000123456).ok());
  arrow::DoubleBuilder price;
  ASSERT_TRUE(price.AppendValues({1.0, 2.0}).ok());
  arrow::StringBuilder extra;
  ASSERT_TRUE(extra.AppendValues({"a", "b"}).ok());
  auto table = arrow::Table::Make(
      arrow::schema({arrow::field("timestamp", ts.type()), arrow::field("open", arrow::float64()),
                     arrow::field("high", arrow::float64()), arrow::field("low", arrow::float64()),
                     arrow::field("close", arrow::float64()), arrow::field("volume", arrow::float64()),
                     arrow::field("note", arrow::utf8())}),
      {*ts.Finish(), *price.Finish(), *price.Finish(), *price.Finish(), *price.Finish(), *price.Finish(),
       *extra.Finish()});
  ASSERT_TRUE(price.AppendValues({1.0, 2.0}).ok());
  // Builders were reset by Finish(); rebuild the value columns.
  std::vector<std::shared_ptr<arrow::Array>> cols = {table->column(0)->chunk(0)};
  for (int i = 0; i < 5; ++i) {
    arrow::DoubleBuilder b;
    ASSERT_TRUE(b.AppendValues({1.0 + i, 2.0 + i}).ok());
    cols.push_back(*b.Finish());
  }
  cols.push_back(table->column(6)->chunk(0));
  table = arrow::Table::Make(table->schema(), cols);
  const auto path = WriteParquet(dir_ / "klines_binance_BTCUSDT_1m_consolidated.parquet", table);
  auto read = ReadFile(path, Kind::kKlines);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const auto& t = **read;
  ASSERT_EQ(t.num_columns(), 15);
  EXPECT_EQ(t.schema()->field(14)->name(), "note");
  EXPECT_EQ(Value<arrow::Int64Array>(t, "timestamp", 1), 1706745660000);
  EXPECT_EQ(Value<arrow::Int64Array>(t, "timestamp_us", 1), 1706745660000123);
  EXPECT_EQ(Value<arrow::DoubleArray>(t, "close", 1), 5.0);
  EXPECT_EQ(t.GetColumnByName("count")->null_count(), 2);
  EXPECT_EQ(t.GetColumnByName("close_time_us")->null_count(), 2);

  // A required column missing is named.
  auto no_open = *table->RemoveColumn(1);
  const auto bad = WriteParquet(dir_ / "bad.parquet", no_open);
  auto r = ReadFile(bad, Kind::kKlines);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'open'"), std::string::npos) << r.status().message();

  // A value that does not convert is named with its column.
  arrow::StringBuilder s;
  ASSERT_TRUE(s.AppendValues({"1.5", "oops"}).ok());
  auto bad_values = *table->SetColumn(2, arrow::field("high", arrow::utf8()), std::make_shared<arrow::ChunkedArray>(*s.Finish()));
  const auto bad2 = WriteParquet(dir_ / "bad2.parquet", bad_values);
  r = ReadFile(bad2, Kind::kKlines);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'high'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("oops"), std::string::npos) << r.status().message();
}

std::vector<int64_t> Values(const std::shared_ptr<arrow::Array>& array) {
  const auto& ints = static_cast<const arrow::Int64Array&>(*array);
  std::vector<int64_t> out;
  for (int64_t i = 0; i < ints.length(); ++i) out.push_back(ints.IsNull(i) ? -999 : ints.Value(i));
  return out;
}

TEST(ConvertTime, TimestampUnitsAndIntegerMagnitudes) {
  struct Case {
    arrow::TimeUnit::type unit;
    std::vector<int64_t> in, ms, us;
  };
  // Sub-millisecond times before 1970 round down, as a clock would.
  const std::vector<Case> cases = {
      {arrow::TimeUnit::SECOND, {1706745600}, {1706745600000}, {1706745600000000}},
      {arrow::TimeUnit::MILLI, {1706745600123}, {1706745600123}, {1706745600123000}},
      {arrow::TimeUnit::MICRO, {1706745600123456, -1}, {1706745600123, -1}, {1706745600123456, -1}},
      {arrow::TimeUnit::NANO, {1706745600123456789, -1}, {1706745600123, -1}, {1706745600123456, -1}},
  };
  for (const auto& c : cases) {
    arrow::TimestampBuilder builder(arrow::timestamp(c.unit), arrow::default_memory_pool());
    ASSERT_OK(builder.AppendValues(c.in));
    ASSERT_OK(builder.AppendNull());
    ASSERT_OK_AND_ASSIGN(auto array, builder.Finish());
    ASSERT_OK_AND_ASSIGN(auto pair, ConvertTime(array, "t.parquet", "timestamp"));
    auto ms = c.ms, us = c.us;
    ms.push_back(-999);
    us.push_back(-999);
    EXPECT_EQ(Values(pair.first), ms) << c.unit;
    EXPECT_EQ(Values(pair.second), us) << c.unit;
    EXPECT_EQ(pair.first->null_count(), 1);
  }
  // Plain integers (any width) are milliseconds or microseconds by their magnitude.
  arrow::Int32Builder small;
  ASSERT_OK(small.Append(1000));
  ASSERT_OK_AND_ASSIGN(auto ints, small.Finish());
  ASSERT_OK_AND_ASSIGN(auto pair, ConvertTime(ints, "t.parquet", "timestamp"));
  EXPECT_EQ(Values(pair.second), std::vector<int64_t>{1000000});
  arrow::Int64Builder micros;
  ASSERT_OK(micros.Append(1735689600000123));
  ASSERT_OK_AND_ASSIGN(ints, micros.Finish());
  ASSERT_OK_AND_ASSIGN(pair, ConvertTime(ints, "t.parquet", "timestamp"));
  EXPECT_EQ(Values(pair.first), std::vector<int64_t>{1735689600000});
}

TEST(ConvertTime, ErrorsNameFileAndColumn) {
  arrow::TimestampBuilder seconds(arrow::timestamp(arrow::TimeUnit::SECOND), arrow::default_memory_pool());
  ASSERT_OK(seconds.Append(int64_t{1} << 60));  // overflows in microseconds
  ASSERT_OK_AND_ASSIGN(auto big, seconds.Finish());
  auto r = ConvertTime(big, "t.parquet", "open_time");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("t.parquet: column 'open_time': time value"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("out of range"), std::string::npos) << r.status().message();
  arrow::StringBuilder text;
  ASSERT_OK(text.Append("noon"));
  ASSERT_OK_AND_ASSIGN(auto strings, text.Finish());
  r = ConvertTime(strings, "t.parquet", "open_time");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("t.parquet: column 'open_time': not a time"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace tickforge::binance
