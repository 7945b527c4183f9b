#include "tickforge/synth/synth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/records.h"
#include "tickforge/synth/synth_internal.h"
#include "tickforge/util/time.h"

namespace tickforge::synth {
namespace {

namespace fs = std::filesystem;
using dbn::Mbp10Msg;

constexpr uint64_t kNsPerHour = 3'600'000'000'000;
constexpr uint64_t kNsPerDay = 24 * kNsPerHour;

// Minimum price increments of the products behind the first symbols, in 1e-9 units.
const std::map<std::string, int64_t> kTicks = {
    {"M6AM4", 100'000}, {"M6EM4", 100'000}, {"6AM4", 50'000},
    {"6EM4", 50'000},   {"M6BM4", 100'000}, {"6BM4", 100'000},
};

class SynthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           (std::string("tickforge_synth_") + info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Generate into `sub` below the test's directory and fail the test on error.
  std::vector<SynthFile> Write(const SynthOptions& options, const std::string& sub = "out") {
    auto result = WriteMbp10Days(dir_ / sub, options);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : std::vector<SynthFile>{};
  }

  fs::path dir_;
};

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Decode `path`, hand every MBP-10 record to `fn`, and return the metadata.
arrow::Result<dbn::Metadata> Scan(const std::string& path,
                                  const std::function<void(const Mbp10Msg&)>& fn) {
  ARROW_ASSIGN_OR_RAISE(auto decoder, dbn::Decoder::Open(path));
  while (true) {
    ARROW_ASSIGN_OR_RAISE(const dbn::RecordHeader* header, decoder->Next());
    if (header == nullptr) break;
    if (header->rtype != dbn::rtype::kMbp10 || header->size() != sizeof(Mbp10Msg)) {
      return arrow::Status::Invalid("unexpected record: rtype ", int{header->rtype}, " length ",
                                    int{header->length});
    }
    fn(*reinterpret_cast<const Mbp10Msg*>(header));
  }
  return decoder->metadata();
}

arrow::Result<int64_t> CountRecords(const std::string& path) {
  int64_t n = 0;
  ARROW_RETURN_NOT_OK(Scan(path, [&](const Mbp10Msg&) { ++n; }).status());
  return n;
}

std::vector<std::string> ListDir(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(SymbolNamesTest, StartsWithFrontMonthFxMicros) {
  EXPECT_EQ(SymbolNames(5),
            (std::vector<std::string>{"M6AM4", "M6EM4", "6AM4", "6EM4", "M6BM4"}));
  EXPECT_EQ(SymbolNames(7), SymbolNames(7));
  // A longer list extends a shorter one.
  const auto all = SymbolNames(kMaxSymbols);
  const auto some = SymbolNames(10);
  EXPECT_TRUE(std::equal(some.begin(), some.end(), all.begin()));
}

TEST(SymbolNamesTest, SixtyFourDistinctNamesAndClamping) {
  const auto names = SymbolNames(kMaxSymbols);
  ASSERT_EQ(names.size(), 64u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 64u);
  for (const auto& name : names) {
    EXPECT_GE(name.size(), 4u) << name;
    EXPECT_LE(name.size(), 5u) << name;
  }
  EXPECT_EQ(SymbolNames(100).size(), 64u);
  EXPECT_TRUE(SymbolNames(0).empty());
  EXPECT_TRUE(SymbolNames(-3).empty());
}

TEST_F(SynthTest, NamesFilesLikeTheVendorAndSkipsWeekends) {
  SynthOptions options;
  options.days = 3;
  options.rows_per_day = 2000;
  options.start_date = 20240405;  // a Friday
  const auto files = Write(options);
  ASSERT_EQ(files.size(), 3u);
  const std::vector<uint32_t> dates = {20240405, 20240408, 20240409};
  std::vector<std::string> expected_names;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string name = "glbx-mdp3-" + std::to_string(dates[i]) + ".mbp-10.dbn.zst";
    expected_names.push_back(name);
    EXPECT_EQ(files[i].date, dates[i]);
    EXPECT_EQ(files[i].rows, 2000);
    EXPECT_EQ(fs::path(files[i].path).filename(), name);
    EXPECT_EQ(fs::path(files[i].path).parent_path(), dir_ / "out");
    // zstd frame magic
    const std::string bytes = ReadBytes(files[i].path);
    ASSERT_GE(bytes.size(), 4u);
    EXPECT_EQ(bytes.substr(0, 4), std::string("\x28\xB5\x2F\xFD", 4));
  }
  // Nothing else is left behind, temporary files included.
  EXPECT_EQ(ListDir(dir_ / "out"), expected_names);
}

TEST_F(SynthTest, UncompressedFilesEndInDbn) {
  SynthOptions options;
  options.days = 1;
  options.rows_per_day = 500;
  options.zstd = false;
  options.dataset = "XCME.TEST";
  const auto files = Write(options);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(fs::path(files[0].path).filename(), "xcme-test-20240401.mbp-10.dbn");
  EXPECT_EQ(ReadBytes(files[0].path).substr(0, 3), "DBN");
  auto n = CountRecords(files[0].path);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 500);
}

TEST_F(SynthTest, WeekendStartMovesToMonday) {
  SynthOptions options;
  options.days = 1;
  options.rows_per_day = 100;
  for (uint32_t start : {20240406u, 20240407u}) {
    options.start_date = start;
    const auto files = Write(options, std::to_string(start));
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].date, 20240408u);
  }
}

TEST_F(SynthTest, MetadataDescribesSymbolsAndMappings) {
  SynthOptions options;
  options.symbols = 6;
  options.days = 2;
  options.rows_per_day = 3000;
  const auto files = Write(options);
  ASSERT_EQ(files.size(), 2u);
  const std::vector<std::pair<uint32_t, uint32_t>> ranges = {{20240401, 20240402},
                                                             {20240402, 20240403}};
  std::vector<std::vector<dbn::SymbolMapping>> mappings;
  for (size_t i = 0; i < files.size(); ++i) {
    std::set<uint32_t> seen_ids;
    auto metadata =
        Scan(files[i].path, [&](const Mbp10Msg& m) { seen_ids.insert(m.hd.instrument_id); });
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    EXPECT_EQ(metadata->version, 3);
    EXPECT_EQ(metadata->dataset, "GLBX.MDP3");
    EXPECT_EQ(metadata->schema, dbn::Schema::kMbp10);
    const uint64_t start = (1711929600ULL + i * 86400ULL) * 1'000'000'000ULL;  // 2024-04-01
    EXPECT_EQ(metadata->start, start);
    EXPECT_EQ(metadata->end, start + kNsPerDay);
    EXPECT_EQ(metadata->stype_in, std::optional<uint8_t>(1));
    EXPECT_EQ(metadata->stype_out, 0);
    EXPECT_EQ(metadata->symbols, SymbolNames(6));
    ASSERT_EQ(metadata->mappings.size(), 6u);
    std::set<uint32_t> mapped_ids;
    for (size_t k = 0; k < metadata->mappings.size(); ++k) {
      const auto& mapping = metadata->mappings[k];
      EXPECT_EQ(mapping.raw_symbol, SymbolNames(6)[k]);
      ASSERT_EQ(mapping.intervals.size(), 1u);
      EXPECT_EQ(mapping.intervals[0].start_date, ranges[i].first);
      EXPECT_EQ(mapping.intervals[0].end_date, ranges[i].second);
      mapped_ids.insert(static_cast<uint32_t>(std::stoul(mapping.intervals[0].symbol)));
    }
    EXPECT_EQ(mapped_ids.size(), 6u);
    // Every record's instrument is one of the mapped ones.
    for (uint32_t id : seen_ids) EXPECT_EQ(mapped_ids.count(id), 1u) << id;
    mappings.push_back(metadata->mappings);
  }
  // Instrument ids are stable across days.
  for (size_t k = 0; k < 6; ++k) {
    EXPECT_EQ(mappings[0][k].intervals[0].symbol, mappings[1][k].intervals[0].symbol);
  }
}

// The main property test: one realistic 200k-row day checked record by record.
TEST_F(SynthTest, RecordsFormAPlausibleSortedBook) {
  constexpr int64_t kRows = 200'000;
  SynthOptions options;
  options.symbols = 4;
  options.days = 1;
  options.rows_per_day = kRows;
  options.seed = 7;
  const auto files = Write(options);
  ASSERT_EQ(files.size(), 1u);

  // Violations are counted, with the first one described, instead of failing per record.
  std::map<std::string, int64_t> violations;
  std::string first_violation;
  auto check = [&](bool ok, const char* what, const Mbp10Msg& m) {
    if (ok) return;
    if (violations[what]++ == 0 && first_violation.empty()) {
      first_violation = std::string(what) + " at ts_recv " + std::to_string(m.ts_recv) +
                        " instrument " + std::to_string(m.hd.instrument_id);
    }
  };

  std::map<uint32_t, int64_t> tick_of;  // filled from the metadata below, before the scan
  {
    auto metadata = Scan(files[0].path, [](const Mbp10Msg&) {});
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    for (const auto& mapping : metadata->mappings) {
      tick_of[static_cast<uint32_t>(std::stoul(mapping.intervals[0].symbol))] =
          kTicks.at(mapping.raw_symbol);
    }
  }
  ASSERT_EQ(tick_of.size(), 4u);
  const uint64_t start = 1711929600ULL * 1'000'000'000ULL;
  const uint64_t end = start + kNsPerDay;

  int64_t rows = 0;
  int64_t last_flag = 0;
  int64_t one_sided = 0;
  int64_t crossed = 0;
  int64_t two_sided = 0;
  int64_t narrow = 0;
  uint64_t prev_ts = 0;
  uint64_t prev_seq = 0;
  std::map<char, int64_t> actions;
  std::map<uint32_t, int64_t> per_instrument;
  auto metadata = Scan(files[0].path, [&](const Mbp10Msg& m) {
    ++rows;
    check(m.hd.rtype == 0x0A, "rtype", m);
    check(m.hd.length == 92, "length", m);
    check(m.hd.publisher_id == 1, "publisher_id", m);
    check(tick_of.count(m.hd.instrument_id) == 1, "instrument_id", m);
    const int64_t tick = tick_of.count(m.hd.instrument_id) ? tick_of[m.hd.instrument_id] : 1;
    ++per_instrument[m.hd.instrument_id];
    check(m.ts_recv >= prev_ts, "ts_recv sorted", m);
    check(m.ts_recv >= start && m.ts_recv < end, "ts_recv in file range", m);
    check(m.hd.ts_event <= m.ts_recv && m.hd.ts_event >= start, "ts_event", m);
    check(m.ts_in_delta > 0 && m.ts_in_delta < 10'000'000, "ts_in_delta", m);
    const uint64_t hour = (m.ts_recv - start) / kNsPerHour;
    check(hour != 21, "maintenance break is quiet", m);
    check(rows == 1 || m.sequence > prev_seq, "sequence increasing", m);
    prev_ts = m.ts_recv;
    prev_seq = m.sequence;
    check(m.flags == 0 || m.flags == 128, "flags", m);
    if (m.flags == 128) ++last_flag;
    ++actions[m.action];
    check(std::string("ACMT").find(m.action) != std::string::npos, "action", m);
    check(m.side == 'A' || m.side == 'B' || (m.side == 'N' && m.action == 'T'), "side", m);
    check(m.depth < 10, "depth", m);
    check(m.price > 0 && m.price % tick == 0, "event price on tick", m);

    int defined[2] = {0, 0};
    for (int s = 0; s < 2; ++s) {
      bool ended = false;
      for (int i = 0; i < 10; ++i) {
        const auto& l = m.levels[i];
        const int64_t px = s == 0 ? l.bid_px : l.ask_px;
        const uint32_t sz = s == 0 ? l.bid_sz : l.ask_sz;
        const uint32_t ct = s == 0 ? l.bid_ct : l.ask_ct;
        if (px == dbn::kUndefPrice) {
          ended = true;
          check(sz == 0 && ct == 0, "undefined level is empty", m);
          continue;
        }
        check(!ended, "undefined levels only at the far end", m);
        ++defined[s];
        check(px > 0 && px % tick == 0, "level price on tick", m);
        check(sz > 0 && ct >= 1 && ct <= sz, "size and count", m);
        if (i > 0) {
          const int64_t prev = s == 0 ? m.levels[i - 1].bid_px : m.levels[i - 1].ask_px;
          check(s == 0 ? px < prev : px > prev, "levels strictly ordered", m);
        }
      }
    }
    if ((defined[0] == 0) != (defined[1] == 0)) ++one_sided;
    if (defined[0] > 0 && defined[1] > 0) {
      if (m.levels[0].bid_px >= m.levels[0].ask_px) {
        ++crossed;
      } else {
        ++two_sided;
        if ((m.levels[0].ask_px - m.levels[0].bid_px) / tick <= 3) ++narrow;
      }
    }
  });
  ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  EXPECT_TRUE(violations.empty()) << first_violation;
  for (const auto& [what, n] : violations) ADD_FAILURE() << what << ": " << n << " records";

  EXPECT_EQ(rows, kRows);
  EXPECT_EQ(per_instrument.size(), 4u);
  int64_t smallest = kRows;
  int64_t largest = 0;
  for (const auto& [id, n] : per_instrument) {
    smallest = std::min(smallest, n);
    largest = std::max(largest, n);
  }
  EXPECT_GT(smallest, kRows / 20);
  EXPECT_GT(largest, smallest);  // liquidity differs between products

  // Packets mostly hold one record.
  EXPECT_GT(last_flag, kRows / 2);
  // Every action appears; trades are rarer than level changes.
  for (char a : {'A', 'C', 'M', 'T'}) EXPECT_GT(actions[a], 0) << a;
  EXPECT_LT(actions['T'], actions['M']);
  // Rare book states are present but rare.
  EXPECT_GT(one_sided, 0);
  EXPECT_LT(one_sided, kRows / 200);
  EXPECT_GT(crossed, 0);
  EXPECT_LT(crossed, kRows / 200);
  // Spreads are one to three ticks almost always.
  EXPECT_GT(narrow, two_sided * 9 / 10);
}

TEST_F(SynthTest, PricesStayNearTheProductsLevels) {
  SynthOptions options;
  options.symbols = 4;
  options.days = 5;
  options.rows_per_day = 20'000;
  const auto files = Write(options);
  ASSERT_EQ(files.size(), 5u);
  // Instruments 1000 (M6A) and 1014 (6A) are AUD, 1007 (M6E) and 1021 (6E) EUR.
  const std::map<uint32_t, std::pair<double, double>> bounds = {
      {1000, {0.55, 0.76}}, {1007, {0.95, 1.22}}, {1014, {0.55, 0.76}}, {1021, {0.95, 1.22}}};
  int64_t checked = 0;
  for (const auto& file : files) {
    auto metadata = Scan(file.path, [&](const Mbp10Msg& m) {
      const auto& l = m.levels[0];
      if (l.bid_px == dbn::kUndefPrice || l.ask_px == dbn::kUndefPrice) return;
      const double mid = 0.5e-9 * static_cast<double>(l.bid_px + l.ask_px);
      const auto it = bounds.find(m.hd.instrument_id);
      ASSERT_NE(it, bounds.end()) << m.hd.instrument_id;
      EXPECT_GT(mid, it->second.first);
      EXPECT_LT(mid, it->second.second);
      ++checked;
    });
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  }
  EXPECT_GT(checked, 90'000);
}

TEST_F(SynthTest, FridayClosesAtTheMaintenanceBreak) {
  SynthOptions options;
  options.days = 1;
  options.rows_per_day = 5000;
  options.start_date = 20240405;
  const auto files = Write(options);
  ASSERT_EQ(files.size(), 1u);
  const uint64_t close = (1712275200ULL * 1'000'000'000ULL) + 21 * kNsPerHour;  // 2024-04-05 21:00
  uint64_t last = 0;
  auto metadata = Scan(files[0].path, [&](const Mbp10Msg& m) { last = std::max(last, m.ts_recv); });
  ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  EXPECT_LT(last, close);
  EXPECT_GT(last, close - kNsPerHour);
}

TEST_F(SynthTest, SameSeedSameBytesOtherSeedOtherBytes) {
  SynthOptions options;
  options.symbols = 5;
  options.days = 2;
  options.rows_per_day = 20'000;
  const auto a = Write(options, "a");
  const auto b = Write(options, "b");
  options.seed = 2;
  const auto c = Write(options, "c");
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  ASSERT_EQ(c.size(), 2u);
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string bytes = ReadBytes(a[i].path);
    EXPECT_GT(bytes.size(), 1000u);
    EXPECT_EQ(bytes, ReadBytes(b[i].path)) << a[i].path;
    EXPECT_NE(bytes, ReadBytes(c[i].path)) << c[i].path;
  }
}

TEST_F(SynthTest, EarlierDaysDoNotDependOnTheDayCount) {
  SynthOptions options;
  options.days = 1;
  options.rows_per_day = 10'000;
  const auto one = Write(options, "one");
  options.days = 3;
  const auto three = Write(options, "three");
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(three.size(), 3u);
  EXPECT_EQ(ReadBytes(one[0].path), ReadBytes(three[0].path));
  EXPECT_NE(ReadBytes(three[0].path), ReadBytes(three[1].path));
}

TEST_F(SynthTest, FewerRowsThanSymbols) {
  SynthOptions options;
  options.symbols = 8;
  options.days = 2;
  options.rows_per_day = 3;
  const auto files = Write(options);
  ASSERT_EQ(files.size(), 2u);
  for (const auto& file : files) {
    auto n = CountRecords(file.path);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, 3);
  }
}

TEST_F(SynthTest, AllSixtyFourSymbols) {
  SynthOptions options;
  options.symbols = kMaxSymbols;
  options.days = 1;
  options.rows_per_day = 50'000;
  const auto files = Write(options);
  ASSERT_EQ(files.size(), 1u);
  std::set<uint32_t> ids;
  uint64_t prev = 0;
  bool sorted = true;
  auto metadata = Scan(files[0].path, [&](const Mbp10Msg& m) {
    ids.insert(m.hd.instrument_id);
    sorted = sorted && m.ts_recv >= prev;
    prev = m.ts_recv;
  });
  ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
  EXPECT_TRUE(sorted);
  EXPECT_EQ(metadata->symbols.size(), 64u);
  EXPECT_GT(ids.size(), 60u);  // the least liquid deferred months may get very few rows
}

TEST_F(SynthTest, InvalidOptionsAreRejected) {
  struct Case {
    SynthOptions options;
    const char* mentions;
  };
  std::vector<Case> cases;
  auto with = [](auto&& edit) {
    SynthOptions options;
    options.rows_per_day = 10;
    edit(options);
    return options;
  };
  cases.push_back({with([](SynthOptions& o) { o.symbols = 0; }), "symbols"});
  cases.push_back({with([](SynthOptions& o) { o.symbols = 65; }), "symbols"});
  cases.push_back({with([](SynthOptions& o) { o.days = 0; }), "days"});
  cases.push_back({with([](SynthOptions& o) { o.days = -1; }), "days"});
  cases.push_back({with([](SynthOptions& o) { o.rows_per_day = 0; }), "rows_per_day"});
  cases.push_back({with([](SynthOptions& o) { o.rows_per_day = -5; }), "rows_per_day"});
  cases.push_back({with([](SynthOptions& o) { o.start_date = 20240230; }), "start_date"});
  for (const auto& c : cases) {
    auto result = WriteMbp10Days(dir_ / "invalid", c.options);
    ASSERT_FALSE(result.ok()) << c.mentions;
    EXPECT_TRUE(result.status().IsInvalid()) << result.status().ToString();
    EXPECT_NE(result.status().message().find(c.mentions), std::string::npos)
        << result.status().ToString();
  }
  // Nothing was written.
  EXPECT_FALSE(fs::exists(dir_ / "invalid"));
}

TEST(SplitRowsTest, SharesAddUpAndTheLargestRemaindersGetTheRest) {
  const std::vector<double> weights = {0.9, 1.4, 1.6, 2.5, 0.05, 0.3};
  const double total = 0.9 + 1.4 + 1.6 + 2.5 + 0.05 + 0.3;
  for (int64_t rows : {int64_t{1}, int64_t{3}, int64_t{6}, int64_t{7}, int64_t{100}, int64_t{12345},
                       int64_t{1'000'000'007}}) {
    const auto shares = internal::SplitRows(rows, weights);
    ASSERT_EQ(shares.size(), weights.size());
    int64_t sum = 0;
    double smallest_rounded_up = 2, largest_rounded_down = -1;
    for (size_t i = 0; i < shares.size(); ++i) {
      sum += shares[i];
      const double exact = static_cast<double>(rows) * weights[i] / total;
      const double down = std::floor(exact);
      ASSERT_TRUE(shares[i] == static_cast<int64_t>(down) || shares[i] == static_cast<int64_t>(down) + 1)
          << "rows " << rows << " share " << i;
      if (shares[i] > static_cast<int64_t>(down)) {
        smallest_rounded_up = std::min(smallest_rounded_up, exact - down);
      } else {
        largest_rounded_down = std::max(largest_rounded_down, exact - down);
      }
    }
    EXPECT_EQ(sum, rows);
    EXPECT_GE(smallest_rounded_up, largest_rounded_down) << "rows " << rows;
  }
  // Equal weights: an even split, the extra rows to the first.
  EXPECT_EQ(internal::SplitRows(10, {1, 1, 1, 1}), (std::vector<int64_t>{3, 3, 2, 2}));
}

TEST(WeekdayTest, CountsFromTheThursdayOfTheEpoch) {
  EXPECT_EQ(internal::Weekday(0), 4);
  EXPECT_EQ(internal::Weekday(-1), 3);
  EXPECT_EQ(internal::Weekday(DaysFromYmd(20240401)), 1);  // a Monday
  EXPECT_EQ(internal::Weekday(DaysFromYmd(20240405)), 5);
  EXPECT_EQ(internal::Weekday(DaysFromYmd(20240406)), 6);
  EXPECT_EQ(internal::Weekday(DaysFromYmd(20240407)), 0);
}

}  // namespace
}  // namespace tickforge::synth
