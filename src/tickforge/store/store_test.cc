// The Store API end to end: Hive partitions written and scanned back with pruning, snapshots
// that outlive a compaction, a flat folder migrated, a store opened or refused.
#include "tickforge/store/store.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "tickforge/store/manifest.h"
#include "tickforge/store/test_util_internal.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::store {
namespace {

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

TEST_F(StoreTest, APlanListsTheFilesAScanReadsAndPathsSplitIt) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  ASSERT_OK(WriteKlines(*store, {Klines("BTCUSDT", k20240101 + kDay - 60'000 * 10, 20),
                                 Klines("ETHUSDT", k20240101, 5)})
                .status());
  ScanOptions options;
  options.filters = {*ParsePredicate("symbol=BTCUSDT")};
  ASSERT_OK_AND_ASSIGN(auto plan, store->Plan("klines", options));
  EXPECT_EQ(plan.version, 1);
  EXPECT_EQ(plan.files_total, 3);
  ASSERT_EQ(plan.files.size(), 2u);
  for (size_t i = 0; i < plan.files.size(); ++i) {
    EXPECT_NE(plan.files[i].path.find("symbol=BTCUSDT"), std::string::npos);
    EXPECT_EQ(plan.locations[i], root_ / plan.files[i].path);
  }
  // Reading the plan's files one at a time gives the whole scan between them.
  int64_t rows = 0;
  for (const auto& file : plan.files) {
    ScanOptions one = options;
    one.paths = {file.path};
    ScanStats stats;
    rows += CountRows(*store, "klines", one, &stats);
    EXPECT_EQ(stats.files_selected, 1);
  }
  EXPECT_EQ(rows, 20);
  options.paths = {"klines/not-there.parquet"};
  auto missing = store->Plan("klines", options);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("has no file klines/not-there.parquet"), std::string::npos);
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

TEST_F(StoreTest, MigrateReadsTheVisibleParquetFilesOfAFolder) {
  const fs::path flat = root_.string() + "_flat";
  fs::remove_all(flat);
  fs::create_directories(flat);
  for (const auto& [name, batch] : {std::pair{"b.parquet", Klines("ETHUSDT", k20240101, 3)},
                                    std::pair{"a.parquet", Klines("BTCUSDT", k20240101, 5)}}) {
    ASSERT_OK_AND_ASSIGN(auto reader, arrow::RecordBatchReader::Make({batch}));
    ASSERT_OK_AND_ASSIGN(int64_t rows, WriteFlatParquet(*reader, flat / name));
    EXPECT_EQ(rows, batch->num_rows());
  }
  // Hidden, temporary and other files are not inputs.
  std::ofstream(flat / ".a.parquet") << "partial";
  std::ofstream(flat / "_tmp.parquet") << "partial";
  std::ofstream(flat / "notes.txt") << "text";
  fs::create_directories(flat / "sub");
  std::ofstream(flat / "sub" / "c.parquet") << "not read: migrate does not descend";
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  WriteOptions options;
  options.constants = {{"exchange", "binance"}, {"timeframe", "1m"}};
  ASSERT_OK_AND_ASSIGN(auto info, store->Migrate(flat, "klines", "klines", options));
  EXPECT_EQ(info.rows_written, 8);
  EXPECT_EQ(info.added.size(), 2u);
  EXPECT_EQ(CountRows(*store, "klines"), 8);

  const fs::path empty = root_.string() + "_empty";
  fs::create_directories(empty);
  auto status = store->Migrate(empty, "k2", "klines", options).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no Parquet files to migrate"), std::string::npos) << status.message();
  status = store->Migrate(root_.string() + "_missing", "k2", "klines", options).status();
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(status.IsIOError()) << status.ToString();
  EXPECT_NE(status.message().find(root_.string() + "_missing"), std::string::npos) << status.message();
  fs::remove_all(flat);
  fs::remove_all(empty);
}

TEST_F(StoreTest, OpenCreatesOrRefuses) {
  auto status = Store::Open(root_, /*create=*/false).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("not a tickforge store"), std::string::npos) << status.message();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  EXPECT_TRUE(fs::is_directory(root_ / "_tickforge" / "log"));
  ASSERT_OK_AND_ASSIGN(auto again, Store::Open(root_, /*create=*/false));
  ASSERT_OK_AND_ASSIGN(auto snapshot, again->ReadSnapshot());
  EXPECT_EQ(snapshot.version, 0);
  const fs::path file = root_.string() + "_file";
  std::ofstream(file) << "x";
  status = Store::Open(file).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("exists and is not a directory"), std::string::npos) << status.message();
  fs::remove(file);
}

}  // namespace
}  // namespace tickforge::store
