// Filters: parsing `column op value` text, predicates as Arrow expressions in the column's
// type, a file's partition values as a guarantee, and the pruning of files a scan opens.
#include "tickforge/store/predicate_internal.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <gtest/gtest.h>

#include "tickforge/store/test_util_internal.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/util/files.h"

namespace tickforge::store {
namespace {

namespace cp = arrow::compute;

TEST_F(StoreTest, ParsesPredicates) {
  ASSERT_OK_AND_ASSIGN(auto p, ParsePredicate("timestamp >= 1700000000000"));
  EXPECT_EQ(p.column, "timestamp");
  EXPECT_EQ(p.op, ">=");
  EXPECT_EQ(std::get<int64_t>(p.values.at(0)), 1700000000000LL);
  ASSERT_OK_AND_ASSIGN(auto q, ParsePredicate("symbol in BTCUSDT, ETHUSDT"));
  EXPECT_EQ(q.op, "in");
  ASSERT_EQ(q.values.size(), 2u);
  EXPECT_EQ(std::get<std::string>(q.values[1]), "ETHUSDT");
  EXPECT_FALSE(ParsePredicate("no operator here").ok());
}

TEST(StorePredicateTest, ValuesTakeTheirTypeFromTheText) {
  ASSERT_OK_AND_ASSIGN(auto p, ParsePredicate("close<=1.5"));
  EXPECT_EQ(p.op, "<=");  // the two-character operator, not '<' then "=1.5"
  EXPECT_EQ(std::get<double>(p.values.at(0)), 1.5);
  ASSERT_OK_AND_ASSIGN(p, ParsePredicate(" flag == true "));
  EXPECT_EQ(p.column, "flag");
  EXPECT_EQ(std::get<bool>(p.values.at(0)), true);
  ASSERT_OK_AND_ASSIGN(p, ParsePredicate("day!=-3"));
  EXPECT_EQ(p.op, "!=");
  EXPECT_EQ(std::get<int64_t>(p.values.at(0)), -3);
  ASSERT_OK_AND_ASSIGN(p, ParsePredicate("symbol=BTC-USD"));
  EXPECT_EQ(std::get<std::string>(p.values.at(0)), "BTC-USD");
  ASSERT_OK_AND_ASSIGN(p, ParsePredicate("symbol in A,,B,"));  // empty items are dropped
  EXPECT_EQ(p.values.size(), 2u);
  EXPECT_EQ(ValueText(Value{true}), "true");
  EXPECT_EQ(ValueText(Value{int64_t{-3}}), "-3");
  EXPECT_EQ(ValueText(Value{2.5}), "2.5");
  EXPECT_FALSE(ParsePredicate("=5").ok());
  EXPECT_FALSE(ParsePredicate("symbol in ").ok());
}

class StoreExpressionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(InitializeCompute());  // expressions bind to Arrow's compute functions
    schema_ = arrow::schema({arrow::field("symbol", arrow::utf8()), arrow::field("timestamp", arrow::int64()),
                             arrow::field("close", arrow::float64()), arrow::field("day", arrow::int8())});
    arrow::StringBuilder symbol;
    arrow::Int64Builder timestamp;
    arrow::DoubleBuilder close;
    arrow::Int8Builder day;
    ASSERT_OK(symbol.AppendValues({"A", "B", "C"}));
    ASSERT_OK(timestamp.AppendValues({100, 200, 300}));
    ASSERT_OK(close.AppendValues({1.0, 2.0, 3.0}));
    ASSERT_OK(day.AppendValues({1, 2, 3}));
    batch_ = arrow::RecordBatch::Make(schema_, 3, {*symbol.Finish(), *timestamp.Finish(), *close.Finish(), *day.Finish()});
  }

  /// Return which rows of the batch `text` keeps.
  std::vector<bool> Keeps(const std::string& text) {
    std::vector<bool> out;
    auto predicate = ParsePredicate(text);
    EXPECT_TRUE(predicate.ok()) << predicate.status().ToString();
    auto expression = ToExpression(*predicate, *schema_);
    EXPECT_TRUE(expression.ok()) << expression.status().ToString();
    if (!expression.ok()) return out;
    auto bound = expression->Bind(*schema_);
    EXPECT_TRUE(bound.ok()) << bound.status().ToString();
    auto result = cp::ExecuteScalarExpression(*bound, *schema_, batch_);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    const auto array = result->make_array();
    const auto& mask = static_cast<const arrow::BooleanArray&>(*array);
    for (int64_t i = 0; i < mask.length(); ++i) out.push_back(mask.Value(i));
    return out;
  }

  std::string Error(const Predicate& p) {
    auto expression = ToExpression(p, *schema_);
    EXPECT_FALSE(expression.ok());
    return expression.status().ToString();
  }

  std::shared_ptr<arrow::Schema> schema_;
  std::shared_ptr<arrow::RecordBatch> batch_;
};

