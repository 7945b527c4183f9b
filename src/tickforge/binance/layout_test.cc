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

arrow::Type::type TypeOf(FieldType type) {
  switch (type) {
    case FieldType::kTime:
    case FieldType::kInt:
    case FieldType::kNullableInt:
      return arrow::Type::INT64;
    case FieldType::kFloat:
      return arrow::Type::DOUBLE;
    case FieldType::kBool:
      return arrow::Type::BOOL;
    case FieldType::kText:
      return arrow::Type::STRING;
  }
  return arrow::Type::NA;
}

TEST(Layout, FieldsFillEveryNormalizedColumnOnce) {
  struct Case {
    Kind kind;
    int columns;
    std::set<int> completed;  // columns CompleteColumns fills
  };
  for (const Case& c : {Case{Kind::kKlines, 12, {}}, Case{Kind::kAggTrades, 8, {}}, Case{Kind::kAggTrades, 7, {7}},
                        Case{Kind::kFunding, 3, {1}}}) {
    const auto schema = NormalizedSchema(c.kind);
    const auto fields = FieldsFor(c.kind, c.columns);
    ASSERT_EQ(static_cast<int>(fields.size()), c.columns);
    std::multiset<int> filled(c.completed.begin(), c.completed.end());
    for (const auto& f : fields) {
      filled.insert(f.out);
      EXPECT_EQ(schema->field(f.out)->type()->id(), TypeOf(f.type)) << f.name;
      if (f.type == FieldType::kTime) {
        ASSERT_GE(f.out_us, 0) << f.name;
        filled.insert(f.out_us);
        EXPECT_EQ(schema->field(f.out_us)->name(), schema->field(f.out)->name() + "_us") << f.name;
      } else {
        EXPECT_EQ(f.out_us, -1) << f.name;
      }
    }
    std::multiset<int> all;
    for (int i = 0; i < schema->num_fields(); ++i) all.insert(i);
    EXPECT_EQ(filled, all) << KindName(c.kind) << " " << c.columns;
  }
}

TEST(Layout, DataColumnsPerKindAndMarket) {
  EXPECT_EQ(*DataColumns(Kind::kAggTrades, 7), 7);
  EXPECT_EQ(*DataColumns(Kind::kAggTrades, 8), 8);
  auto six = DataColumns(Kind::kAggTrades, 6);
  ASSERT_FALSE(six.ok());
  EXPECT_EQ(six.status().message(), "expected 7 (futures) or 8 (spot) columns, got 6");
  // Klines and funding have one layout; a line of another width fails in the parser.
  EXPECT_EQ(*DataColumns(Kind::kKlines, 3), 12);
  EXPECT_EQ(*DataColumns(Kind::kFunding, 12), 3);
}

TEST(Layout, HeadersBinanceWrites) {
  EXPECT_TRUE(KnownHeader(Kind::kKlines, "open_time"));
  EXPECT_TRUE(KnownHeader(Kind::kKlines, "Open Time"));
  EXPECT_TRUE(KnownHeader(Kind::kAggTrades, "Aggregate tradeId"));
  EXPECT_TRUE(KnownHeader(Kind::kFunding, "CALC_TIME"));
  EXPECT_FALSE(KnownHeader(Kind::kFunding, "open_time"));
  EXPECT_FALSE(KnownHeader(Kind::kKlines, "close"));
}

TEST(Layout, TimesSplitByMagnitude) {
  int64_t ms = 0, us = 0;
  ASSERT_TRUE(SplitTime(1706745600123, &ms, &us));  // milliseconds
  EXPECT_EQ(ms, 1706745600123);
  EXPECT_EQ(us, 1706745600123000);
  ASSERT_TRUE(SplitTime(1735689600000123, &ms, &us));  // microseconds (spot from 2025)
  EXPECT_EQ(ms, 1735689600000);
  EXPECT_EQ(us, 1735689600000123);
  ASSERT_TRUE(SplitTime(kMicrosThreshold - 1, &ms, &us));
  EXPECT_EQ(ms, kMicrosThreshold - 1);
  ASSERT_TRUE(SplitTime(kMicrosThreshold, &ms, &us));
  EXPECT_EQ(us, kMicrosThreshold);
  ASSERT_TRUE(SplitTime(-kMicrosThreshold + 1, &ms, &us));
  EXPECT_EQ(us, (-kMicrosThreshold + 1) * 1000);
  EXPECT_FALSE(SplitTime(-kMicrosThreshold, &ms, &us));
}

}  // namespace
}  // namespace tickforge::binance
