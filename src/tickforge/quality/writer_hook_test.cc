// The store writer runs the checks: a commit's log entry carries details["quality"] for the
// files it added (repeats the writer dropped included), none with quality off, and the
// summary over a snapshot counts only live files.
#include <arrow/api.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tickforge/quality/report.h"
#include "tickforge/quality/fail_on.h"
#include "tickforge/store/quality.h"
#include "tickforge/store/store.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/quality/test_common.h"

namespace tickforge::quality {
namespace {

namespace fs = std::filesystem;


std::shared_ptr<arrow::RecordBatch> Klines(const std::vector<int64_t>& minutes) {
  arrow::Int64Builder ts;
  arrow::DoubleBuilder price;
  arrow::StringBuilder symbol;
  for (int64_t m : minutes) {
    EXPECT_TRUE(ts.Append(k20240101 + m * kMinute).ok());
    EXPECT_TRUE(price.Append(100.0).ok());
    EXPECT_TRUE(symbol.Append("BTCUSDT").ok());
  }
  auto p = *price.Finish();
  auto schema = arrow::schema({arrow::field("timestamp", arrow::int64()), arrow::field("open", arrow::float64()),
                               arrow::field("high", arrow::float64()), arrow::field("low", arrow::float64()),
                               arrow::field("close", arrow::float64()), arrow::field("volume", arrow::float64()),
                               arrow::field("symbol", arrow::utf8())});
  return arrow::RecordBatch::Make(schema, static_cast<int64_t>(minutes.size()), {*ts.Finish(), p, p, p, p, p, *symbol.Finish()});
}

class WriterHook : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / ("quality_hook_" + std::to_string(::getpid()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  Result<store::CommitInfo> Write(std::shared_ptr<store::Store>& s, const std::vector<int64_t>& minutes,
                                  bool quality = true) {
    store::WriteOptions options;
    options.constants = {{"exchange", "binance"}, {"timeframe", "1m"}};
    options.quality = quality;
    ARROW_ASSIGN_OR_RAISE(auto reader, arrow::RecordBatchReader::Make({Klines(minutes)}));
    return s->Write("klines", "klines", *reader, options);
  }

  fs::path root_;
};

TEST_F(WriterHook, CommitRecordsItsFilesQuality) {
  ASSERT_OK_AND_ASSIGN(auto s, store::Store::Open(root_));
  // Minute 2 missing, minute 4 twice (the second copy dropped by dedup, next to row 2).
  ASSERT_OK_AND_ASSIGN(auto info, Write(s, {0, 1, 3, 4, 4, 5}));
  EXPECT_EQ(info.rows_duplicate, 1);
  ASSERT_OK_AND_ASSIGN(auto snapshot, s->ReadSnapshot(info.version));
  ASSERT_TRUE(snapshot.details.count("quality"));
  ASSERT_OK_AND_ASSIGN(auto datasets, CommitQualityFromJson(snapshot.details.at("quality"), "test"));
  const auto& report = datasets.at("klines");
  ASSERT_EQ(report.files.size(), 1u);
  const auto& [path, file] = *report.files.begin();
  EXPECT_EQ(path, info.added.at(0).path);
  EXPECT_EQ(file.rows, 5);
  EXPECT_EQ(file.checks.at("missing_interval").count, 1);
  EXPECT_EQ(file.checks.at("missing_interval").rows, std::vector<int64_t>{2});
  EXPECT_EQ(file.checks.at("duplicate_interval").rows, std::vector<int64_t>{3});

  // A later commit without checks records none, and its file counts as unchecked.
  ASSERT_OK_AND_ASSIGN(auto later, Write(s, {10, 11}, /*quality=*/false));
  ASSERT_OK_AND_ASSIGN(auto next, s->ReadSnapshot(later.version));
  EXPECT_FALSE(next.details.count("quality"));
  ASSERT_OK_AND_ASSIGN(auto summary, store::StoreQuality(s->paths(), {}));
  EXPECT_EQ(summary["datasets"]["klines"]["files"], 1);
  EXPECT_EQ(summary["datasets"]["klines"]["files_unchecked"], 1);
  EXPECT_EQ(summary["totals"]["missing_interval"], 1);
  EXPECT_EQ(summary["totals"]["duplicate_interval"], 1);
  // The first snapshot alone.
  store::QualityQuery first;
  first.version = info.version;
  ASSERT_OK_AND_ASSIGN(auto at_first, store::StoreQuality(s->paths(), first));
  EXPECT_EQ(at_first["datasets"]["klines"]["files_unchecked"], 0);
}

TEST(FailOn, GroupsAndUnknownNames) {
  ASSERT_OK_AND_ASSIGN(auto checks, ExpandFailOn({"crossed", "gaps"}));
  EXPECT_EQ(checks, (std::vector<std::string>{"crossed", "id_gap", "missing_interval", "sequence_gap"}));
  auto unknown = ExpandFailOn({"crosed"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown check 'crosed'"), std::string::npos);
  nlohmann::json quality = {{"totals", {{"crossed", 2}, {"locked", 0}}}};
  EXPECT_EQ(FailingChecks(quality, {"crossed", "locked", "id_gap"}),
            (std::vector<std::pair<std::string, int64_t>>{{"crossed", 2}}));
}

}  // namespace
}  // namespace tickforge::quality
