#include <arrow/api.h>
#include <gtest/gtest.h>

#include <charconv>
#include <cstring>
#include <random>

#include "tickforge/binance/binance.h"
#include "tickforge/binance/parser_internal.h"
#include "tickforge/binance/test_common.h"

namespace tickforge::binance {
namespace {

TEST_F(BinanceTest, MicrosecondTimesKeepMicroseconds) {
  const auto path = Write("BTCUSDT-1m-2025-01-01.csv",
                          "1735689600000000,1,2,0.5,1.5,10,1735689659999999,15,3,5,7.5,0\n"
                          "1735689660000123,1,2,0.5,1.5,10,1735689719999999,15,3,5,7.5,0\n");
  auto table = *ReadFile(path, Kind::kKlines);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "timestamp", 0), 1735689600000);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "timestamp_us", 0), 1735689600000000);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "timestamp", 1), 1735689660000);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "timestamp_us", 1), 1735689660000123);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "close_time", 0), 1735689659999);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "close_time_us", 0), 1735689659999999);
}

TEST(BinanceParse, DecimalsMatchFromCharsBitForBit) {
  // The parser's fast decimal path must give exactly what std::from_chars gives.
  std::mt19937_64 rng(42);
  std::string csv;
  std::vector<std::string> texts;
  for (int i = 0; i < 20000; ++i) {
    const int int_digits = static_cast<int>(rng() % 10);
    const int decimals = static_cast<int>(rng() % 12);
    std::string t = (rng() % 4 == 0) ? "-" : "";
    t += std::to_string(rng() % 10);
    for (int d = 1; d < int_digits; ++d) t += static_cast<char>('0' + rng() % 10);
    if (decimals > 0) {
      t += '.';
      for (int d = 0; d < decimals; ++d) t += static_cast<char>('0' + rng() % 10);
    }
    if (i % 500 == 0) t += "e-3";  // the slow path too
    texts.push_back(t);
    csv += std::to_string(1706745600000 + i) + ",8," + t + "\n";
  }
  auto table = ParseCsv(csv, Kind::kFunding, "decimals.csv");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  for (size_t i = 0; i < texts.size(); ++i) {
    double want;
    std::from_chars(texts[i].data(), texts[i].data() + texts[i].size(), want);
    const double got = Value<arrow::DoubleArray>(**table, "funding_rate", static_cast<int64_t>(i));
    ASSERT_EQ(std::memcmp(&got, &want, sizeof got), 0) << texts[i];
  }
}

TEST_F(BinanceTest, MalformedLinesNameFileAndLine) {
  struct Case {
    std::string data;
    std::string expect;
  };
  const std::string h = kKlinesHeader;
  const std::vector<Case> cases = {
      {h + kKlineRow1 + "1706745660000,0.1598,0.1601\n", "line 3: expected 12 columns, got 3"},
      {h + kKlineRow1 + "\n" + kKlineRow2, "line 3: empty line"},
      {h + "1706745600000,x,0.1598,0.1591,0.1598,1,1706745659999,1,1,1,1,0\n", "line 2: column 2 (open): bad number 'x'"},
      {h + "1706745600000,1,1,1,1,1,1706745659999,1,1.5,1,1,0\n", "line 2: column 9 (count): bad integer '1.5'"},
      {h + "1706745600000,1,1,1,1,,1706745659999,1,1,1,1,0\n", "line 2: column 6 (volume) is empty"},
      {h + "1706745600000,1,1,1,1,1,1706745659999,1,1,1,1,0,extra\n", "line 2: expected 12 columns, got 13"},
      {"hello,world\n", "line 1: not a Binance klines header"},
      {"", "file is empty"},
  };
  for (const auto& c : cases) {
    const auto path = Write("BTCUSDT-1m-2024-02.csv", c.data);
    auto r = ReadFile(path, Kind::kKlines);
    ASSERT_FALSE(r.ok()) << c.expect;
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
  }
  auto r = ParseCsv("1,0.5,1,1,2,1,true,notabool\n", Kind::kAggTrades, "mem");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("mem: line 1: column 8 (is_best_match): bad boolean"), std::string::npos)
      << r.status().message();
}

