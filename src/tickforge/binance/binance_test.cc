#include "tickforge/binance/binance.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <gtest/gtest.h>
#include <parquet/arrow/writer.h>
#include <zip.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "tickforge/synth/binance.h"

namespace tickforge::binance {
namespace {

namespace fs = std::filesystem;

class BinanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tickforge_binance_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& data) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }
  std::string ReadBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  fs::path dir_;
};

const char* kKlinesHeader =
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
    "taker_buy_quote_volume,ignore\n";
const char* kKlineRow1 = "1706745600000,0.1592,0.1598,0.1591,0.1598,506355.0,1706745659999,80756.28594,311,380529.9,60711.92171,0\n";
const char* kKlineRow2 = "1706745660000,0.1598,0.1601,0.1597,0.1600,393577.2,1706745719999,62937.83970,367,292985.2,46856.95794,0\n";

template <typename ArrayType>
auto Value(const arrow::Table& table, const std::string& column, int64_t row) {
  auto chunked = table.GetColumnByName(column);
  EXPECT_NE(chunked, nullptr) << column;
  for (const auto& chunk : chunked->chunks()) {
    if (row < chunk->length()) return static_cast<const ArrayType&>(*chunk).GetView(row);
    row -= chunk->length();
  }
  ADD_FAILURE() << "row out of range";
  return decltype(static_cast<const ArrayType&>(*chunked->chunk(0)).GetView(0)){};
}

TEST(BinanceNames, KindsAndFileNames) {
  EXPECT_EQ(KindName(Kind::kAggTrades), "aggtrades");
  EXPECT_EQ(*ParseKind("futures"), Kind::kFunding);
  EXPECT_EQ(*ParseKind("klines"), Kind::kKlines);
  EXPECT_FALSE(ParseKind("trades").ok());

  auto info = *InferFileInfo("/x/BTCUSDT-1m-2024-02.csv");
  EXPECT_EQ(info.kind, Kind::kKlines);
  EXPECT_EQ(info.symbol, "BTCUSDT");
  EXPECT_EQ(info.timeframe, "1m");
  EXPECT_EQ(info.exchange, "binance");
  info = *InferFileInfo("ETHUSDT-1mo-2024-02-01.zip");
  EXPECT_EQ(info.timeframe, "1mo");
  info = *InferFileInfo("BTCUSDT-aggTrades-2024-02-01.csv");
  EXPECT_EQ(info.kind, Kind::kAggTrades);
  EXPECT_EQ(info.timeframe, "");
  info = *InferFileInfo("BTCUSD_PERP-fundingRate-2024-02.zip");
  EXPECT_EQ(info.kind, Kind::kFunding);
  EXPECT_EQ(info.symbol, "BTCUSD_PERP");
  info = *InferFileInfo("klines_binance_BTCUSDT_1m_consolidated.parquet");
  EXPECT_TRUE(info.consolidated);
  EXPECT_EQ(info.symbol, "BTCUSDT");
  EXPECT_EQ(info.timeframe, "1m");
  info = *InferFileInfo("futures_binance_BTCUSDT_consolidated.parquet");
  EXPECT_EQ(info.kind, Kind::kFunding);
  info = *InferFileInfo("aggtrades_binance_BTCUSDT_consolidated.parquet");
  EXPECT_EQ(info.kind, Kind::kAggTrades);
  for (const char* bad : {"data.csv", "BTCUSDT-7m-2024-02.csv", "BTCUSDT-1m-2024-xx.csv", "BTCUSDT-1m.csv",
                          "klines_binance_BTCUSDT_consolidated.parquet"}) {
    auto r = InferFileInfo(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().message();
  }
}

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

TEST_F(BinanceTest, AggTradesSpotAndFutures) {
  const auto spot = Write("BTCUSDT-aggTrades-2024-01-01.csv",
                          "26129,0.01633102,4.70443515,27781,27781,1498793709153,True,True\n"
                          "26130,0.01633200,1.5,27782,27785,1498793709200,False,True\n");
  auto table = *ReadFile(spot, Kind::kAggTrades);
  ASSERT_EQ(table->num_rows(), 2);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "timestamp", 0), 1498793709153);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "trade_id", 1), 26130);
  EXPECT_EQ(Value<arrow::DoubleArray>(*table, "trade_price", 0), 0.01633102);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "last_trade_id", 1), 27785);
  EXPECT_EQ(Value<arrow::BooleanArray>(*table, "trade_is_buyer_maker", 0), true);
  EXPECT_EQ(Value<arrow::BooleanArray>(*table, "trade_is_buyer_maker", 1), false);
  EXPECT_EQ(table->GetColumnByName("is_best_match")->null_count(), 0);

  const auto futures = Write("BTCUSDT-aggTrades-2024-01-02.csv",
                             "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
                             "1,42000.10,0.005,10,12,1704153600001,true\n");
  table = *ReadFile(futures, Kind::kAggTrades);
  ASSERT_EQ(table->num_rows(), 1);
  EXPECT_EQ(table->GetColumnByName("is_best_match")->null_count(), 1);
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "timestamp_us", 0), 1704153600001000);
}

