#include "tickforge/book/depth_build.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <string>

#include "tickforge/testing/assertions.h"

namespace tickforge::book {
namespace {

// A USD-M capture in miniature: an event before the snapshot that straddles it, a bookTicker,
// two chained events, then one whose pu skips an id.
std::string Capture(bool with_gap) {
  std::string s;
  s += R"(100 {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":8,"u":12,"pu":7,"b":[["100.10","1.500"]],"a":[["100.20","0.250"]]}})" "\n";
  s += R"(101 {"lastUpdateId":10,"E":2,"T":2,"bids":[["100.00","2.000"],["99.90","1.000"]],"asks":[["100.30","3.000"]]})" "\n";
  s += R"(102 {"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":12,"s":"BTCUSDT","b":"100.10","B":"1.500","a":"100.20","A":"0.250"}})" "\n";
  s += R"(103 {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":3,"T":3,"s":"BTCUSDT","U":13,"u":15,"pu":12,"b":[["100.10","0.000"]],"a":[]}})" "\n";
  s += std::string(R"(104 {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":4,"T":4,"s":"BTCUSDT","U":16,"u":20,"pu":)") +
       (with_gap ? "16" : "15") + R"(,"b":[],"a":[["100.20","1.000"]]}})" "\n";
  return s;
}

Result<std::shared_ptr<arrow::Table>> ReadAll(DepthBookReader& reader) {
  arrow::RecordBatchVector batches;
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    ARROW_RETURN_NOT_OK(reader.ReadNext(&batch));
    if (!batch) break;
    batches.push_back(batch);
  }
  return arrow::Table::FromRecordBatches(reader.schema(), batches);
}

TEST(DepthBuildTest, BinanceEventsAreSynchronisedIntoRows) {
  const std::string bytes = Capture(false);
  BookOptions options;
  options.batch_rows = 2;  // the held event and the next share a line's worth of work
  ASSERT_OK_AND_ASSIGN(auto reader, DepthBookReader::FromMemory(bytes, options));
  EXPECT_EQ(reader->schema()->metadata()->Get("tickforge.size_scale").ValueOrDie(), "3");
  ASSERT_OK_AND_ASSIGN(auto table, ReadAll(*reader));
  ASSERT_EQ(table->num_rows(), 3);
  ASSERT_OK_AND_ASSIGN(auto combined, table->CombineChunksToBatch());
  auto i64 = [&](const char* n) { return std::static_pointer_cast<arrow::Int64Array>(combined->GetColumnByName(n)); };
  auto u64 = [&](const char* n) { return std::static_pointer_cast<arrow::UInt64Array>(combined->GetColumnByName(n)); };
  EXPECT_EQ(u64("sequence")->Value(0), 12u);
  EXPECT_EQ(i64("bid_px_00")->Value(0), 100'100'000'000);  // the event held for the snapshot
  EXPECT_EQ(u64("bid_sz_00")->Value(0), 1500u);
  EXPECT_EQ(i64("ask_px_00")->Value(0), 100'200'000'000);
  EXPECT_EQ(i64("bid_px_00")->Value(1), 100'000'000'000);  // 100.10 removed
  EXPECT_EQ(u64("ask_sz_00")->Value(2), 1000u);
  EXPECT_EQ(std::static_pointer_cast<arrow::TimestampArray>(combined->GetColumnByName("ts_event"))->Value(2),
            4'000'000);
  const auto& stats = reader->stats();
  EXPECT_EQ(stats.skipped, 1);
  EXPECT_EQ(stats.gaps, 0);
  EXPECT_EQ(stats.symbol, "BTCUSDT");
}

TEST(DepthBuildTest, AGapStopsTheRowsAndStrictNamesTheLine) {
  const std::string bytes = Capture(true);
  ASSERT_OK_AND_ASSIGN(auto reader, DepthBookReader::FromMemory(bytes));
  ASSERT_OK_AND_ASSIGN(auto table, ReadAll(*reader));
  EXPECT_EQ(table->num_rows(), 2);
  ASSERT_EQ(reader->stats().gaps, 1);
  EXPECT_EQ(reader->stats().gap_list[0].line, 5);
  EXPECT_EQ(reader->stats().gap_list[0].expected, 15u);
  EXPECT_EQ(reader->stats().gap_list[0].got, 16u);
  EXPECT_EQ(reader->stats().unsynced, 1);

  BookOptions strict;
  strict.strict = true;
  ASSERT_OK_AND_ASSIGN(auto strict_reader, DepthBookReader::FromMemory(bytes, strict));
  auto result = ReadAll(*strict_reader);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("<memory>: line 5: gap"), std::string::npos) << result.status();
}

TEST(DepthBuildTest, AMalformedLineOfAnotherStreamIsAnErrorNotASkip) {
  // A bookTicker line is not applied to the book, but a broken one is still a broken capture.
  for (const std::string& bad : {std::string(R"(102 {"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":12,"s":"BTC)"),
                                std::string(R"(102 {"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":,"s":"BTCUSDT"}})"),
                                std::string(R"(102 {"stream":"btcusdt@bookTicker","data":{"e":"bookTicker"}} trailing)")}) {
    std::string bytes = Capture(false);
    const size_t at = bytes.find("102 ");
    bytes.replace(at, bytes.find('\n', at) - at, bad);
    ASSERT_OK_AND_ASSIGN(auto reader, DepthBookReader::FromMemory(bytes));
    auto result = ReadAll(*reader);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_NE(result.status().message().find("<memory>: line 3: malformed JSON"), std::string::npos) << result.status();
  }
}

TEST(DepthBuildTest, ASymbolOfBadBytesCannotBreakTheSchemaOrTheSummary) {
  // Found by depth_fuzz: a CSV symbol field of invalid UTF-8 made the metadata's JSON throw.
  const std::string bytes =
      "symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu\n"
      "BT\xaf\x01" "C,1667346579146,10,10,b,snap,20377.00,1.770,-1\n";
  ASSERT_OK_AND_ASSIGN(auto reader, DepthBookReader::FromMemory(bytes));
  ASSERT_OK_AND_ASSIGN(auto table, ReadAll(*reader));
  ASSERT_EQ(table->num_rows(), 1);
  ASSERT_OK(table->ValidateFull());
  EXPECT_EQ(reader->stats().symbol, "BT??C");
  EXPECT_NE(reader->stats().ToJson().dump().find("BT??C"), std::string::npos);
}

}  // namespace
}  // namespace tickforge::book
