// What the binance/ tests share: a fresh temporary folder per test, sample klines rows and a
// typed cell reader.
#pragma once

#include <arrow/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace tickforge::binance {

class BinanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tickforge_binance_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& data) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }
  std::string ReadBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  std::filesystem::path dir_;
};

inline const char* kKlinesHeader =
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
    "taker_buy_quote_volume,ignore\n";
inline const char* kKlineRow1 = "1706745600000,0.1592,0.1598,0.1591,0.1598,506355.0,1706745659999,80756.28594,311,380529.9,60711.92171,0\n";
inline const char* kKlineRow2 = "1706745660000,0.1598,0.1601,0.1597,0.1600,393577.2,1706745719999,62937.83970,367,292985.2,46856.95794,0\n";

/// Return `line` (ending in '\n') with "\r\n" as its line end.
inline std::string Crlf(std::string_view line) {
  std::string out(line.substr(0, line.size() - 1));
  out.append("\r\n");
  return out;
}

/// Return the cell of `column` at `row` of `table`, whatever its chunks.
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

}  // namespace tickforge::binance