TEST_F(BinanceTest, Funding) {
  const auto path = Write("BTCUSDT-fundingRate-2024-02.csv",
                          "calc_time,funding_interval_hours,last_funding_rate\n"
                          "1706745600000,8,0.00010000\n1706774400000,,-0.00002500\n");
  auto table = *ReadFile(path, Kind::kFunding);
  ASSERT_TRUE(table->schema()->Equals(*NormalizedSchema(Kind::kFunding)));
  EXPECT_EQ(Value<arrow::Int64Array>(*table, "funding_time", 1), 1706774400000);
  EXPECT_EQ(Value<arrow::DoubleArray>(*table, "funding_rate", 1), -0.000025);
  EXPECT_EQ(table->GetColumnByName("funding_interval_hours")->null_count(), 1);
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
    if (cut > 0) EXPECT_NE(r.status().message().find(": line "), std::string::npos) << r.status().message();
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string data = full;
    for (int k = 0; k < 3; ++k) data[rng() % data.size()] = static_cast<char>(rng());
    for (Kind kind : {Kind::kKlines, Kind::kAggTrades, Kind::kFunding}) {
      auto r = ParseCsv(data, kind, "flip.csv");
      if (!r.ok()) EXPECT_NE(r.status().message().find("flip.csv"), std::string::npos);
    }
  }
}

TEST_F(BinanceTest, ZipChecksumAndCorruption) {
  synth::BinanceOptions options;
  options.out_dir = dir_ / "dump";
  options.symbol_count = 1;
  options.market = "um";
  options.kinds = {Kind::kKlines};
  options.zip = true;
  auto files = *synth::WriteBinanceDumps(options);
  ASSERT_EQ(files.size(), 1u);
  const std::string zip = files[0].path;
  ASSERT_TRUE(fs::exists(zip + ".CHECKSUM"));
  auto table = ReadFile(zip, Kind::kKlines);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ((*table)->num_rows(), 1440);
  EXPECT_EQ(*Sha256File(zip), ReadBytes(zip + ".CHECKSUM").substr(0, 64));

  // A wrong checksum is reported (and skipped only when asked).
  const std::string good = ReadBytes(zip + ".CHECKSUM");
  std::ofstream(zip + ".CHECKSUM") << std::string(64, '0') << "  x.zip\n";
  auto mismatch = ReadFile(zip, Kind::kKlines);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("sha256 mismatch"), std::string::npos);
  EXPECT_NE(mismatch.status().message().find(zip), std::string::npos);
  ReadOptions no_check;
  no_check.verify_checksum = false;
  EXPECT_TRUE(ReadFile(zip, Kind::kKlines, no_check).ok());
  fs::remove(zip + ".CHECKSUM");

  // Truncated and corrupted archives fail with the file named, never crash.
  const std::string bytes = ReadBytes(zip);
  for (size_t cut = 0; cut < bytes.size(); cut += std::max<size_t>(1, bytes.size() / 97)) {
    const auto path = Write("cut.zip", bytes.substr(0, cut));
    auto r = ReadFile(path, Kind::kKlines);
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
  }
  std::mt19937 rng(3);
  int failures = 0;
  for (int i = 0; i < 200; ++i) {
    std::string data = bytes;
    data[30 + rng() % (data.size() - 30)] ^= static_cast<char>(1 + rng() % 255);
    const auto path = Write("flip.zip", data);
    auto r = ReadFile(path, Kind::kKlines);
    if (!r.ok()) {
      ++failures;
      EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    }
  }
  EXPECT_GT(failures, 150);  // CRC-32 and the zip structure catch nearly every flip
}

