#include "tickforge/book/lobster.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tickforge/book/build.h"
#include "tickforge/book/test_common.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/testdata.h"

namespace tickforge::book {
namespace {

constexpr const char* kName = "XYZ_2012-06-21_34200000_57600000_message_2.csv";
constexpr const char* kBookName = "XYZ_2012-06-21_34200000_57600000_orderbook_2.csv";
constexpr int64_t kDay = 15'512LL * 86'400 * 1'000'000'000;  // 2012-06-21 00:00 UTC in ns

class LobsterTest : public BookTest {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  // A two-level pair: the book starts with bids 100.00 x 5, 99.90 x 7 and asks 100.10 x 3.
  std::string WritePair(const std::string& messages, const std::string& rows) {
    Write(kBookName, rows);
    return Write(kName, messages);
  }
};

// Values of column `name` of `table` as int64 (timestamps as their nanoseconds).
std::vector<int64_t> Column(const arrow::Table& table, const std::string& name) {
  auto column = table.GetColumnByName(name);
  std::vector<int64_t> out;
  for (const auto& chunk : column->chunks()) {
    for (int64_t i = 0; i < chunk->length(); ++i) {
      auto scalar = *chunk->GetScalar(i);
      if (auto* ts = dynamic_cast<arrow::TimestampScalar*>(scalar.get())) {
        out.push_back(ts->value);
      } else if (auto* i64 = dynamic_cast<arrow::Int64Scalar*>(scalar.get())) {
        out.push_back(i64->value);
      } else {
        out.push_back(static_cast<int64_t>(std::static_pointer_cast<arrow::UInt32Scalar>(scalar)->value));
      }
    }
  }
  return out;
}

const std::string kRows =
    "1001000,3,1000000,5,9999999999,0,999000,7\n"   // after: add bid 100.00 x 2 (was x 3)
    "1001000,3,1000000,2,9999999999,0,999000,7\n"   // after: partial cancel 3 at 100.00
    "1001000,3,999000,7,9999999999,0,998000,4\n"    // after: delete 100.00; 99.80 appears from below
    "1001000,3,999000,7,9999999999,0,998000,4\n"    // after: a halt
    "1000500,1,999000,7,1001000,3,998000,4\n";      // after: ask 100.05 x 1 arrives at the best
const std::string kMessages =
    "34200.5,1,11,2,1000000,1\n"
    "34200.75,2,11,3,1000000,1\n"
    "34201.000000001,3,10,2,1000000,1\n"
    "34202,7,0,0,-1,-1\n"
    "34203.123456789,1,12,1,1000500,-1\n";

TEST(LobsterTimeTest, ParsesEveryDecimalExactly) {
  ASSERT_OK_AND_ASSIGN(auto a, ParseLobsterTime("34200.017459617"));
  EXPECT_EQ(a, 34200'017'459'617);
  ASSERT_OK_AND_ASSIGN(auto b, ParseLobsterTime("57599.95935965"));
  EXPECT_EQ(b, 57599'959'359'650);
  ASSERT_OK_AND_ASSIGN(auto c, ParseLobsterTime("36023"));
  EXPECT_EQ(c, 36023'000'000'000);
  ASSERT_OK_AND_ASSIGN(auto d, ParseLobsterTime("0.1"));
  EXPECT_EQ(d, 100'000'000);
  for (const char* bad : {"", ".5", "1.", "-1.0", "1e3", "1.0000000001", "12.3x", "1,5", "9999999"}) {
    EXPECT_FALSE(ParseLobsterTime(bad).ok()) << bad;
  }
}

TEST(LobsterNameTest, FindsTheOrderbookFileByLobsterNaming) {
  EXPECT_TRUE(IsLobsterMessageFile("/d/AAPL_2012-06-21_34200000_57600000_message_10.csv"));
  EXPECT_TRUE(IsLobsterMessageFile("/d/Amazon/message.csv"));
  EXPECT_FALSE(IsLobsterMessageFile("/d/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"));
  EXPECT_FALSE(IsLobsterMessageFile("/d/x.mbo.dbn.zst"));
  BookOptions options;
  EXPECT_EQ(LobsterParquetNameFor("/d/AAPL_2012-06-21_34200000_57600000_message_10.csv", options),
            "AAPL_2012-06-21_34200000_57600000.mbp-10.parquet");
  EXPECT_EQ(LobsterParquetNameFor("/d/Amazon/message.csv", options), "Amazon_message.mbp-10.parquet");
  options.lobster.symbol = "AMZN";
  options.levels = 1;
  EXPECT_EQ(LobsterParquetNameFor("/d/Amazon/message.csv", options), "AMZN_message.mbp-1.parquet");
  EXPECT_EQ(*BookParquetNameFor("/d/Amazon/message.csv", options), "AMZN_message.mbp-1.parquet");
}

TEST_F(LobsterTest, MissingOrderbookFileIsNamed) {
  const auto message = Write(kName, kMessages);
  auto files = FindLobsterFiles(message);
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.status().message().find(kBookName), std::string::npos) << files.status().message();
  Write("other.csv", kRows);
  ASSERT_OK_AND_ASSIGN(auto explicit_files, FindLobsterFiles(message, (dir_ / "other.csv").string()));
  EXPECT_EQ(explicit_files.date, 20120621u);
  EXPECT_EQ(explicit_files.ticker, "XYZ");
  EXPECT_EQ(explicit_files.levels, 2);
  EXPECT_EQ(explicit_files.start_ms, 34'200'000);
}

TEST_F(LobsterTest, RowsAreTheBookAfterEachMessage) {
  const auto message = WritePair(kMessages, kRows);
  BookOptions options;
  options.levels = 3;
  ASSERT_OK_AND_ASSIGN(auto reader, LobsterBookReader::Open(message, options));
  ASSERT_OK_AND_ASSIGN(auto table, reader->ToTable());
  ASSERT_EQ(table->num_rows(), 5);
  const auto& stats = reader->stats();
  EXPECT_EQ(stats.messages, 5);
  EXPECT_EQ(stats.halts, 1);
  EXPECT_EQ(stats.anomalies.total(), 0);
  const int64_t p = 100'000;  // USD x 10^4 -> 1e-9
  EXPECT_EQ(Column(*table, "ts_event"), (std::vector<int64_t>{kDay + 34200'500'000'000, kDay + 34200'750'000'000,
                                                              kDay + 34201'000'000'001, kDay + 34202'000'000'000,
                                                              kDay + 34203'123'456'789}));
  EXPECT_EQ(Column(*table, "bid_px_00"), (std::vector<int64_t>{1000000 * p, 1000000 * p, 999000 * p, 999000 * p,
                                                               999000 * p}));
  EXPECT_EQ(Column(*table, "bid_sz_00"), (std::vector<int64_t>{5, 2, 7, 7, 7}));
  EXPECT_EQ(Column(*table, "bid_px_01"), (std::vector<int64_t>{999000 * p, 999000 * p, 998000 * p, 998000 * p,
                                                               998000 * p}));
  const int64_t undef = dbn::kUndefPrice;
  EXPECT_EQ(Column(*table, "ask_px_01"), (std::vector<int64_t>{undef, undef, undef, undef, 1001000 * p}));
  EXPECT_EQ(Column(*table, "ask_px_00"), (std::vector<int64_t>{1001000 * p, 1001000 * p, 1001000 * p, 1001000 * p,
                                                               1000500 * p}));
  // Past the file's two levels nothing is stated.
  EXPECT_EQ(Column(*table, "bid_px_02"), (std::vector<int64_t>(5, undef)));
  EXPECT_EQ(Column(*table, "price"), (std::vector<int64_t>{1000000 * p, 1000000 * p, 1000000 * p, undef,
                                                           1000500 * p}));
  EXPECT_EQ(Column(*table, "size"), (std::vector<int64_t>{2, 3, 2, 0, 1}));
  EXPECT_EQ(Column(*table, "sequence"), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  auto actions = std::static_pointer_cast<arrow::StringArray>(table->GetColumnByName("action")->chunk(0));
  std::string action_letters;
  for (int64_t i = 0; i < actions->length(); ++i) action_letters += actions->GetString(i);
  EXPECT_EQ(action_letters, "ACCNA");
  auto symbols = table->GetColumnByName("symbol")->chunk(0);
  EXPECT_EQ(symbols->GetScalar(0).ValueOrDie()->ToString(), "XYZ");
}

TEST_F(LobsterTest, AMessageThatDisagreesWithItsRowIsCountedOrFailsWhenStrict) {
  std::string messages = kMessages;
  messages.replace(messages.find("34200.75,2,11,3"), 15, "34200.75,2,11,1");  // cancels 1, the row says 3
  const auto message = WritePair(messages, kRows);
  ASSERT_OK_AND_ASSIGN(auto reader, LobsterBookReader::Open(message));
  ASSERT_OK_AND_ASSIGN(auto table, reader->ToTable());
  EXPECT_EQ(reader->stats().anomalies[Anomaly::kLobsterMismatch], 1);
  // The row is the messages' book, not a copy of the orderbook file; the next row resyncs.
  EXPECT_EQ(Column(*table, "bid_sz_00"), (std::vector<int64_t>{5, 4, 7, 7, 7}));

  BookOptions strict;
  strict.strict = true;
  ASSERT_OK_AND_ASSIGN(auto strict_reader, LobsterBookReader::Open(message, strict));
  auto failed = strict_reader->ToTable();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find(std::string(kName) + ": line 2:"), std::string::npos)
      << failed.status().message();
}

TEST_F(LobsterTest, BadInputNamesTheFileAndTheLineAndLeavesNoOutput) {
  struct Case {
    std::string messages, rows, file, where;
  };
  const std::string two = kMessages.substr(0, kMessages.find('\n', kMessages.find('\n') + 1) + 1);
  const std::vector<Case> cases = {
      {kMessages, kRows.substr(0, kRows.rfind('\n', kRows.size() - 2) + 1), kBookName, "line 5:"},
      {two, kRows, kName, "line 3:"},
      {"34200.5,1,11,2,1000000\n", kRows, kName, "line 1:"},
      {kMessages, kRows.substr(0, kRows.size() - 9) + "\n", kBookName, "line 5:"},
      {"34200.5,1,11,2,1000000,1\n34200.75,2,11,x,1000000,1\n", kRows, kName, "line 2:"},
      {"34200.5,1,11,2,1000000,1\n34200.75,9,11,3,1000000,1\n", kRows, kName, "line 2:"},
      {"34200.5,1,11,2,1000000,1\n34200.2,2,11,3,1000000,1\n", kRows, kName, "line 2:"},
      {"34200.5,1,11,2,1000000,0\n", kRows, kName, "line 1:"},
      {kMessages, "1001000,3,1000000,5,9999999999,0,999000,7\n1001000,3,1.5,2,9999999999,0,999000,7\n", kBookName,
       "line 2:"},
      {kMessages, "1001000,3,1000000,5,9999999999,4,999000,7\n", kBookName, "line 1:"},
  };
  for (const auto& c : cases) {
    const auto message = WritePair(c.messages, c.rows);
    const auto output = dir_ / "out" / "rows.parquet";
    auto stats = BuildBookFile(message, output);
    ASSERT_FALSE(stats.ok()) << c.messages << c.rows;
    const std::string text = stats.status().message();
    EXPECT_NE(text.find(c.file + ": " + c.where), std::string::npos) << text;
    EXPECT_FALSE(std::filesystem::exists(output));
    if (std::filesystem::exists(dir_ / "out")) {
      EXPECT_TRUE(std::filesystem::is_empty(dir_ / "out")) << text;
    }
  }
}

TEST_F(LobsterTest, MessageCsvNeedsADate) {
  Write("orderbook.csv", kRows);
  const auto message = Write("message.csv", kMessages);
  auto failed = LobsterBookReader::Open(message);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("date"), std::string::npos);
  BookOptions options;
  options.lobster.date = "2012-06-21";
  options.lobster.symbol = "XYZ";
  ASSERT_OK_AND_ASSIGN(auto reader, LobsterBookReader::Open(message, options));
  ASSERT_OK_AND_ASSIGN(auto table, reader->ToTable());
  EXPECT_EQ(Column(*table, "ts_recv").front(), kDay + 34200'500'000'000);
}

TEST(LobsterSampleTest, TheAaplLevel10SampleIsRebuiltWithoutAMismatch) {
  TICKFORGE_SKIP_WITHOUT_TESTDATA();
  const auto files = testing::TestDataFiles("lobster/AAPL_level10_first999", "_message_10.csv");
  ASSERT_EQ(files.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto reader, LobsterBookReader::Open(files[0].string()));
  ASSERT_OK_AND_ASSIGN(auto table, reader->ToTable());
  EXPECT_EQ(table->num_rows(), 999);
  EXPECT_EQ(reader->stats().anomalies.total(), 0);
  // Row 0 of the orderbook file: ask 585.94 x 200, bid 585.33 x 18, ...; level 10: bid 584.27 x 300.
  EXPECT_EQ(Column(*table, "ask_px_00").front(), 5859400LL * 100'000);
  EXPECT_EQ(Column(*table, "bid_sz_00").front(), 18);
  EXPECT_EQ(Column(*table, "bid_px_09").front(), 5842700LL * 100'000);
}

}  // namespace
}  // namespace tickforge::book
