#include <arrow/api.h>
#include <gtest/gtest.h>

#include <cstring>

#include "tickforge/binance/binance.h"
#include "tickforge/binance/reader_internal.h"
#include "tickforge/binance/test_common.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::binance {
namespace {

TEST_F(BinanceTest, KlinesWithAndWithoutHeader) {
  for (bool header : {true, false}) {
    const auto path = Write("BTCUSDT-1m-2024-02.csv", std::string(header ? kKlinesHeader : "") + kKlineRow1 + kKlineRow2);
    auto table = ReadFile(path, Kind::kKlines);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    ASSERT_TRUE((*table)->schema()->Equals(*NormalizedSchema(Kind::kKlines)));
    ASSERT_EQ((*table)->num_rows(), 2);
    EXPECT_EQ(Value<arrow::Int64Array>(**table, "timestamp", 1), 1706745660000);
    EXPECT_EQ(Value<arrow::Int64Array>(**table, "timestamp_us", 1), 1706745660000000);
    EXPECT_EQ(Value<arrow::Int64Array>(**table, "close_time", 0), 1706745659999);
    EXPECT_EQ(Value<arrow::DoubleArray>(**table, "volume", 0), 506355.0);
    EXPECT_EQ(Value<arrow::DoubleArray>(**table, "quote_volume", 1), 62937.83970);
    EXPECT_EQ(Value<arrow::Int64Array>(**table, "count", 1), 367);
    EXPECT_EQ(Value<arrow::StringArray>(**table, "ignore", 0), "0");
  }
}

TEST_F(BinanceTest, ManyBlocksAndBatches) {
  // Big enough for several 8 MiB blocks and parallel chunks; line numbers must stay exact.
  std::string data = kKlinesHeader;
  const int64_t rows = 200000;
  for (int64_t i = 0; i < rows; ++i) {
    data += std::to_string(1706745600000 + i * 60000) + ",1.5,2.5,1.0,2.0,100.0," +
            std::to_string(1706745600000 + i * 60000 + 59999) + ",150.0," + std::to_string(i) + ",50.0,75.0,0\n";
  }
  const auto path = Write("BTCUSDT-1m-2024-02.csv", data);
  ReadOptions options;
  options.batch_rows = 1000;
  auto reader = *OpenFile(path, Kind::kKlines, options);
  int64_t seen = 0;
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    ASSERT_TRUE(reader->ReadNext(&batch).ok());
    if (!batch) break;
    EXPECT_LE(batch->num_rows(), 1000);
    const auto& count = static_cast<const arrow::Int64Array&>(*batch->GetColumnByName("count"));
    for (int64_t i = 0; i < batch->num_rows(); ++i) ASSERT_EQ(count.Value(i), seen + i);
    seen += batch->num_rows();
  }
  EXPECT_EQ(seen, rows);
  // Break line 150001 (row 150000 after the header) and expect exactly that line in the error.
  const std::string needle = "," + std::to_string(149999) + ",50.0";
  const size_t at = data.find(needle);
  ASSERT_NE(at, std::string::npos);
  data.replace(at + needle.size() - 4, 4, "5x.0");
  Write("BTCUSDT-1m-2024-03.csv", data);
  auto bad = ReadFile((dir_ / "BTCUSDT-1m-2024-03.csv").string(), Kind::kKlines);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("BTCUSDT-1m-2024-03.csv: line 150001:"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace tickforge::binance
