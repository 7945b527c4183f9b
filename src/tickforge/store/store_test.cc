#include "tickforge/store/store.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "tickforge/store/manifest.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::store {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("tickforge_store_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  /// Klines of `symbol`: one row per minute from `start_ms`, `n` rows.
  static std::shared_ptr<arrow::RecordBatch> Klines(const std::string& symbol, int64_t start_ms, int n) {
    arrow::Int64Builder ts;
    arrow::DoubleBuilder open, high, low, close, volume;
    arrow::StringBuilder sym;
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(ts.Append(start_ms + i * 60'000LL).ok());
      EXPECT_TRUE(open.Append(100.0 + i).ok());
      EXPECT_TRUE(high.Append(101.0 + i).ok());
      EXPECT_TRUE(low.Append(99.0 + i).ok());
      EXPECT_TRUE(close.Append(100.5 + i).ok());
      EXPECT_TRUE(volume.Append(10.0 * i).ok());
      EXPECT_TRUE(sym.Append(symbol).ok());
    }
    auto schema = arrow::schema({arrow::field("timestamp", arrow::int64()), arrow::field("open", arrow::float64()),
                                 arrow::field("high", arrow::float64()), arrow::field("low", arrow::float64()),
                                 arrow::field("close", arrow::float64()), arrow::field("volume", arrow::float64()),
                                 arrow::field("symbol", arrow::utf8())});
    return arrow::RecordBatch::Make(schema, n,
                                    {*ts.Finish(), *open.Finish(), *high.Finish(), *low.Finish(),
                                     *close.Finish(), *volume.Finish(), *sym.Finish()});
  }

  Result<CommitInfo> WriteKlines(Store& store, const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
                                 WriteOptions options = {}) {
    options.constants["exchange"] = "binance";
    options.constants["timeframe"] = "1m";
    ARROW_ASSIGN_OR_RAISE(auto reader, arrow::RecordBatchReader::Make(batches));
    return store.Write("klines", "klines", *reader, options);
  }

  static int64_t CountRows(Store& store, const std::string& dataset, ScanOptions options = {},
                           ScanStats* stats = nullptr) {
    auto reader = store.Scan(dataset, options, stats);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    auto table = (*reader)->ToTable();
    EXPECT_TRUE(table.ok()) << table.status().ToString();
    return (*table)->num_rows();
  }

  fs::path root_;
};

constexpr int64_t kDay = 86'400'000LL;
constexpr int64_t k20240101 = 1704067200000LL;

TEST_F(StoreTest, WritesHivePartitionsAndScansThemBack) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  // Two days of BTCUSDT and one of ETHUSDT: three partitions.
  ASSERT_OK_AND_ASSIGN(auto info, WriteKlines(*store, {Klines("BTCUSDT", k20240101 + kDay - 60'000 * 10, 20),
                                                       Klines("ETHUSDT", k20240101, 5)}));
  EXPECT_EQ(info.version, 1);
  EXPECT_EQ(info.rows_written, 25);
  EXPECT_EQ(info.added.size(), 3u);
  EXPECT_TRUE(fs::exists(root_ / "klines/exchange=binance/symbol=BTCUSDT/timeframe=1m/year=2024/month=1/day=1"));
  EXPECT_TRUE(fs::exists(root_ / "klines/exchange=binance/symbol=BTCUSDT/timeframe=1m/year=2024/month=1/day=2"));
  EXPECT_TRUE(fs::exists(root_ / "metadata.json"));
  EXPECT_TRUE(fs::exists(root_ / "_config.json"));
  EXPECT_FALSE(fs::exists(root_ / "_tickforge/staging/1"));
  EXPECT_EQ(CountRows(*store, "klines"), 25);

  ScanOptions options;
  ScanStats stats;
  options.filters.push_back(*ParsePredicate("symbol=ETHUSDT"));
  EXPECT_EQ(CountRows(*store, "klines", options, &stats), 5);
  EXPECT_EQ(stats.files_total, 3);
  EXPECT_EQ(stats.files_selected, 1);  // partition pruning: only ETHUSDT's file is opened

  options.filters = {*ParsePredicate("day=2")};
  EXPECT_EQ(CountRows(*store, "klines", options, &stats), 10);
  EXPECT_EQ(stats.files_selected, 1);

  // Time filter: the manifest's time ranges prune files, statistics prune row groups.
  options.filters = {*ParsePredicate("timestamp>=" + std::to_string(k20240101 + kDay))};
  EXPECT_EQ(CountRows(*store, "klines", options, &stats), 10);
  EXPECT_EQ(stats.files_selected, 1);

  options.filters = {};
  options.columns = {"close", "symbol"};
  auto reader = store->Scan("klines", options);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->schema()->num_fields(), 2);
  EXPECT_EQ((*reader)->schema()->field(1)->name(), "symbol");
}

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

