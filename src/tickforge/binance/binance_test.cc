#include <arrow/api.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tickforge/binance/binance.h"
#include "tickforge/binance/test_common.h"
#include "tickforge/synth/binance.h"

namespace tickforge::binance {
namespace {

namespace fs = std::filesystem;

TEST_F(BinanceTest, GeneratorIsDeterministicAndConsistent) {
  synth::BinanceOptions options;
  options.out_dir = dir_ / "a";
  options.symbol_count = 2;
  options.days = 2;
  options.market = "spot";
  options.start_date = 20241231;  // crosses into µs times
  options.kinds = {Kind::kKlines, Kind::kAggTrades};
  options.aggtrades_per_minute = 5;
  auto a = *synth::WriteBinanceDumps(options);
  options.out_dir = dir_ / "b";
  auto b = *synth::WriteBinanceDumps(options);
  ASSERT_EQ(a.size(), 8u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(ReadBytes(a[i].path), ReadBytes(b[i].path)) << a[i].path;
  for (const auto& f : a) {
    auto info = *InferFileInfo(f.path);
    EXPECT_EQ(info.kind, f.kind);
    auto table = ReadFile(f.path, f.kind);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    EXPECT_EQ((*table)->num_rows(), f.rows);
    const bool micros = f.path.find("2025-01-01") != std::string::npos;
    const int64_t first_us = Value<arrow::Int64Array>(**table, "timestamp_us", 0);
    if (f.kind == Kind::kKlines) {  // the file's first field is the open time in its own unit
      EXPECT_EQ(ReadBytes(f.path).substr(0, micros ? 16 : 13), std::to_string(micros ? first_us : first_us / 1000));
    }
    if (f.kind == Kind::kKlines) {
      const auto combined = *(*table)->CombineChunks();
      for (int64_t i = 0; i < combined->num_rows(); ++i) {
        const double o = Value<arrow::DoubleArray>(*combined, "open", i);
        const double h = Value<arrow::DoubleArray>(*combined, "high", i);
        const double l = Value<arrow::DoubleArray>(*combined, "low", i);
        const double c = Value<arrow::DoubleArray>(*combined, "close", i);
        ASSERT_GE(h, std::max(o, c));
        ASSERT_LE(l, std::min(o, c));
        ASSERT_GT(l, 0);
        ASSERT_LE(Value<arrow::DoubleArray>(*combined, "taker_buy_volume", i),
                  Value<arrow::DoubleArray>(*combined, "volume", i));
        ASSERT_EQ(Value<arrow::Int64Array>(*combined, "close_time_us", i),
                  Value<arrow::Int64Array>(*combined, "timestamp_us", i) + (micros ? 59'999'999 : 59'999'000));
      }
    } else {
      const auto combined = *(*table)->CombineChunks();
      for (int64_t i = 0; i < combined->num_rows(); ++i) {
        ASSERT_LE(Value<arrow::Int64Array>(*combined, "first_trade_id", i),
                  Value<arrow::Int64Array>(*combined, "last_trade_id", i));
        if (i > 0) {
          ASSERT_EQ(Value<arrow::Int64Array>(*combined, "trade_id", i),
                    Value<arrow::Int64Array>(*combined, "trade_id", i - 1) + 1);
          ASSERT_GE(Value<arrow::Int64Array>(*combined, "timestamp_us", i),
                    Value<arrow::Int64Array>(*combined, "timestamp_us", i - 1));
        }
      }
    }
  }
  options.seed = 2;
  options.out_dir = dir_ / "c";
  auto c = *synth::WriteBinanceDumps(options);
  EXPECT_NE(ReadBytes(a[0].path), ReadBytes(c[0].path));
}

TEST_F(BinanceTest, RealTestdataWhenPresent) {
  const fs::path base = TICKFORGE_DEFAULT_TESTDATA;
  const auto algo = base / "binance" / "ALGOUSDT-1m-2024-02.csv";
  if (!fs::exists(algo)) GTEST_SKIP() << "test data not found: " << algo;
  auto table = ReadFile(algo.string(), Kind::kKlines);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ((*table)->num_rows(), 41760);
  const auto ada = base / "nautilus" / "ADABTC-1m-2021-11-27.csv";
  table = ReadFile(ada.string(), Kind::kKlines);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ((*table)->num_rows(), 10);
  EXPECT_EQ(Value<arrow::Int64Array>(**table, "timestamp", 0), 1637971200000);
}

TEST_F(BinanceTest, OpenFileChoosesTheFormatByExtension) {
  // The same CSV bytes under three names: read as CSV, refused as a zip and as Parquet.
  const std::string csv = std::string(kKlinesHeader) + kKlineRow1;
  auto table = ReadFile(Write("BTCUSDT-1m-2024-02.csv", csv), Kind::kKlines);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ((*table)->num_rows(), 1);
  auto zip = ReadFile(Write("BTCUSDT-1m-2024-02.ZIP", csv), Kind::kKlines);
  ASSERT_FALSE(zip.ok());
  EXPECT_NE(zip.status().message().find("not a readable zip archive"), std::string::npos) << zip.status().message();
  auto parquet = ReadFile(Write("klines_binance_BTCUSDT_1m_consolidated.parquet", csv), Kind::kKlines);
  ASSERT_FALSE(parquet.ok());
  EXPECT_NE(parquet.status().message().find("not a readable Parquet file"), std::string::npos)
      << parquet.status().message();
}

}  // namespace
}  // namespace tickforge::binance
