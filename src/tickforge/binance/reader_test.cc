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

std::string ErrorOf(std::string_view bytes, Kind kind) {
  auto r = ParseCsv(bytes, kind, "mem.csv");
  EXPECT_FALSE(r.ok()) << bytes;
  return r.ok() ? "" : r.status().message();
}

TEST(CsvReader, StartOfFile) {
  const std::string header = kKlinesHeader;
  // A header alone is an empty table of the normalized schema.
  ASSERT_OK_AND_ASSIGN(auto table, ParseCsv(header, Kind::kKlines, "mem.csv"));
  EXPECT_EQ(table->num_rows(), 0);
  EXPECT_TRUE(table->schema()->Equals(*NormalizedSchema(Kind::kKlines)));
  // CRLF line ends, a byte order mark and an unterminated last line.
  std::string crlf = "\xEF\xBB\xBF" + Crlf(header) + Crlf(kKlineRow1);
  crlf += std::string(kKlineRow2).substr(0, std::strlen(kKlineRow2) - 1);
  ASSERT_OK_AND_ASSIGN(table, ParseCsv(crlf, Kind::kKlines, "mem.csv"));
  ASSERT_EQ(table->num_rows(), 2);
  EXPECT_EQ(Value<arrow::StringArray>(*table, "ignore", 0), "0");
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "timestamp", 1), 1706745660000);

  EXPECT_EQ(ErrorOf("", Kind::kKlines), "mem.csv: byte 0: file is empty");
  EXPECT_EQ(ErrorOf("open_time,open\n" + std::string(kKlineRow1), Kind::kKlines),
            "mem.csv: line 1: header has 2 columns, expected 12");
  EXPECT_EQ(ErrorOf("agg_trade_id,price\n1,2,3,4,5,6\n", Kind::kAggTrades),
            "mem.csv: line 2: expected 7 (futures) or 8 (spot) columns, got 6");
  EXPECT_EQ(ErrorOf("1,2,3,4,5,6\n", Kind::kAggTrades),
            "mem.csv: line 1: expected 7 (futures) or 8 (spot) columns, got 6");
}

TEST(CsvReader, LineNumbersCountTheHeader) {
  const std::string rows = std::string(kKlineRow1) + kKlineRow2 + "1706745720000,1\n";
  EXPECT_EQ(ErrorOf(rows, Kind::kKlines), "mem.csv: line 3: expected 12 columns, got 2");
  EXPECT_EQ(ErrorOf(kKlinesHeader + rows, Kind::kKlines), "mem.csv: line 4: expected 12 columns, got 2");
}

TEST(CsvReader, ErrorsStick) {
  auto reader = MakeCsvReader(MakeMemorySource("x\n"), Kind::kFunding, "mem.csv", {});
  std::shared_ptr<arrow::RecordBatch> batch;
  const Status first = reader->ReadNext(&batch);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(batch, nullptr);
  EXPECT_EQ(reader->ReadNext(&batch).message(), first.message());
}

TEST(CsvReader, ThreadsDoNotChangeTheResult) {
  // Several 1 MiB chunks per block, so a pool parses them side by side.
  std::string data;
  for (int64_t i = 0; i < 200000; ++i) {
    data += std::to_string(1706745600000 + i) + ",8," + std::to_string(i % 97) + ".25\n";
  }
  ReadOptions serial;
  serial.use_threads = false;
  ASSERT_OK_AND_ASSIGN(auto one, ParseCsv(data, Kind::kFunding, "mem.csv", serial));
  ASSERT_OK_AND_ASSIGN(auto many, ParseCsv(data, Kind::kFunding, "mem.csv"));
  EXPECT_EQ(one->num_rows(), 200000);
  EXPECT_TRUE(one->Equals(*many));
}

}  // namespace
}  // namespace tickforge::binance
