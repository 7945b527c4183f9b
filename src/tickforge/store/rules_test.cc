// The data type rules: each type's partitions, keys and required columns; partition values
// that could escape the dataset folder; write options' ranges; a dataset's schema growing to
// hold an input.
#include "tickforge/store/rules_internal.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include "tickforge/store/test_util_internal.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::store {
namespace {

TEST_F(StoreTest, RejectsPartitionValuesThatEscape) {
  for (const std::string value : {"../../x", "a/b", "..", "", ".hidden", "_tmp", "a%2F", "x\ny"}) {
    EXPECT_FALSE(ValidatePartitionValue("symbol", value).ok()) << value;
  }
  EXPECT_TRUE(ValidatePartitionValue("symbol", "BTCUSDT").ok());
  EXPECT_TRUE(ValidatePartitionValue("symbol", "ES 240315C05000000").ok());
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  auto status = WriteKlines(*store, {Klines("../../evil", k20240101, 3)}).status();
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE(fs::exists(root_.parent_path() / "evil"));
}

TEST(StoreRulesTest, EachTypeItsPartitionsKeysAndColumns) {
  ASSERT_OK_AND_ASSIGN(auto klines, RulesFor("klines"));
  EXPECT_EQ(klines.partition_keys, kKlineKeys);
  EXPECT_EQ(klines.natural_key, std::vector<std::string>{"timestamp"});
  EXPECT_EQ(klines.time_column, "timestamp");
  EXPECT_EQ(klines.required->ToString(),
            "timestamp: int64 not null\nopen: double\nhigh: double\nlow: double\nclose: double\nvolume: double\n"
            "exchange: string not null\nsymbol: string not null\ntimeframe: string not null\n"
            "year: int16 not null\nmonth: int8 not null\nday: int8 not null");
  ASSERT_OK_AND_ASSIGN(auto trades, RulesFor("aggtrades"));
  EXPECT_EQ(trades.partition_keys, kBinanceKeys);
  EXPECT_EQ(trades.natural_key, std::vector<std::string>{"trade_id"});
  ASSERT_OK_AND_ASSIGN(auto futures, RulesFor("futures"));
  EXPECT_EQ(futures.type, "funding");  // the alias takes the type's own name
  EXPECT_EQ(futures.required->GetFieldByName("funding_rate")->type()->id(), arrow::Type::DOUBLE);
  for (const std::string generic : {"generic", "unified", "labeled"}) {
    ASSERT_OK_AND_ASSIGN(auto rules, RulesFor(generic));
    EXPECT_EQ(rules.partition_keys, (std::vector<std::string>{"symbol", "year", "month", "day"})) << generic;
    EXPECT_TRUE(rules.natural_key.empty()) << generic;  // a row is all its values
    EXPECT_EQ(rules.time_column, "timestamp") << generic;
  }
  // DBN schemas by their names without dashes; every bar interval is one ohlcv dataset.
  for (const std::string dbn : {"mbp10", "mbp1", "mbo", "trades", "tbbo", "ohlcv", "definition"}) {
    ASSERT_OK_AND_ASSIGN(auto rules, RulesFor(dbn));
    EXPECT_EQ(rules.partition_keys, kDbnKeys) << dbn;
    EXPECT_TRUE(rules.time_column.empty()) << dbn;  // the index column, set on ingest
    EXPECT_EQ(rules.required->field_names(), (std::vector<std::string>{"dataset", "symbol"})) << dbn;
  }
  for (const std::string unknown : {"candles", "mbp-10", "ohlcv1m", ""}) {
    auto status = RulesFor(unknown).status();
    ASSERT_FALSE(status.ok()) << unknown;
    EXPECT_NE(status.message().find("unknown data type '" + unknown + "'"), std::string::npos) << status.message();
  }
  EXPECT_TRUE(IsDateKey("year") && IsDateKey("month") && IsDateKey("day"));
  EXPECT_FALSE(IsDateKey("symbol"));
}

TEST(StoreRulesTest, WriteOptionsRanges) {
  EXPECT_TRUE(WriteOptions{}.Validate().ok());
  const auto invalid = [](void (*change)(WriteOptions&)) {
    WriteOptions options;
    change(options);
    return !options.Validate().ok();
  };
  EXPECT_TRUE(invalid([](WriteOptions& o) { o.compression = "zip"; }));
  EXPECT_TRUE(invalid([](WriteOptions& o) { o.max_rows_per_file = 0; }));
  EXPECT_TRUE(invalid([](WriteOptions& o) { o.min_rows_per_group = -1; }));
  EXPECT_TRUE(invalid([](WriteOptions& o) { o.max_rows_per_group = 0; }));
  EXPECT_TRUE(invalid([](WriteOptions& o) { o.min_rows_per_group = o.max_rows_per_group + 1; }));
  EXPECT_TRUE(invalid([](WriteOptions& o) {
    o.max_rows_per_file = 1000;
    o.min_rows_per_group = 1000;
    o.max_rows_per_group = 1000;
  }));
  EXPECT_TRUE(invalid([](WriteOptions& o) { o.constants["exchange"] = "../up"; }));
  EXPECT_FALSE(invalid([](WriteOptions& o) {
    o.compression = "none";
    o.max_rows_per_file = 1000;
    o.min_rows_per_group = 999;
    o.max_rows_per_group = 999;
    o.constants["exchange"] = "binance";
  }));
  EXPECT_TRUE(ValidateDatasetName("klines").ok());
  EXPECT_FALSE(ValidateDatasetName("../klines").ok());
  EXPECT_FALSE(ValidateDatasetName("_cache").ok());
}

TEST(StoreRulesTest, DatasetSchemaTakesRequiredColumnsThenTheInputsThenKeys) {
  ASSERT_OK_AND_ASSIGN(auto rules, RulesFor("funding"));
  DatasetEntry dataset;
  dataset.name = "funding";
  auto input = arrow::schema({arrow::field("symbol", arrow::utf8()), arrow::field("mark", arrow::float32()),
                              arrow::field("funding_rate", arrow::float64()), arrow::field("timestamp", arrow::int64())});
  ASSERT_OK(PrepareDataset(dataset, rules, *input, /*is_new=*/true));
  EXPECT_EQ(dataset.type, "funding");
  EXPECT_EQ(dataset.partition_keys, kBinanceKeys);
  EXPECT_EQ(dataset.natural_key, std::vector<std::string>{"timestamp"});
  EXPECT_EQ(dataset.time_column, "timestamp");
  EXPECT_EQ(dataset.schema->ToString(),
            "timestamp: int64 not null\nfunding_rate: double\nmark: float\n"
            "exchange: string not null\nsymbol: string not null\nyear: int16 not null\nmonth: int8 not null\n"
            "day: int8 not null");

  // A later input adds its new columns as nullable (older files read them as null); a column
  // the dataset has keeps its type.
  auto later = arrow::schema({arrow::field("timestamp", arrow::int64()), arrow::field("funding_rate", arrow::float64()),
                              arrow::field("mark", arrow::float64()), arrow::field("index", arrow::float64(), false)});
  ASSERT_OK(PrepareDataset(dataset, rules, *later, /*is_new=*/false));
  EXPECT_EQ(dataset.schema->GetFieldByName("mark")->type()->id(), arrow::Type::FLOAT);
  ASSERT_TRUE(dataset.schema->GetFieldByName("index"));
  EXPECT_TRUE(dataset.schema->GetFieldByName("index")->nullable());
  EXPECT_EQ(dataset.schema->field_names().back(), "day");

  // A required column missing from the input is named, with what the input has.
  DatasetEntry other;
  other.name = "f2";
  auto status = PrepareDataset(other, rules, *arrow::schema({arrow::field("timestamp", arrow::int64())}), true);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("needs column 'funding_rate' (double); the input has: timestamp"), std::string::npos)
      << status.message();
  // Rules without a time column (a DBN type before ingest names it) are refused.
  ASSERT_OK_AND_ASSIGN(auto mbo, RulesFor("mbo"));
  DatasetEntry dbn;
  dbn.name = "mbo";
  status = PrepareDataset(dbn, mbo, *arrow::schema({arrow::field("ts_recv", arrow::uint64())}), true);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("has no time column"), std::string::npos) << status.message();

  arrow::FieldVector fields = {arrow::field("a", arrow::int32())};
  AddMissingFields(fields, {arrow::field("a", arrow::utf8()), arrow::field("b", arrow::int8())});
  EXPECT_EQ(arrow::schema(fields)->ToString(), "a: int32\nb: int8");
}

}  // namespace
}  // namespace tickforge::store