TEST_F(BinanceTest, TruncationAndCorruptionNeverCrash) {
  const std::string full = std::string(kKlinesHeader) + kKlineRow1 + kKlineRow2 + kKlineRow1;
  for (size_t cut = 0; cut < full.size(); ++cut) {
    const std::string data = full.substr(0, cut);
    auto r = ParseCsv(data, Kind::kKlines, "cut.csv");
    if (r.ok()) continue;  // a cut at a line end, or inside the verbatim last column, is valid
    EXPECT_NE(r.status().message().find("cut.csv"), std::string::npos);
    if (cut > 0) {
      EXPECT_NE(r.status().message().find(": line "), std::string::npos) << r.status().message();
    }
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string data = full;
    for (int k = 0; k < 3; ++k) data[rng() % data.size()] = static_cast<char>(rng());
    for (Kind kind : {Kind::kKlines, Kind::kAggTrades, Kind::kFunding}) {
      auto r = ParseCsv(data, kind, "flip.csv");
      if (!r.ok()) {
        EXPECT_NE(r.status().message().find("flip.csv"), std::string::npos);
      }
    }
  }
}

ParsedChunk ParseKlines(std::string_view bytes) {
  return ParseChunk(bytes, Kind::kKlines, 12, NormalizedSchema(Kind::kKlines));
}

TEST(Parser, ErrorPositionIsTheLineInsideTheChunk) {
  const std::string row1 = kKlineRow1;
  auto r = ParseKlines(row1 + row1 + "1706745600000,1,1,1,1,1,1706745659999,1,1,1,1\n" + row1);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->line, 2);
  EXPECT_EQ(r.error->message, "expected 12 columns, got 11");
  EXPECT_EQ(r.batch, nullptr);

  // CRLF lines count the same, and the '\r' is not part of the last field.
  const std::string crlf = Crlf(row1);
  r = ParseKlines(crlf + crlf + crlf + "\r\n");
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->line, 3);
  EXPECT_EQ(r.error->message, "empty line");

  r = ParseKlines(row1 + "1706745600000,1,1,1,1,1,1706745659999,1,1,1,1,\n");
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->line, 1);
  EXPECT_EQ(r.error->message, "column 12 (ignore) is empty");
}

TEST(Parser, CrlfAndUnterminatedLastLineParseLikeLf) {
  const std::string row1 = kKlineRow1, row2 = kKlineRow2;
  const auto lf = ParseKlines(row1 + row2);
  ASSERT_FALSE(lf.error.has_value()) << lf.error->message;
  ASSERT_EQ(lf.lines, 2);
  const std::string crlf1 = Crlf(row1), crlf2 = Crlf(row2);
  for (const std::string& bytes : {crlf1 + crlf2, row1 + row2.substr(0, row2.size() - 1),
                                   crlf1 + crlf2.substr(0, crlf2.size() - 1)}) {
    const auto r = ParseKlines(bytes);
    ASSERT_FALSE(r.error.has_value()) << r.error->message;
    EXPECT_EQ(r.lines, 2);
    EXPECT_TRUE(r.batch->Equals(*lf.batch)) << bytes;
  }
}

TEST(Parser, HeaderColumns) {
  const std::string header(kKlinesHeader, std::strlen(kKlinesHeader) - 1);
  EXPECT_EQ(*HeaderColumns(header, Kind::kKlines), 12);
  EXPECT_EQ(*HeaderColumns("\xEF\xBB\xBF" + header, Kind::kKlines), 12);  // a byte order mark
  EXPECT_EQ(*HeaderColumns("Open time,Open,High", Kind::kKlines), 3);
  EXPECT_EQ(*HeaderColumns("1706745600000,1,2", Kind::kKlines), 0);  // data
  EXPECT_EQ(*HeaderColumns(",1,2", Kind::kKlines), 0);  // data, failing later as an empty field
  auto bad = HeaderColumns("calc_time,funding_interval_hours", Kind::kKlines);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "not a Binance klines header or row: 'calc_time,funding_interval_hours'");
}

TEST(Parser, DecimalStopsAtTheFieldEnd) {
  double v = 0;
  const std::string text = "0.15920000,7";
  auto [ptr, ec] = ParseDecimal(text.data(), text.data() + text.size(), &v);
  EXPECT_EQ(ec, std::errc());
  EXPECT_EQ(ptr, text.data() + 10);
  EXPECT_EQ(v, 0.1592);
  const std::string exponent = "-1.5e-3";
  const auto slow = ParseDecimal(exponent.data(), exponent.data() + exponent.size(), &v);
  EXPECT_EQ(slow.ec, std::errc());
  EXPECT_EQ(slow.ptr, exponent.data() + exponent.size());
  EXPECT_EQ(v, -0.0015);
  const std::string junk = "x1";
  EXPECT_NE(ParseDecimal(junk.data(), junk.data() + junk.size(), &v).ec, std::errc());
}

}  // namespace
}  // namespace tickforge::binance
