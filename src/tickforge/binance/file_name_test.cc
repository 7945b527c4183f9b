#include <gtest/gtest.h>

#include "tickforge/binance/binance.h"

namespace tickforge::binance {
namespace {

TEST(BinanceNames, KindsAndFileNames) {
  EXPECT_EQ(KindName(Kind::kAggTrades), "aggtrades");
  EXPECT_EQ(*ParseKind("futures"), Kind::kFunding);
  EXPECT_EQ(*ParseKind("klines"), Kind::kKlines);
  EXPECT_FALSE(ParseKind("trades").ok());

  auto info = *InferFileInfo("/x/BTCUSDT-1m-2024-02.csv");
  EXPECT_EQ(info.kind, Kind::kKlines);
  EXPECT_EQ(info.symbol, "BTCUSDT");
  EXPECT_EQ(info.timeframe, "1m");
  EXPECT_EQ(info.exchange, "binance");
  info = *InferFileInfo("ETHUSDT-1mo-2024-02-01.zip");
  EXPECT_EQ(info.timeframe, "1mo");
  info = *InferFileInfo("BTCUSDT-aggTrades-2024-02-01.csv");
  EXPECT_EQ(info.kind, Kind::kAggTrades);
  EXPECT_EQ(info.timeframe, "");
  info = *InferFileInfo("BTCUSD_PERP-fundingRate-2024-02.zip");
  EXPECT_EQ(info.kind, Kind::kFunding);
  EXPECT_EQ(info.symbol, "BTCUSD_PERP");
  info = *InferFileInfo("klines_binance_BTCUSDT_1m_consolidated.parquet");
  EXPECT_TRUE(info.consolidated);
  EXPECT_EQ(info.symbol, "BTCUSDT");
  EXPECT_EQ(info.timeframe, "1m");
  info = *InferFileInfo("futures_binance_BTCUSDT_consolidated.parquet");
  EXPECT_EQ(info.kind, Kind::kFunding);
  info = *InferFileInfo("aggtrades_binance_BTCUSDT_consolidated.parquet");
  EXPECT_EQ(info.kind, Kind::kAggTrades);
  for (const char* bad : {"data.csv", "BTCUSDT-7m-2024-02.csv", "BTCUSDT-1m-2024-xx.csv", "BTCUSDT-1m.csv",
                          "klines_binance_BTCUSDT_consolidated.parquet"}) {
    auto r = InferFileInfo(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace tickforge::binance