TEST_F(BinanceTest, ZipWithZeroOrSeveralEntriesIsRefused) {
  for (int entries : {0, 2}) {
    const auto path = (dir_ / ("n" + std::to_string(entries) + ".zip")).string();
    int code = 0;
    zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    ASSERT_NE(archive, nullptr);
    static const std::string kRow = kKlineRow1;
    for (int i = 0; i < entries; ++i) {
      zip_source_t* src = zip_source_buffer(archive, kRow.data(), kRow.size(), 0);
      ASSERT_GE(zip_file_add(archive, ("e" + std::to_string(i) + ".csv").c_str(), src, 0), 0);
    }
    if (entries == 0) {
      // libzip writes nothing for an empty archive; an empty archive is just its end record.
      zip_discard(archive);
      Write("n0.zip", std::string("PK\x05\x06", 4) + std::string(18, '\0'));
    } else {
      ASSERT_EQ(zip_close(archive), 0);
    }
    auto r = ReadFile(path, Kind::kKlines);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("entries"), std::string::npos) << r.status().message();
  }
}

std::string WriteParquet(const fs::path& path, const std::shared_ptr<arrow::Table>& table) {
  auto out = *arrow::io::FileOutputStream::Open(path.string());
  EXPECT_TRUE(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), out, 1024).ok());
  EXPECT_TRUE(out->Close().ok());
  return path.string();
}

TEST_F(BinanceTest, ConsolidatedParquet) {
  // The seed's columns with a nanosecond timestamp and an extra column.
  arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::NANO, "UTC"), arrow::default_memory_pool());
  ASSERT_TRUE(ts.Append(1706745600000000000).ok());
  ASSERT_TRUE(ts.Append(1706745660000123456).ok());
  arrow::DoubleBuilder price;
  ASSERT_TRUE(price.AppendValues({1.0, 2.0}).ok());
  arrow::StringBuilder extra;
  ASSERT_TRUE(extra.AppendValues({"a", "b"}).ok());
  auto table = arrow::Table::Make(
      arrow::schema({arrow::field("timestamp", ts.type()), arrow::field("open", arrow::float64()),
                     arrow::field("high", arrow::float64()), arrow::field("low", arrow::float64()),
                     arrow::field("close", arrow::float64()), arrow::field("volume", arrow::float64()),
                     arrow::field("note", arrow::utf8())}),
      {*ts.Finish(), *price.Finish(), *price.Finish(), *price.Finish(), *price.Finish(), *price.Finish(),
       *extra.Finish()});
  ASSERT_TRUE(price.AppendValues({1.0, 2.0}).ok());
  // Builders were reset by Finish(); rebuild the value columns.
  std::vector<std::shared_ptr<arrow::Array>> cols = {table->column(0)->chunk(0)};
  for (int i = 0; i < 5; ++i) {
    arrow::DoubleBuilder b;
    ASSERT_TRUE(b.AppendValues({1.0 + i, 2.0 + i}).ok());
    cols.push_back(*b.Finish());
  }
  cols.push_back(table->column(6)->chunk(0));
  table = arrow::Table::Make(table->schema(), cols);
  const auto path = WriteParquet(dir_ / "klines_binance_BTCUSDT_1m_consolidated.parquet", table);
  auto read = ReadFile(path, Kind::kKlines);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const auto& t = **read;
  ASSERT_EQ(t.num_columns(), 15);
  EXPECT_EQ(t.schema()->field(14)->name(), "note");
  EXPECT_EQ(Value<arrow::Int64Array>(t, "timestamp", 1), 1706745660000);
  EXPECT_EQ(Value<arrow::Int64Array>(t, "timestamp_us", 1), 1706745660000123);
  EXPECT_EQ(Value<arrow::DoubleArray>(t, "close", 1), 5.0);
  EXPECT_EQ(t.GetColumnByName("count")->null_count(), 2);
  EXPECT_EQ(t.GetColumnByName("close_time_us")->null_count(), 2);

  // A required column missing is named.
  auto no_open = *table->RemoveColumn(1);
  const auto bad = WriteParquet(dir_ / "bad.parquet", no_open);
  auto r = ReadFile(bad, Kind::kKlines);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'open'"), std::string::npos) << r.status().message();

  // A value that does not convert is named with its column.
  arrow::StringBuilder s;
  ASSERT_TRUE(s.AppendValues({"1.5", "oops"}).ok());
  auto bad_values = *table->SetColumn(2, arrow::field("high", arrow::utf8()), std::make_shared<arrow::ChunkedArray>(*s.Finish()));
  const auto bad2 = WriteParquet(dir_ / "bad2.parquet", bad_values);
  r = ReadFile(bad2, Kind::kKlines);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'high'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("oops"), std::string::npos) << r.status().message();
}

