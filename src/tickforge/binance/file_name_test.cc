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

TEST(FileNameGrammar, KindNamesRoundTripAndIgnoreCase) {
  for (Kind kind : {Kind::kKlines, Kind::kAggTrades, Kind::kFunding}) {
    auto parsed = ParseKind(KindName(kind));
    ASSERT_TRUE(parsed.ok()) << KindName(kind);
    EXPECT_EQ(*parsed, kind);
  }
  EXPECT_EQ(*ParseKind("AggTrades"), Kind::kAggTrades);
  EXPECT_EQ(*ParseKind("fundingRate"), Kind::kFunding);
  auto bad = ParseKind("bookTicker");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'bookTicker'"), std::string::npos) << bad.status().message();
}

TEST(FileNameGrammar, VisionNames) {
  // The folder does not matter, dashes in it included.
  auto info = *InferFileInfo("/data/spot-monthly/BTCUSDT-aggTrades-2024-02.zip");
  EXPECT_EQ(info.kind, Kind::kAggTrades);
  EXPECT_EQ(info.symbol, "BTCUSDT");
  EXPECT_FALSE(info.consolidated);
  // "<stem>.csv.zip" as well as "<stem>.zip".
  info = *InferFileInfo("ETHUSDT-15m-2024-02-03.csv.zip");
  EXPECT_EQ(info.kind, Kind::kKlines);
  EXPECT_EQ(info.timeframe, "15m");
  for (const char* bad : {"BTCUSDT-1m-2024-02-01-05.csv", "-1m-2024-02.csv", "BTCUSDT-trades-2024-02.csv",
                          "BTCUSDT-1m-2024-02.parquet", "BTCUSDT-1m-2024-02", "BTCUSDT-aggtrades-2024-02.csv"}) {
    auto r = InferFileInfo(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("cannot tell the data kind"), std::string::npos) << r.status().message();
  }
}

TEST(FileNameGrammar, FuturesMarketsFromVisionFolders) {
  EXPECT_EQ(InferFileInfo("dl/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.csv")->market, "");
  EXPECT_EQ(InferFileInfo("dl/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.csv")->market, "um");
  EXPECT_EQ(InferFileInfo("/x/futures/cm/monthly/aggTrades/BTCUSD_PERP/BTCUSD_PERP-aggTrades-2024-01.zip")->market,
            "cm");
  EXPECT_EQ(InferFileInfo("/x/um/futures/BTCUSDT-1m-2024-01-01.csv")->market, "");  // not Binance's layout
}

TEST(FileNameGrammar, ConsolidatedNames) {
  // A symbol may hold '_'; the interval is the last part of a klines name only.
  auto info = *InferFileInfo("klines_okx_BTCUSD_PERP_1h_consolidated.parquet");
  EXPECT_EQ(info.kind, Kind::kKlines);
  EXPECT_EQ(info.exchange, "okx");
  EXPECT_EQ(info.symbol, "BTCUSD_PERP");
  EXPECT_EQ(info.timeframe, "1h");
  EXPECT_TRUE(info.consolidated);
  info = *InferFileInfo("funding_binance_BTCUSD_PERP_consolidated.parquet");
  EXPECT_EQ(info.kind, Kind::kFunding);
  EXPECT_EQ(info.symbol, "BTCUSD_PERP");
  EXPECT_EQ(info.timeframe, "");
  for (const char* bad : {"klines__BTCUSDT_1m_consolidated.parquet", "trades_binance_BTCUSDT_consolidated.parquet",
                          "klines_binance_1m_consolidated.parquet", "aggtrades_binance_consolidated.parquet"}) {
    auto r = InferFileInfo(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace tickforge::binance
