#include "tickforge/label/split_internal.h"

#include <arrow/api.h>
#include <arrow/ipc/api.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "tickforge/label/test_common.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"
#include "tickforge/util/files.h"

namespace tickforge::label::internal {
namespace {

namespace fs = std::filesystem;
using testing::ScopedTempDir;

constexpr int64_t kUndef = std::numeric_limits<int64_t>::max();

// The rows of a scratch part, in its order.
Result<std::vector<DbnRow>> ReadPartRows(const Part& part) {
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenIpcFile(part.path.string(), {}));
  std::vector<DbnRow> rows;
  for (int b = 0; b < reader->num_record_batches(); ++b) {
    ARROW_ASSIGN_OR_RAISE(auto batch, reader->ReadRecordBatch(b));
    const auto& ts = Column<arrow::TimestampArray>(*batch, "ts_event");
    const auto& seq = Column<arrow::UInt32Array>(*batch, "sequence");
    const auto& bid = Column<arrow::Int64Array>(*batch, kBestBid);
    const auto& ask = Column<arrow::Int64Array>(*batch, kBestAsk);
    const auto& symbol = Column<arrow::StringArray>(*batch, "symbol");
    for (int64_t i = 0; i < batch->num_rows(); ++i) {
      rows.push_back(DbnRow{std::string(symbol.GetView(i)), ts.Value(i), seq.Value(i), bid.Value(i), ask.Value(i),
                            part.file, 0});
    }
  }
  return rows;
}

TEST(ListInputsTest, OrdersByTheDataStartThenByName) {
  ScopedTempDir dir("tickforge_label_list");
  ASSERT_OK_AND_ASSIGN(auto written, WriteDays(dir.path() / "raw", 3, 1, 50));
  // Names in the reverse order of the days, and a copy of the last day under a later name.
  fs::create_directories(dir.path() / "in");
  fs::copy_file(written[0], dir.path() / "in" / "c.dbn.zst");
  fs::copy_file(written[1], dir.path() / "in" / "b.dbn.zst");
  fs::copy_file(written[2], dir.path() / "in" / "a.dbn.zst");
  fs::copy_file(written[2], dir.path() / "in" / "a2.dbn.zst");
  // Neither is an input: a hidden file and another suffix.
  fs::copy_file(written[0], dir.path() / "in" / ".hidden.dbn.zst");
  std::ofstream(dir.path() / "in" / "notes.txt") << "not a DBN file";

  ASSERT_OK_AND_ASSIGN(auto files, ListInputs({(dir.path() / "in").string()}));
  std::vector<std::string> names;
  for (size_t i = 0; i < files.size(); ++i) {
    names.push_back(files[i].name);
    EXPECT_EQ(files[i].index, static_cast<int>(i));
    EXPECT_LT(files[i].start, files[i].end);
    if (i > 0) {
      EXPECT_LE(files[i - 1].start, files[i].start);
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"c.dbn.zst", "b.dbn.zst", "a.dbn.zst", "a2.dbn.zst"}));

  // A file named directly joins the folder's; a missing path or no DBN file at all is an error.
  ASSERT_OK_AND_ASSIGN(auto mixed, ListInputs({written[2], written[0]}));
  ASSERT_EQ(mixed.size(), 2u);
  EXPECT_EQ(mixed[0].path, written[0]);
  EXPECT_TRUE(ListInputs({(dir.path() / "missing").string()}).status().IsIOError());
  fs::create_directories(dir.path() / "empty");
  EXPECT_TRUE(ListInputs({(dir.path() / "empty").string()}).status().IsInvalid());
}

TEST(IsValidRowTest, NeedsBothSidesDefinedPositiveAndInsideThePriceBounds) {
  LabelConfig config;
  EXPECT_TRUE(IsValidRow(650'000'000, 650'100'000, config));
  EXPECT_FALSE(IsValidRow(kUndef, 650'100'000, config));
  EXPECT_FALSE(IsValidRow(650'000'000, kUndef, config));
  EXPECT_FALSE(IsValidRow(0, 650'100'000, config));
  EXPECT_FALSE(IsValidRow(650'000'000, -1, config));
  // The bounds hold the mid: 2·round(p·1e9) <= bid + ask <= 2·round(p·1e9), both inclusive.
  config.min_price = 0.65;
  config.max_price = 0.66;
  EXPECT_TRUE(IsValidRow(650'000'000, 650'000'000, config));
  EXPECT_FALSE(IsValidRow(649'999'999, 650'000'000, config));
  EXPECT_TRUE(IsValidRow(659'999'999, 660'000'001, config));
  EXPECT_FALSE(IsValidRow(660'000'000, 660'000'001, config));
}

