// What the book/ tests share: MBO records made by hand, MBO files written from them, and a
// fresh temporary folder per test.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tickforge/dbn/encoder.h"
#include "tickforge/book/price_levels.h"
#include "tickforge/dbn/records.h"

namespace tickforge::book {

inline constexpr uint64_t kT0 = 1'703'462'400'000'000'000ULL;  // 2023-12-25 00:00 UTC
inline constexpr int64_t kTick = 250'000'000;                   // 0.25 in DBN fixed point
inline constexpr int64_t kMid = 4'800 * dbn::kFixedPriceScale;
/// The mid, one tick above it and one below.
inline constexpr int64_t P0 = kMid, P1 = kMid + kTick, M1 = kMid - kTick;

/// One MBO record; the fields a test does not name get F_LAST-free defaults.
struct Mbo {
  char action = 'A';
  char side = 'B';
  int64_t price = kMid;
  uint32_t size = 1;
  uint64_t order_id = 1;
  uint8_t flags = dbn::flag::kLast;
  uint32_t sequence = 0;
  uint32_t instrument_id = 17077;
  uint16_t publisher_id = 1;

  [[nodiscard]] dbn::MboMsg Record(uint64_t ts = kT0) const {
    dbn::MboMsg m;
    std::memset(&m, 0, sizeof m);
    m.hd = {dbn::LengthOf<dbn::MboMsg>(), dbn::rtype::kMbo, publisher_id, instrument_id, ts};
    m.order_id = order_id;
    m.price = price;
    m.size = size;
    m.flags = flags;
    m.action = action;
    m.side = side;
    m.ts_recv = ts + 100;
    m.ts_in_delta = 7;
    m.sequence = sequence;
    return m;
  }
};

/// Metadata of an MBO file of GLBX.MDP3 mapping ESH4 to instrument 17077 on 2023-12-25.
inline dbn::Metadata MboMetadata() {
  dbn::Metadata m;
  m.dataset = "GLBX.MDP3";
  m.schema = dbn::Schema::kMbo;
  m.start = kT0;
  m.stype_in = 1;
  m.stype_out = 0;
  m.symbols = {"ESH4"};
  m.mappings = {{"ESH4", {{20231225, 20231226, "17077"}}}};
  return m;
}

class BookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tickforge_book_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Write `records` (timestamps one microsecond apart) as an MBO DBN file named `name`.
  std::string WriteMbo(const std::string& name, const std::vector<Mbo>& records,
                       const dbn::Metadata& metadata = MboMetadata(), bool zstd = true) {
    const auto path = dir_ / name;
    auto encoder = dbn::Encoder::Open(path, metadata, dbn::EncoderOptions{zstd, 3});
    EXPECT_TRUE(encoder.ok()) << encoder.status().ToString();
    for (size_t i = 0; i < records.size(); ++i) {
      EXPECT_TRUE((*encoder)->Write(records[i].Record(kT0 + i * 1000)).ok());
    }
    EXPECT_TRUE((*encoder)->Close().ok());
    return path.string();
  }

  std::filesystem::path dir_;
};

/// One side's levels, best first.
inline std::vector<Level> Levels(const PriceLevels& side) {
  std::vector<Level> out;
  for (size_t i = 0; i < side.size(); ++i) out.push_back(side[i]);
  return out;
}

}  // namespace tickforge::book
