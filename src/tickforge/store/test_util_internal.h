// Helpers of the store's tests: a fixture with a fresh store root per test, klines batches,
// a write of them with the kline partition constants, and a row count of a scan.
#pragma once

#include <arrow/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tickforge/store/store.h"

namespace tickforge::store {

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

inline constexpr int64_t kDay = 86'400'000LL;
inline constexpr int64_t k20240101 = 1704067200000LL;

}  // namespace tickforge::store