class SplitTest : public ::testing::Test {
 protected:
  ScopedTempDir dir_{"tickforge_label_split"};
};

TEST_F(SplitTest, OneFileGivesEachSymbolOnePartOfItsValidRowsInSeriesOrder) {
  ASSERT_OK_AND_ASSIGN(auto paths, WriteDays(dir_.path() / "raw", 1, 4, 6000));
  ASSERT_OK_AND_ASSIGN(auto files, ListInputs(paths));
  ASSERT_OK_AND_ASSIGN(auto all_rows, ReadRows(paths[0], 0));
  // Once without bounds, once with a floor that drops the AUD contracts (about 0.66) whole.
  for (std::optional<double> min_price : {std::optional<double>(), std::optional<double>(0.9)}) {
    SCOPED_TRACE(min_price ? "min_price 0.9" : "no bounds");
    LabelConfig config = SmallConfig();
    config.min_price = min_price;
    ASSERT_OK_AND_ASSIGN(auto ws, Split(files, config, dir_.path() / "scratch", BuildOptions{}));
    std::map<std::string, int64_t> rows_in;
    int64_t valid_total = 0;
    for (const auto& row : all_rows) {
      ++rows_in[row.symbol];
      valid_total += ValidBySpec(row, config) ? 1 : 0;
    }
    ASSERT_EQ(ws->symbols.size(), rows_in.size());
    EXPECT_EQ(ws->file_valid, std::vector<int64_t>{valid_total});
    EXPECT_TRUE(ws->bad_files.empty());
    ASSERT_NE(ws->schema, nullptr);
    EXPECT_NE(ws->schema->GetFieldByName("symbol"), nullptr);
    int symbols_with_rows = 0;
    for (const auto& [name, info] : ws->symbols) {
      SCOPED_TRACE(name);
      ASSERT_OK_AND_ASSIGN(auto expected, SeriesBySpec(paths, name, config));
      EXPECT_EQ(info.symbol, name);
      EXPECT_EQ(info.rows_in, rows_in[name]);
      EXPECT_EQ(info.valid, static_cast<int64_t>(expected.size()));
      if (expected.empty()) {
        EXPECT_TRUE(info.parts.empty());
        continue;
      }
      ++symbols_with_rows;
      ASSERT_EQ(info.parts.size(), 1u);
      const Part& part = info.parts[0];
      EXPECT_EQ(part.file, 0);
      EXPECT_EQ(part.rows, info.valid);
      EXPECT_EQ(part.first, (Key{expected.front().ts_event, expected.front().sequence}));
      EXPECT_EQ(part.last, (Key{expected.back().ts_event, expected.back().sequence}));
      EXPECT_EQ(info.first_ts, expected.front().ts_event);
      EXPECT_EQ(info.last_ts, expected.back().ts_event);
      ASSERT_OK_AND_ASSIGN(auto got, ReadPartRows(part));
      ASSERT_EQ(got.size(), expected.size());
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(std::tie(got[i].symbol, got[i].ts_event, got[i].sequence, got[i].bid, got[i].ask),
                  std::tie(expected[i].symbol, expected[i].ts_event, expected[i].sequence, expected[i].bid,
                           expected[i].ask))
            << "row " << i;
      }
    }
    EXPECT_EQ(symbols_with_rows, min_price ? 2 : 4);
  }
}

