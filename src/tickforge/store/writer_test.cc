// The partitioned writer: rows conformed with checked casts, days from every time unit, known
// rows dropped (a set by natural key, a multiset of whole rows without one, also after a
// partition's state was evicted), files cut at max_rows_per_file with their time ranges, and
// the first failing source named.
#include "tickforge/store/writer_internal.h"

#include <arrow/api.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tickforge/store/rules_internal.h"
#include "tickforge/store/test_util_internal.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::store {
namespace {

TEST_F(StoreTest, ReingestAddsNoDuplicates) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  ASSERT_OK(WriteKlines(*store, {Klines("BTCUSDT", k20240101, 100)}).status());
  // The same rows again, plus an overlap with new rows, plus repeats inside the input.
  ASSERT_OK_AND_ASSIGN(auto again, WriteKlines(*store, {Klines("BTCUSDT", k20240101, 100)}));
  EXPECT_EQ(again.rows_written, 0);
  EXPECT_EQ(again.rows_duplicate, 100);
  ASSERT_OK_AND_ASSIGN(auto overlap, WriteKlines(*store, {Klines("BTCUSDT", k20240101 + 50 * 60'000, 100),
                                                          Klines("BTCUSDT", k20240101 + 140 * 60'000, 20)}));
  EXPECT_EQ(overlap.rows_written, 60);
  EXPECT_EQ(CountRows(*store, "klines"), 160);
  ASSERT_OK_AND_ASSIGN(auto latest, store->LatestTimestamp("klines", "BTCUSDT"));
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(*latest, k20240101 + 159 * 60'000);
  ASSERT_OK_AND_ASSIGN(auto none, store->LatestTimestamp("klines", "XRPUSDT"));
  EXPECT_FALSE(none.has_value());
}

TEST_F(StoreTest, SchemaIsEnforcedWithCheckedCasts) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  auto batch = Klines("BTCUSDT", k20240101, 3);
  // close as text: convertible values are cast, a bad one is named.
  arrow::StringBuilder text;
  ASSERT_OK(text.AppendValues({"1.5", "2.5", "abc"}));
  auto bad = *batch->SetColumn(4, arrow::field("close", arrow::utf8()), *text.Finish());
  auto status = WriteKlines(*store, {bad}).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("close"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("abc"), std::string::npos) << status.ToString();
  // Nothing was committed.
  ASSERT_OK_AND_ASSIGN(auto snapshot, store->ReadSnapshot());
  EXPECT_EQ(snapshot.version, 0);
  // A missing required column is named too.
  auto missing = *batch->RemoveColumn(1);
  status = WriteKlines(*store, {missing}).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("'open'"), std::string::npos) << status.ToString();
}

TEST(StoreWriterTest, DaysFromEveryTimeUnitFloored) {
  ASSERT_OK_AND_ASSIGN(auto millis, DayOf(*arrow::int64(), "timestamp"));
  EXPECT_EQ(millis(0), 0);
  EXPECT_EQ(millis(86'399'999), 0);
  EXPECT_EQ(millis(86'400'000), 1);
  EXPECT_EQ(millis(-1), -1);  // 1969-12-31, not day 0
  EXPECT_EQ(millis(-86'400'000), -1);
  ASSERT_OK_AND_ASSIGN(auto seconds, DayOf(*arrow::timestamp(arrow::TimeUnit::SECOND), "t"));
  EXPECT_EQ(seconds(86'400 * 19'723 + 5), 19'723);  // 2024-01-01
  EXPECT_EQ(seconds(-86'401), -2);
  ASSERT_OK_AND_ASSIGN(auto micros, DayOf(*arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), "t"));
  EXPECT_EQ(micros(86'400'000'000LL * 3 - 1), 2);
  ASSERT_OK_AND_ASSIGN(auto nanos, DayOf(*arrow::timestamp(arrow::TimeUnit::NANO), "t"));
  EXPECT_EQ(nanos(1'704'067'200'000'000'000LL), 19'723);
  auto status = DayOf(*arrow::utf8(), "when").status();
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(status.IsTypeError());
  EXPECT_NE(status.message().find("time column 'when' is string"), std::string::npos) << status.message();
}

TEST(StoreWriterTest, ConformColumnNamesTheRowThatDoesNotConvert) {
  arrow::Int32Builder ints;
  ASSERT_OK(ints.AppendValues({1, 2}));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<arrow::Array> small, ints.Finish());
  const auto wide = arrow::field("n", arrow::int64());
  ASSERT_OK_AND_ASSIGN(auto same, ConformColumn(small, arrow::field("n", arrow::int32())));
  EXPECT_EQ(same.get(), small.get());
  ASSERT_OK_AND_ASSIGN(auto cast, ConformColumn(small, wide));
  EXPECT_EQ(cast->type_id(), arrow::Type::INT64);
  arrow::StringBuilder text;
  ASSERT_OK(text.AppendValues({"1.5", "2", "x"}));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<arrow::Array> strings, text.Finish());
  auto status = ConformColumn(strings, arrow::field("close", arrow::float64())).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("column 'close': row 2 value 'x' does not convert from string to double"),
            std::string::npos)
      << status.message();
  // Checked: a value too large for the column's type is an error too.
  arrow::Int64Builder big;
  ASSERT_OK(big.Append(int64_t{1} << 40));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<arrow::Array> large, big.Finish());
  EXPECT_FALSE(ConformColumn(large, arrow::field("n", arrow::int32())).ok());
}

/// Rows of a generic dataset: symbol, timestamp (ms), v.
std::shared_ptr<arrow::RecordBatch> Generic(const std::vector<std::string>& symbols,
                                            const std::vector<std::optional<int64_t>>& times,
                                            const std::vector<int64_t>& values) {
  arrow::StringBuilder symbol;
  arrow::Int64Builder time, value;
  for (size_t i = 0; i < symbols.size(); ++i) {
    EXPECT_TRUE(symbol.Append(symbols[i]).ok());
    EXPECT_TRUE((times[i] ? time.Append(*times[i]) : time.AppendNull()).ok());
    EXPECT_TRUE(value.Append(values[i]).ok());
  }
  auto schema = arrow::schema({arrow::field("symbol", arrow::utf8()), arrow::field("timestamp", arrow::int64()),
                               arrow::field("v", arrow::int64())});
  return arrow::RecordBatch::Make(schema, static_cast<int64_t>(symbols.size()),
                                  {*symbol.Finish(), *time.Finish(), *value.Finish()});
}

Result<CommitInfo> WriteGeneric(Store& store, const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) {
  ARROW_ASSIGN_OR_RAISE(auto reader, arrow::RecordBatchReader::Make(batches));
  return store.Write("rows", "generic", *reader);
}

TEST_F(StoreTest, WithoutANaturalKeyRowsAreAMultiset) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  // Two identical rows in one source are both kept...
  ASSERT_OK_AND_ASSIGN(auto first, WriteGeneric(*store, {Generic({"A", "A", "A"}, {k20240101, k20240101, k20240101},
                                                                 {1, 1, 2})}));
  EXPECT_EQ(first.rows_written, 3);
  EXPECT_EQ(first.rows_duplicate, 0);
  // ... the same source again adds neither, and a third copy is new.
  ASSERT_OK_AND_ASSIGN(auto again, WriteGeneric(*store, {Generic({"A", "A", "A", "A"}, {k20240101, k20240101,
                                                                 k20240101, k20240101}, {1, 1, 1, 2})}));
  EXPECT_EQ(again.rows_written, 1);
  EXPECT_EQ(again.rows_duplicate, 3);
  EXPECT_EQ(CountRows(*store, "rows"), 4);
  // A null time has no partition: the source is refused, naming the row.
  auto status = WriteGeneric(*store, {Generic({"A", "A"}, {k20240101, std::nullopt}, {5, 6})}).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("row 1: time column 'timestamp' is null"), std::string::npos) << status.message();
}

TEST_F(StoreTest, DuplicatesAreFoundAfterAPartitionWasEvicted) {
  // More partitions than the writer keeps open (128): the first ones are closed and their keys
  // dropped before the second pass comes back to them, which reloads the keys from the files
  // this commit staged.
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  for (int pass = 0; pass < 3; ++pass) {
    for (int s = 0; s < 300; ++s) {
      // Passes 0 and 1 are the same rows; pass 2 is the next minute.
      batches.push_back(Klines(fmt::format("S{}", 1000 + s), k20240101 + (pass == 2 ? 60'000 : 0), 1));
    }
  }
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  ASSERT_OK_AND_ASSIGN(auto info, WriteKlines(*store, batches));
  EXPECT_EQ(info.rows_in, 900);
  EXPECT_EQ(info.rows_duplicate, 300);
  EXPECT_EQ(info.rows_written, 600);
  EXPECT_EQ(CountRows(*store, "klines"), 600);
}

TEST_F(StoreTest, FilesAreCutAtMaxRowsWithTheirTimeRanges) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  WriteOptions options;
  options.max_rows_per_file = 10;
  options.min_rows_per_group = 5;
  options.max_rows_per_group = 5;
  ASSERT_OK_AND_ASSIGN(auto info, WriteKlines(*store, {Klines("BTCUSDT", k20240101, 25)}, options));
  ASSERT_EQ(info.added.size(), 3u);
  std::vector<int64_t> rows;
  int64_t next_time = k20240101;
  for (const auto& file : info.added) {
    rows.push_back(file.rows);
    EXPECT_EQ(file.min_time, next_time) << file.path;
    EXPECT_EQ(file.max_time, next_time + (file.rows - 1) * 60'000) << file.path;
    next_time = file.max_time + 60'000;
    EXPECT_EQ(file.version, 1);
    EXPECT_EQ(file.partition,
              (std::vector<std::pair<std::string, std::string>>{{"exchange", "binance"}, {"symbol", "BTCUSDT"},
                                                                {"timeframe", "1m"}, {"year", "2024"},
                                                                {"month", "1"}, {"day", "1"}}));
    EXPECT_TRUE(file.path.starts_with("klines/exchange=binance/symbol=BTCUSDT/timeframe=1m/year=2024/month=1/day=1/"
                                      "part-000001-"))
        << file.path;
    EXPECT_GT(file.bytes, 0);
  }
  EXPECT_EQ(rows, (std::vector<int64_t>{10, 10, 5}));
  EXPECT_EQ(info.rows_written, 25);
}

TEST_F(StoreTest, TheFirstFailingSourceIsNamed) {
  const StorePaths paths(root_);
  ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(paths, "write"));
  ASSERT_OK_AND_ASSIGN(auto rules, RulesFor("generic"));
  DatasetEntry& dataset = txn->next().datasets["rows"];
  dataset.name = "rows";
  auto good = Generic({"A"}, {k20240101}, {1});
  ASSERT_OK(PrepareDataset(dataset, rules, *good->schema(), true));
  std::vector<LazySource> readers;
  readers.push_back(LazySource{"good.parquet", [good]() -> Result<std::shared_ptr<arrow::RecordBatchReader>> {
                                 return arrow::RecordBatchReader::Make({good});
                               }});
  readers.push_back(LazySource{"bad.parquet", []() -> Result<std::shared_ptr<arrow::RecordBatchReader>> {
                                 return Status::IOError("cannot read");
                               }});
  CommitInfo info;
  const Status status = WriteReaders(paths, *txn, dataset, WriteOptions{}, readers, 2, &info);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "bad.parquet: cannot read");
  EXPECT_TRUE(info.added.empty());
}

}  // namespace
}  // namespace tickforge::store
