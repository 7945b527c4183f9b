// Totals kept by the log: over random histories of adds and removals, the totals a change gives
// (and the record its entry keeps, through JSON) equal the whole listing summed file by file;
// a removal of a file at an end of the time range is refused unless an added file reaches it.
#include "tickforge/store/totals_internal.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "tickforge/store/log_internal.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/util/random.h"

namespace tickforge::store {
namespace {

/// The oracle: one dataset's listing summed here.
DatasetTotals Oracle(const FileList& files) {
  DatasetTotals t;
  for (const auto& file : files) {
    ++t.files;
    t.rows += file.rows;
    t.bytes += file.bytes;
    t.min_time = std::min(t.min_time, file.min_time);
    t.max_time = std::max(t.max_time, file.max_time);
    for (const auto& [key, value] : file.partition) {
      if (key == "symbol") ++t.symbols[value];
    }
  }
  return t;
}

int64_t Between(Rng& rng, int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(rng.Below(hi - lo + 1)); }

FileEntry RandomFile(Rng& rng, int64_t version, int64_t n) {
  FileEntry file;
  const std::string symbol = fmt::format("S{}", Between(rng, 0, 5));
  file.path = "d/symbol=" + symbol + "/part-" + std::to_string(version) + "-" + std::to_string(n) + ".parquet";
  file.rows = Between(rng, 1, 1000);
  file.bytes = Between(rng, 100, 100'000);
  file.min_time = Between(rng, 0, 10'000);
  file.max_time = file.min_time + Between(rng, 0, 500);
  file.partition = {{"symbol", symbol}};
  file.version = version;
  return file;
}

TEST(TotalsTest, ChangesKeepTheTotalsOfTheWholeListing) {
  Rng rng(12);
  Snapshot snapshot;
  snapshot.datasets["d"].name = "d";
  snapshot.datasets["d"].schema = arrow::schema({arrow::field("t", arrow::int64())});
  Totals totals;
  int refused = 0, applied = 0;
  for (int64_t version = 1; version <= 300; ++version) {
    Snapshot next = snapshot;
    next.version = version;
    FileList& files = next.datasets.at("d").files;
    std::vector<FileEntry> added;
    for (int64_t i = Between(rng, 0, 4); i > 0; --i) added.push_back(RandomFile(rng, version, i));
    std::sort(added.begin(), added.end(), ByPath);
    const std::vector<FileEntry> listed = files.ToVector();
    std::set<std::string> gone;
    for (const auto& file : listed) {
      if (Between(rng, 0, 9) == 0) gone.insert(file.path);
    }
    files.EraseIf([&](const FileEntry& file) { return gone.count(file.path) > 0; });
    files.MergeSorted(added);
    LogEntry change = DiffSnapshots(snapshot, next);
    ASSERT_OK_AND_ASSIGN(auto after, ApplyChangeToTotals(totals, snapshot, &change));
    const DatasetTotals expected = Oracle(files);
    bool lost_end = false;
    const DatasetTotals& was = totals["d"];
    for (const auto& file : listed) {
      if (!gone.count(file.path)) continue;
      lost_end = lost_end || (file.min_time == was.min_time && std::none_of(added.begin(), added.end(), [&](auto& f) {
                                return f.min_time <= was.min_time;
                              }));
      lost_end = lost_end || (file.max_time == was.max_time && std::none_of(added.begin(), added.end(), [&](auto& f) {
                                return f.max_time >= was.max_time;
                              }));
    }
    if (!after) {
      // Refused only where the range needs the whole listing.
      EXPECT_TRUE(lost_end) << "version " << version;
      ++refused;
      Totals whole = SumSnapshot(next);
      RecordTotals(totals, whole, &change);
      after = whole;
    } else {
      ++applied;
      EXPECT_EQ(after->at("d"), expected) << "version " << version;
    }
    EXPECT_EQ(SumSnapshot(next).at("d"), expected);
    // The entry's record, read back from its JSON, turns the old totals into the new ones.
    ASSERT_OK_AND_ASSIGN(std::string text, LogEntryToJson(change));
    ASSERT_OK_AND_ASSIGN(auto parsed, ParseLogEntry(text, "entry"));
    ASSERT_TRUE(parsed.change.totals.has_value());
    Totals replayed = totals;
    ApplyRecordedTotals(parsed.change, &replayed);
    EXPECT_EQ(replayed.at("d"), expected) << "version " << version;
    totals = *after;
    snapshot = std::move(next);
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(applied, 200);
}

TEST(TotalsTest, JsonRoundTripAndSummary) {
  Totals totals;
  totals["a"] = {3, 30, 300, -5, 9, {{"BTC", 2}, {"ETH", 1}}};
  totals["empty"] = {};
  EXPECT_EQ(TotalsFromJson(nlohmann::json::parse(TotalsToJson(totals).dump())), totals);
  Snapshot definitions;
  definitions.version = 4;
  for (const auto& name : {"a", "empty"}) {
    definitions.datasets[name].name = name;
    definitions.datasets[name].schema = arrow::schema({arrow::field("t", arrow::int64())});
  }
  const nlohmann::json summary = SummaryJsonOf(definitions, totals);
  EXPECT_EQ(summary.at("datasets").at("a").at("symbols"), nlohmann::json({"BTC", "ETH"}));
  EXPECT_EQ(summary.at("datasets").at("a").at("min_time"), -5);
  EXPECT_EQ(summary.at("datasets").at("a").at("files"), 3);
  EXPECT_FALSE(summary.at("datasets").at("empty").contains("min_time"));
}

}  // namespace
}  // namespace tickforge::store