TEST_F(SplitTest, PartsAreNumberedByFileAndCountedPerFile) {
  ASSERT_OK_AND_ASSIGN(auto paths, WriteDays(dir_.path() / "raw", 3, 2, 2000));
  ASSERT_OK_AND_ASSIGN(auto files, ListInputs({(dir_.path() / "raw").string()}));
  const LabelConfig config = SmallConfig();
  ASSERT_OK_AND_ASSIGN(auto ws, Split(files, config, dir_.path() / "scratch", BuildOptions{}));
  ASSERT_EQ(ws->file_valid.size(), 3u);
  for (const auto& [name, info] : ws->symbols) {
    ASSERT_EQ(info.parts.size(), 3u) << name;
    int64_t before = 0;
    for (int f = 0; f < 3; ++f) {
      EXPECT_EQ(info.parts[static_cast<size_t>(f)].file, f);
      EXPECT_EQ(info.ValidIn(f), before);
      before += info.parts[static_cast<size_t>(f)].rows;
      // Days do not overlap: each part starts after the one before ends.
      if (f > 0) {
        EXPECT_LT(info.parts[static_cast<size_t>(f) - 1].last, info.parts[static_cast<size_t>(f)].first);
      }
    }
    EXPECT_EQ(info.ValidIn(3), info.valid);
  }
  for (int f = 0; f < 3; ++f) {
    int64_t valid = 0;
    for (const auto& [name, info] : ws->symbols) valid += info.parts[static_cast<size_t>(f)].rows;
    EXPECT_EQ(ws->file_valid[static_cast<size_t>(f)], valid);
  }
}

TEST_F(SplitTest, ABadFileFailsOrIsSkippedWithoutAPlaceInTheOrder) {
  ASSERT_OK_AND_ASSIGN(auto paths, WriteDays(dir_.path() / "raw", 2, 2, 1000));
  // No readable header: its start is unknown (0), so it comes first in the order.
  std::ofstream(dir_.path() / "raw" / "broken.dbn") << "not a DBN file at all";
  ASSERT_OK_AND_ASSIGN(auto files, ListInputs({(dir_.path() / "raw").string()}));
  ASSERT_EQ(files.size(), 3u);
  ASSERT_EQ(files[0].name, "broken.dbn");
  const LabelConfig config = SmallConfig();

  EXPECT_FALSE(Split(files, config, dir_.path() / "strict", BuildOptions{}).ok());

  ASSERT_OK_AND_ASSIGN(auto ws, Split(files, config, dir_.path() / "lenient", BuildOptions{.skip_bad_files = true}));
  ASSERT_EQ(ws->bad_files.size(), 1u);
  EXPECT_EQ(ws->bad_files[0].path, files[0].path);
  EXPECT_FALSE(ws->bad_files[0].error.empty());
  ASSERT_EQ(ws->files.size(), 2u);
  EXPECT_EQ(ws->files[0].path, paths[0]);
  EXPECT_EQ(ws->files[0].index, 0);
  EXPECT_EQ(ws->files[1].path, paths[1]);
  EXPECT_EQ(ws->files[1].index, 1);
  ASSERT_EQ(ws->file_valid.size(), 2u);
  for (const auto& [name, info] : ws->symbols) {
    ASSERT_EQ(info.parts.size(), 2u);
    EXPECT_EQ(info.parts[0].file, 0);
    EXPECT_EQ(info.parts[1].file, 1);
  }

  // Nothing readable at all is an error even when bad files are skipped.
  EXPECT_TRUE(Split({files[0]}, config, dir_.path() / "none", BuildOptions{.skip_bad_files = true})
                  .status()
                  .IsInvalid());
}

TEST_F(SplitTest, TheScratchFolderGoesWithTheWorkspaceUnlessKept) {
  ASSERT_OK_AND_ASSIGN(auto paths, WriteDays(dir_.path() / "raw", 1, 1, 500));
  ASSERT_OK_AND_ASSIGN(auto files, ListInputs(paths));
  for (bool keep : {false, true}) {
    LabelConfig config = SmallConfig();
    config.keep_intermediate = keep;
    const fs::path scratch = dir_.path() / (keep ? "kept" : "dropped");
    {
      ASSERT_OK_AND_ASSIGN(auto ws, Split(files, config, scratch, BuildOptions{}));
      ASSERT_EQ(ws->symbols.begin()->second.parts.size(), 1u);
      EXPECT_TRUE(fs::exists(ws->symbols.begin()->second.parts[0].path));
    }
    EXPECT_EQ(fs::exists(scratch), keep);
  }
}

}  // namespace
}  // namespace tickforge::label::internal
