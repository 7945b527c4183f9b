#include <arrow/api.h>
#include <gtest/gtest.h>

#include <set>

#include "tickforge/binance/binance.h"
#include "tickforge/binance/layout_internal.h"
#include "tickforge/binance/test_common.h"

namespace tickforge::binance {
namespace {

TEST_F(BinanceTest, AggTradesSpotAndFutures) {
  const auto spot = Write("BTCUSDT-aggTrades-2024-01-01.csv",
                          "26129,0.01633102,4.70443515,27781,27781,1498793709153,True,True\n"
                          "26130,0.01633200,1.5,27782,27785,1498793709200,False,True\n");
  auto table = *ReadFile(spot, Kind::kAggTrades);
  ASSERT_EQ(table->num_rows(), 2);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "timestamp", 0), 1498793709153);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "trade_id", 1), 26130);
  EXPECT_EQ(Value<arrow::DoubleArray>(*table, "trade_price", 0), 0.01633102);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "last_trade_id", 1), 27785);
  EXPECT_EQ(Value<arrow::BooleanArray>(*table, "trade_is_buyer_maker", 0), true);
  EXPECT_EQ(Value<arrow::BooleanArray>(*table, "trade_is_buyer_maker", 1), false);
  EXPECT_EQ(table->GetColumnByName("is_best_match")->null_count(), 0);

  const auto futures = Write("BTCUSDT-aggTrades-2024-01-02.csv",
                             "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
                             "1,42000.10,0.005,10,12,1704153600001,true\n");
  table = *ReadFile(futures, Kind::kAggTrades);
  ASSERT_EQ(table->num_rows(), 1);
  EXPECT_EQ(table->GetColumnByName("is_best_match")->null_count(), 1);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "timestamp_us", 0), 1704153600001000);
}

TEST_F(BinanceTest, Funding) {
  const auto path = Write("BTCUSDT-fundingRate-2024-02.csv",
                          "calc_time,funding_interval_hours,last_funding_rate\n"
                          "1706745600000,8,0.00010000\n1706774400000,,-0.00002500\n");
  auto table = *ReadFile(path, Kind::kFunding);
  ASSERT_TRUE(table->schema()->Equals(*NormalizedSchema(Kind::kFunding)));
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "funding_time", 1), 1706774400000);
  EXPECT_EQ(Value<arrow::DoubleArray>(*table, "funding_rate", 1), -0.000025);
  EXPECT_EQ(table->GetColumnByName("funding_interval_hours")->null_count(), 1);
}

}  // namespace
}  // namespace tickforge::binance