TEST_F(StoreExpressionTest, EachOperatorInTheColumnsType) {
  EXPECT_EQ(Keeps("symbol=B"), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(Keeps("symbol==B"), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(Keeps("symbol!=B"), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(Keeps("timestamp<200"), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(Keeps("timestamp<=200"), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(Keeps("timestamp>200"), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(Keeps("timestamp>=200"), (std::vector<bool>{false, true, true}));
  EXPECT_EQ(Keeps("close>1"), (std::vector<bool>{false, true, true}));  // an integer against a double column
  EXPECT_EQ(Keeps("day in 1,3"), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(Keeps("symbol in C, A"), (std::vector<bool>{true, false, true}));
}

TEST_F(StoreExpressionTest, ErrorsNameTheColumnAndTheValue) {
  std::string error = Error(Predicate{"price", "==", {1.0}});
  EXPECT_NE(error.find("Key error: filter on unknown column 'price' (columns: symbol, timestamp, close, day)"),
            std::string::npos)
      << error;
  error = Error(Predicate{"close", "==", {std::string("abc")}});
  EXPECT_NE(error.find("filter on 'close': value 'abc' is not a double"), std::string::npos) << error;
  error = Error(Predicate{"close", "~", {1.0}});
  EXPECT_NE(error.find("unknown operator '~'"), std::string::npos) << error;
  error = Error(Predicate{"close", "==", {1.0, 2.0}});
  EXPECT_NE(error.find("operator '==' takes one value"), std::string::npos) << error;
  error = Error(Predicate{"close", "in", {}});
  EXPECT_NE(error.find("operator 'in' takes one or more values"), std::string::npos) << error;
}

TEST(StorePredicateTest, FilesArePrunedByPartitionAndTimeRange) {
  ASSERT_OK(InitializeCompute());
  DatasetEntry dataset;
  dataset.time_column = "timestamp";
  dataset.schema = arrow::schema({arrow::field("timestamp", arrow::int64()), arrow::field("close", arrow::float64()),
                                  arrow::field("symbol", arrow::utf8()), arrow::field("day", arrow::int8())});
  FileEntry file;
  file.partition = {{"symbol", "BTC"}, {"day", "2"}};
  file.min_time = 100;
  file.max_time = 200;
  const auto may_match = [&](const std::string& text) {
    auto predicate = ParsePredicate(text);
    EXPECT_TRUE(predicate.ok());
    auto expression = ToExpression(*predicate, *dataset.schema);
    EXPECT_TRUE(expression.ok()) << expression.status().ToString();
    auto result = MayMatch(file, dataset, {*expression});
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() && *result;
  };
  EXPECT_TRUE(may_match("symbol=BTC"));
  EXPECT_FALSE(may_match("symbol=ETH"));
  EXPECT_TRUE(may_match("day in 2,3"));
  EXPECT_FALSE(may_match("day in 1,3"));
  EXPECT_TRUE(may_match("timestamp>=150"));
  EXPECT_TRUE(may_match("timestamp<=100"));
  EXPECT_FALSE(may_match("timestamp>200"));
  EXPECT_FALSE(may_match("timestamp<100"));
  EXPECT_TRUE(may_match("close>1000"));  // no statistics here: only Parquet's can tell
  ASSERT_OK_AND_ASSIGN(bool all, MayMatch(file, dataset, {}));
  EXPECT_TRUE(all);

  // The partition as an expression: values in their keys' types; true without partitions.
  ASSERT_OK_AND_ASSIGN(auto partition, PartitionExpression(file, *dataset.schema));
  ASSERT_OK_AND_ASSIGN(auto bound, partition.Bind(*dataset.schema));
  EXPECT_EQ(bound.ToString(), "((symbol == \"BTC\") and (day == 2))");
  ASSERT_OK_AND_ASSIGN(auto none, PartitionExpression(FileEntry{}, *dataset.schema));
  EXPECT_EQ(none.ToString(), "true");
  file.partition = {{"exchange", "binance"}};
  auto status = PartitionExpression(file, *dataset.schema).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("partition key 'exchange' is not in the dataset schema"), std::string::npos)
      << status.message();
}

TEST(StorePredicateTest, TheFastPrunerRulesOutOnlyWhatMayMatchRejects) {
  ASSERT_OK(InitializeCompute());
  DatasetEntry dataset;
  dataset.name = "d";
  dataset.partition_keys = {"symbol", "month"};
  dataset.time_column = "timestamp";
  dataset.schema = arrow::schema({arrow::field("timestamp", arrow::int64()), arrow::field("price", arrow::float64()),
                                  arrow::field("symbol", arrow::utf8()), arrow::field("month", arrow::int8())});
  std::vector<FileEntry> files;
  for (const std::string symbol : {"BTC", "ETH", "123"}) {
    for (const std::string month : {"1", "2", "12"}) {
      FileEntry file;
      file.path = "d/" + symbol + month;
      file.partition = {{"symbol", symbol}, {"month", month}};
      file.min_time = 1000 * std::stoll(month);
      file.max_time = file.min_time + 500;
      files.push_back(file);
    }
  }
  int ruled_out = 0;
  for (const std::string text :
       {"symbol=BTC", "symbol==ETH", "symbol in BTC,XRP", "symbol=XRP", "symbol=123", "symbol!=BTC", "month=1",
        "month in 2,12", "month=1.0", "month=-1", "timestamp<1000", "timestamp<=1000", "timestamp>2500",
        "timestamp>=12500", "timestamp==2200", "timestamp in 1100,12000", "timestamp<1.5", "price<3"}) {
    ASSERT_OK_AND_ASSIGN(auto predicate, ParsePredicate(text));
    ASSERT_OK_AND_ASSIGN(auto expression, ToExpression(predicate, *dataset.schema));
    const FilePruner pruner(dataset, {predicate});
    for (const auto& file : files) {
      ASSERT_OK_AND_ASSIGN(bool may_match, MayMatch(file, dataset, {expression}));
      if (pruner.RulesOut(file)) {
        ++ruled_out;
        EXPECT_FALSE(may_match) << text << " ruled out " << file.path << ", which may match";
      }
    }
  }
  EXPECT_GT(ruled_out, 60);  // it does prune: symbol, month and time terms each rule files out
  const FilePruner btc(dataset, {*ParsePredicate("symbol=BTC"), *ParsePredicate("month=2")});
  EXPECT_FALSE(btc.RulesOut(files[1]));
  EXPECT_TRUE(btc.RulesOut(files[0]));
  EXPECT_TRUE(btc.RulesOut(files[4]));
}

}  // namespace
}  // namespace tickforge::store