TEST_F(BinanceTest, GeneratorIsDeterministicAndConsistent) {
  synth::BinanceOptions options;
  options.out_dir = dir_ / "a";
  options.symbol_count = 2;
  options.days = 2;
  options.market = "spot";
  options.start_date = 20241231;  // crosses into µs times
  options.kinds = {Kind::kKlines, Kind::kAggTrades};
  options.aggtrades_per_minute = 5;
  auto a = *synth::WriteBinanceDumps(options);
  options.out_dir = dir_ / "b";
  auto b = *synth::WriteBinanceDumps(options);
  ASSERT_EQ(a.size(), 8u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(ReadBytes(a[i].path), ReadBytes(b[i].path)) << a[i].path;
  for (const auto& f : a) {
    auto info = *InferFileInfo(f.path);
    EXPECT_EQ(info.kind, f.kind);
    auto table = ReadFile(f.path, f.kind);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    EXPECT_EQ((*table)->num_rows(), f.rows);
    const bool micros = f.path.find("2025-01-01") != std::string::npos;
    const int64_t first_us = Value<arrow::Int64Array>(**table, "timestamp_us", 0);
    if (f.kind == Kind::kKlines) {  // the file's first field is the open time in its own unit
      EXPECT_EQ(ReadBytes(f.path).substr(0, micros ? 16 : 13), std::to_string(micros ? first_us : first_us / 1000));
    }
    if (f.kind == Kind::kKlines) {
      const auto combined = *(*table)->CombineChunks();
      for (int64_t i = 0; i < combined->num_rows(); ++i) {
        const double o = Value<arrow::DoubleArray>(*combined, "open", i);
        const double h = Value<arrow::DoubleArray>(*combined, "high", i);
        const double l = Value<arrow::DoubleArray>(*combined, "low", i);
        const double c = Value<arrow::DoubleArray>(*combined, "close", i);
        ASSERT_GE(h, std::max(o, c));
        ASSERT_LE(l, std::min(o, c));
        ASSERT_GT(l, 0);
        ASSERT_LE(Value<arrow::DoubleArray>(*combined, "taker_buy_volume", i),
                  Value<arrow::DoubleArray>(*combined, "volume", i));
        ASSERT_EQ(Value<arrow::Int64Array>(*combined, "close_time_us", i),
                  Value<arrow::Int64Array>(*combined, "timestamp_us", i) + (micros ? 59'999'999 : 59'999'000));
      }
    } else {
      const auto combined = *(*table)->CombineChunks();
      for (int64_t i = 0; i < combined->num_rows(); ++i) {
        ASSERT_LE(Value<arrow::Int64Array>(*combined, "first_trade_id", i),
                  Value<arrow::Int64Array>(*combined, "last_trade_id", i));
        if (i > 0) {
          ASSERT_EQ(Value<arrow::Int64Array>(*combined, "trade_id", i),
                    Value<arrow::Int64Array>(*combined, "trade_id", i - 1) + 1);
          ASSERT_GE(Value<arrow::Int64Array>(*combined, "timestamp_us", i),
                    Value<arrow::Int64Array>(*combined, "timestamp_us", i - 1));
        }
      }
    }
  }
  options.seed = 2;
  options.out_dir = dir_ / "c";
  auto c = *synth::WriteBinanceDumps(options);
  EXPECT_NE(ReadBytes(a[0].path), ReadBytes(c[0].path));
}

TEST_F(BinanceTest, RealTestdataWhenPresent) {
  const fs::path base = TICKFORGE_DEFAULT_TESTDATA;
  const auto algo = base / "binance" / "ALGOUSDT-1m-2024-02.csv";
  if (!fs::exists(algo)) GTEST_SKIP() << "test data not found: " << algo;
  auto table = ReadFile(algo.string(), Kind::kKlines);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ((*table)->num_rows(), 41760);
  const auto ada = base / "nautilus" / "ADABTC-1m-2021-11-27.csv";
  table = ReadFile(ada.string(), Kind::kKlines);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ((*table)->num_rows(), 10);
  EXPECT_EQ(Value<arrow::Int64Array>(**table, "timestamp", 0), 1637971200000);
}

}  // namespace
}  // namespace tickforge::binance
