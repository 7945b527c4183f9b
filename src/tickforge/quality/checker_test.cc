// The checkers on hand-made batches with defects at known rows: each check's count and rows,
// the boundaries between partitions, repeats, and errors that become notes.
#include "tickforge/quality/checker.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <limits>

#include "tickforge/dbn/records.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/quality/test_common.h"

namespace tickforge::quality {
namespace {


std::shared_ptr<arrow::Array> Ints(const std::vector<int64_t>& values) {
  arrow::Int64Builder b;
  EXPECT_TRUE(b.AppendValues(values).ok());
  return *b.Finish();
}
std::shared_ptr<arrow::Array> Doubles(const std::vector<double>& values) {
  arrow::DoubleBuilder b;
  EXPECT_TRUE(b.AppendValues(values).ok());
  return *b.Finish();
}

std::shared_ptr<arrow::RecordBatch> Klines(const std::vector<int64_t>& ts, std::vector<double> open,
                                           std::vector<double> high) {
  const size_t n = ts.size();
  std::vector<double> low(n, 99.0), close(n, 100.0);
  auto schema = arrow::schema({arrow::field("timestamp", arrow::int64()), arrow::field("open", arrow::float64()),
                               arrow::field("high", arrow::float64()), arrow::field("low", arrow::float64()),
                               arrow::field("close", arrow::float64())});
  return arrow::RecordBatch::Make(schema, static_cast<int64_t>(n),
                                  {Ints(ts), Doubles(open), Doubles(high), Doubles(low), Doubles(close)});
}

const CheckResult* Find(Report& report, const std::string& file, const std::string& check) {
  auto it = report.files[file].checks.find(check);
  return it == report.files[file].checks.end() ? nullptr : &it->second;
}

TEST(Klines, DefectsAtKnownRows) {
  auto checker = MakeChecker("klines", *Klines({}, {}, {})->schema(), {{"timeframe", "1m"}});
  ASSERT_NE(checker, nullptr);
  // Rows: 0 ok, 1 ok, 2 skips two minutes, 3 repeats row 2's minute, 4 off grid, 5 high < open,
  // 6 zero open, 7 microseconds.
  const int64_t t = k20240101;
  auto batch = Klines({t, t + kMinute, t + 4 * kMinute, t + 4 * kMinute, t + 5 * kMinute + 7, t + 6 * kMinute,
                       t + 7 * kMinute, (t + 8 * kMinute) * 1000},
                      {100, 100, 100, 100, 100, 100, 0, 100}, {101, 101, 101, 101, 101, 99.5, 101, 101});
  // Fed in two batches: state carries over.
  checker->Consume(*batch->Slice(0, 3), "a.parquet", 0);
  checker->Consume(*batch->Slice(3), "a.parquet", 3);
  checker->Finish();
  auto& report = checker->report();
  EXPECT_EQ(report.files["a.parquet"].rows, 8);
  const auto* missing = Find(report, "a.parquet", "missing_interval");
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->count, 2);
  EXPECT_EQ(missing->rows, std::vector<int64_t>{2});
  EXPECT_EQ(Find(report, "a.parquet", "duplicate_interval")->rows, std::vector<int64_t>{3});
  EXPECT_EQ(Find(report, "a.parquet", "off_grid")->rows, std::vector<int64_t>{4});
  // A zero open also leaves the low above it.
  EXPECT_EQ(Find(report, "a.parquet", "ohlc_inconsistent")->rows, (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(Find(report, "a.parquet", "non_positive_price")->rows, std::vector<int64_t>{6});
  EXPECT_EQ(Find(report, "a.parquet", "time_unit")->rows, std::vector<int64_t>{7});
  EXPECT_EQ(Find(report, "a.parquet", "time_backwards"), nullptr);
  EXPECT_TRUE(report.notes.empty());
}

TEST(Klines, GapsAcrossPartitionsOfASeries) {
  auto schema = Klines({}, {}, {})->schema();
  auto day1 = MakeChecker("klines", *schema, {{"timeframe", "1h"}});
  auto day2 = MakeChecker("klines", *schema, {{"timeframe", "1h"}});
  auto other = MakeChecker("klines", *schema, {{"timeframe", "1h"}});
  const int64_t hour = 60 * kMinute;
  day1->Consume(*Klines({k20240101 + 22 * hour, k20240101 + 23 * hour}, {100, 100}, {101, 101}), "d1", 0);
  // Day 2 starts at 02:00: 00:00 and 01:00 are missing.
  day2->Consume(*Klines({k20240101 + 26 * hour}, {100}, {101}), "d2", 0);
  other->Consume(*Klines({k20240101 + 30 * hour}, {100}, {101}), "o", 0);
  auto report = FinishAll({{"s=A/", day2.get()}, {"s=A/", day1.get()}, {"s=B/", other.get()}}, "klines");
  ASSERT_EQ(report.files.size(), 3u);
  ASSERT_TRUE(report.files["d2"].checks.count("missing_interval"));
  EXPECT_EQ(report.files["d2"].checks["missing_interval"].count, 2);
  EXPECT_EQ(report.files["d2"].checks["missing_interval"].rows, std::vector<int64_t>{0});
  EXPECT_TRUE(report.files["o"].checks.empty());
  EXPECT_TRUE(report.files["d1"].checks.empty());
}

TEST(Klines, RepeatsAndMissingColumnsBecomeNotes) {
  auto checker = MakeChecker("klines", *Klines({}, {}, {})->schema(), {{"timeframe", "1m"}});
  checker->Repeat("a", 4);
  auto schema = arrow::schema({arrow::field("timestamp", arrow::int64())});
  checker->Consume(*arrow::RecordBatch::Make(schema, 1, {Ints({k20240101})}), "a", 0);
  checker->Finish();
  auto& report = checker->report();
  EXPECT_EQ(report.files["a"].checks["duplicate_interval"].rows, std::vector<int64_t>{4});
  ASSERT_EQ(report.notes.size(), 1u);
  EXPECT_NE(report.notes[0].find("open"), std::string::npos) << report.notes[0];
}

TEST(AggTrades, IdGapsRepeatsAndTimeBackwards) {
  auto schema = arrow::schema({arrow::field("timestamp", arrow::int64()), arrow::field("trade_id", arrow::int64()),
                               arrow::field("trade_price", arrow::float64())});
  auto batch = arrow::RecordBatch::Make(
      schema, 6, {Ints({10, 11, 12, 9, 13, 14}), Ints({1, 2, 5, 6, 6, 7}), Doubles({1, 1, 1, 1, 1, 0})});
  auto checker = MakeChecker("aggtrades", *schema, {});
  checker->Consume(*batch, "t", 0);
  checker->Finish();
  auto& file = checker->report().files["t"];
  EXPECT_EQ(file.checks["id_gap"].rows, std::vector<int64_t>{2});
  EXPECT_EQ(file.checks["id_repeat"].rows, std::vector<int64_t>{4});
  EXPECT_EQ(file.checks["time_backwards"].rows, std::vector<int64_t>{3});
  EXPECT_EQ(file.checks["non_positive_price"].rows, std::vector<int64_t>{5});
  EXPECT_EQ(file.checks.size(), 4u);
}

TEST(Funding, MissingIntervalsWithDrift) {
  auto schema = arrow::schema({arrow::field("timestamp", arrow::int64()), arrow::field("funding_rate", arrow::float64())});
  const int64_t h8 = 8 * 3'600'000LL;
  auto batch = arrow::RecordBatch::Make(schema, 4, {Ints({0, h8 + 5, 3 * h8 - 3, 3 * h8 + h8 + 1}), Doubles({0, 0, 0, 0})});
  auto checker = MakeChecker("funding", *schema, {});
  checker->Consume(*batch, "f", 0);
  checker->Finish();
  auto& file = checker->report().files["f"];
  EXPECT_EQ(file.checks["missing_interval"].count, 1);
  EXPECT_EQ(file.checks["missing_interval"].rows, std::vector<int64_t>{2});
  EXPECT_EQ(file.checks.size(), 1u);
}

TEST(Book, CrossedLockedHolesSequenceAndMidJumps) {
  const int64_t undef = dbn::kUndefPrice;
  const int64_t tick = 1'000'000'000;  // fixed point 1e-9
  // Mid moves by ±1 tick mostly, one jump of 500 ticks at row 12.
  std::vector<int64_t> bid, ask, bid1, seq, ts;
  int64_t mid_bid = 100 * tick;
  for (int i = 0; i < 20; ++i) {
    if (i > 0) mid_bid += (i == 12 ? 500 : (i % 2 ? 1 : -1)) * tick;
    bid.push_back(mid_bid);
    ask.push_back(mid_bid + 2 * tick);
    bid1.push_back(mid_bid - tick);
    seq.push_back(100 + i);
    ts.push_back(1000 + i);
  }
  ask[3] = bid[3] - tick;  // crossed
  ask[5] = bid[5];         // locked
  bid[7] = undef;          // a hole: bid_px_00 undefined, bid_px_01 defined
  seq[9] = 110;            // a gap: 108 -> 110 (and row 10 repeats 110: no gap)
  ts[15] = 900;            // backwards
  auto schema = arrow::schema({arrow::field("ts_recv", arrow::timestamp(arrow::TimeUnit::NANO)),
                               arrow::field("sequence", arrow::uint32()), arrow::field("bid_px_00", arrow::int64()),
                               arrow::field("ask_px_00", arrow::int64()), arrow::field("bid_px_01", arrow::int64()),
                               arrow::field("ask_px_01", arrow::int64())});
  arrow::TimestampBuilder tsb(arrow::timestamp(arrow::TimeUnit::NANO), arrow::default_memory_pool());
  ASSERT_OK(tsb.AppendValues(ts));
  arrow::UInt32Builder seqb;
  for (auto s : seq) ASSERT_OK(seqb.Append(static_cast<uint32_t>(s)));
  std::vector<int64_t> ask1(ask.size());
  for (size_t i = 0; i < ask.size(); ++i) ask1[i] = ask[i] + tick;
  auto batch = arrow::RecordBatch::Make(schema, 20, {*tsb.Finish(), *seqb.Finish(), Ints(bid), Ints(ask), Ints(bid1), Ints(ask1)});
  auto checker = MakeChecker("mbp10", *schema, {});
  checker->Consume(*batch, "b", 0);
  checker->Finish();
  auto& file = checker->report().files["b"];
  EXPECT_EQ(file.checks["crossed"].rows, std::vector<int64_t>{3});
  EXPECT_EQ(file.checks["locked"].rows, std::vector<int64_t>{5});
  EXPECT_EQ(file.checks["undefined_level"].rows, std::vector<int64_t>{7});
  EXPECT_EQ(file.checks["sequence_gap"].rows, std::vector<int64_t>{9});
  EXPECT_EQ(file.checks["time_backwards"].rows, std::vector<int64_t>{15});
  EXPECT_EQ(file.checks["mid_jump"].rows, std::vector<int64_t>{12});
  EXPECT_EQ(file.checks.size(), 6u);
}

TEST(Book, MidJumpThresholdFromTheWarmUpWindowOrRelease) {
  auto schema = arrow::schema({arrow::field("ts_recv", arrow::int64()), arrow::field("bid_px_00", arrow::float64()),
                               arrow::field("ask_px_00", arrow::float64())});
  auto batch = [&](const std::vector<double>& bids) {
    std::vector<double> asks;
    for (double b : bids) asks.push_back(b + 2);
    return arrow::RecordBatch::Make(schema, static_cast<int64_t>(bids.size()),
                                    {Ints(std::vector<int64_t>(bids.size(), 1)), Doubles(bids), Doubles(asks)});
  };
  Options options;
  options.mad_window = 4;
  options.mid_jump_mads = 3;
  // Four changes of 1 fill the window: MAD 1, threshold 3. Later, 5 is a jump, 2 is not.
  auto checker = MakeChecker("mbp10", *schema, {}, options);
  checker->Consume(*batch({10, 11, 12, 11, 12, 17, 19}), "w", 0);
  checker->Finish();
  EXPECT_EQ(checker->report().files["w"].checks["mid_jump"].rows, std::vector<int64_t>{5});
  // Released after two changes of 1 (the writer evicted the partition): the threshold is set
  // from them, and applies to what comes after.
  auto released = MakeChecker("mbp10", *schema, {}, Options{});
  released->Consume(*batch({10, 11, 12}), "r", 0);
  released->Release();
  released->Consume(*batch({40, 41}), "r", 3);
  released->Finish();
  EXPECT_EQ(released->report().files["r"].checks["mid_jump"].rows, std::vector<int64_t>{3});
}

TEST(Report, JsonRoundTripAndCommitMerge) {
  Report report;
  report.type = "klines";
  report.Add("missing_interval", "a", 3, 2, 5);
  report.Add("missing_interval", "a", 9, 1, 5);
  report.files["b"].rows = 7;
  ASSERT_OK_AND_ASSIGN(auto text, AddToCommitQuality("", "klines", report, 5));
  ASSERT_OK_AND_ASSIGN(auto twice, AddToCommitQuality(text, "klines", report, 5));
  ASSERT_OK_AND_ASSIGN(auto parsed, CommitQualityFromJson(twice, "test"));
  auto& a = parsed.at("klines").files.at("a").checks.at("missing_interval");
  EXPECT_EQ(a.count, 6);
  EXPECT_EQ(a.rows, (std::vector<int64_t>{3, 9, 3, 9}));
  EXPECT_EQ(parsed.at("klines").files.at("b").rows, 14);
  EXPECT_FALSE(CommitQualityFromJson("[1]", "x").ok());
}

}  // namespace
}  // namespace tickforge::quality