TEST_F(StoreTest, OlderSnapshotsStayReadableAfterCompaction) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK(WriteKlines(*store, {Klines("BTCUSDT", k20240101 + i * 100 * 60'000LL, 100)}).status());
  }
  ASSERT_OK_AND_ASSIGN(auto before, store->ReadSnapshot());
  EXPECT_EQ(before.datasets.at("klines").files.size(), 4u);
  CompactOptions options;
  ASSERT_OK_AND_ASSIGN(auto info, store->Compact("klines", options));
  EXPECT_EQ(info.removed.size(), 4u);
  EXPECT_EQ(info.added.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto after, store->ReadSnapshot());
  EXPECT_EQ(after.datasets.at("klines").files.size(), 1u);
  EXPECT_EQ(CountRows(*store, "klines"), 400);
  // The replaced files moved out of the dataset folder, so Hive readers see no duplicates,
  // yet version 4 still reads.
  int parquet_files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root_ / "klines")) {
    parquet_files += entry.path().extension() == ".parquet";
  }
  EXPECT_EQ(parquet_files, 1);
  ScanOptions old;
  old.version = before.version;
  EXPECT_EQ(CountRows(*store, "klines", old), 400);
  // Compacting again finds nothing to do and commits nothing.
  ASSERT_OK_AND_ASSIGN(auto nothing, store->Compact("klines", options));
  EXPECT_EQ(nothing.version, after.version);
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

TEST_F(StoreTest, KilledWriterLeavesPreviousSnapshot) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  ASSERT_OK(WriteKlines(*store, {Klines("BTCUSDT", k20240101, 50)}).status());
  // A writer that died after staging files but before its log entry: recovery drops them.
  fs::create_directories(root_ / "_tickforge/staging/2/klines/exchange=binance");
  { std::ofstream(root_ / "_tickforge/staging/2/klines/exchange=binance/part-x.parquet") << "partial"; }
  ASSERT_OK(WriteKlines(*store, {Klines("ETHUSDT", k20240101, 10)}).status());
  EXPECT_FALSE(fs::exists(root_ / "_tickforge/staging/2/klines/exchange=binance/part-x.parquet"));
  EXPECT_EQ(CountRows(*store, "klines"), 60);
}

TEST_F(StoreTest, CachedProjectionsExpire) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  ASSERT_OK(WriteKlines(*store, {Klines("BTCUSDT", k20240101, 50)}).status());
  ScanOptions projection;
  projection.columns = {"timestamp", "close"};
  ASSERT_OK_AND_ASSIGN(auto first, store->Cached("klines", projection, 3600));
  EXPECT_FALSE(first.hit);
  EXPECT_EQ(first.rows, 50);
  ASSERT_OK_AND_ASSIGN(auto second, store->Cached("klines", projection, 3600));
  EXPECT_TRUE(second.hit);
  EXPECT_EQ(second.key, first.key);
  ASSERT_OK_AND_ASSIGN(auto expired, store->Cached("klines", projection, 0));
  EXPECT_FALSE(expired.hit);
  // A new snapshot is a new key.
  ASSERT_OK(WriteKlines(*store, {Klines("ETHUSDT", k20240101, 5)}).status());
  ASSERT_OK_AND_ASSIGN(auto newer, store->Cached("klines", projection, 3600));
  EXPECT_NE(newer.key, first.key);
  EXPECT_EQ(newer.rows, 55);
}

}  // namespace
}  // namespace tickforge::store
