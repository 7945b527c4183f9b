#include "tickforge/label/label.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "tickforge/dataset/dataset.h"
#include "tickforge/label/test_common.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"

namespace tickforge::label {
namespace {

namespace fs = std::filesystem;
using internal::SmallConfig;
using internal::WriteDays;
using testing::ScopedTempDir;

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class LabelTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(WriteDays(dir_.path() / "raw", 4, 3, 2000).status()); }
  std::vector<std::string> Inputs() const { return {(dir_.path() / "raw").string()}; }

  ScopedTempDir dir_{"tickforge_label_api"};
};

TEST_F(LabelTest, RunIsFitThenBuild) {
  const LabelConfig config = SmallConfig();
  ASSERT_OK_AND_ASSIGN(auto run, label::Run(Inputs(), config, dir_.path() / "run"));
  ASSERT_OK_AND_ASSIGN(auto thresholds, label::Fit(Inputs(), config, dir_.path() / "fit" / "thresholds.json"));
  EXPECT_EQ(ReadBytes(dir_.path() / "fit" / "thresholds.json"), ReadBytes(dir_.path() / "run" / "thresholds.json"));
  ASSERT_OK_AND_ASSIGN(auto built, label::Build(Inputs(), thresholds, config, dir_.path() / "build"));
  EXPECT_EQ(run["thresholds"], "thresholds.json");
  EXPECT_FALSE(built.contains("thresholds"));
  EXPECT_EQ(run["symbols"], built["symbols"]);
  EXPECT_EQ(run["totals"], built["totals"]);
  EXPECT_EQ(run["files"], built["files"]);
  int datasets = 0;
  for (const auto& [name, entry] : run["symbols"].items()) {
    const std::string file = entry.at("output").get<std::string>();
    EXPECT_EQ(ReadBytes(dir_.path() / "run" / file), ReadBytes(dir_.path() / "build" / file)) << name;
    ++datasets;
  }
  EXPECT_EQ(datasets, 3);
  // The scratch parts go when the build ends.
  EXPECT_FALSE(fs::exists(dir_.path() / "run" / "_intermediate"));
  EXPECT_FALSE(fs::exists(dir_.path() / "build" / "_intermediate"));
  EXPECT_TRUE(fs::exists(dir_.path() / "build" / "build_report.json"));
}

TEST_F(LabelTest, TheReportAddsUpAndNamesWhatItSkipped) {
  LabelConfig config = SmallConfig();
  ASSERT_OK_AND_ASSIGN(auto probe, label::Run(Inputs(), config, dir_.path() / "probe"));
  // A threshold between the symbols' row counts skips the smaller ones.
  std::vector<int64_t> valid;
  for (const auto& [name, entry] : probe["symbols"].items()) valid.push_back(entry["valid"].get<int64_t>());
  std::sort(valid.begin(), valid.end());
  ASSERT_LT(valid.front(), valid.back());
  config.min_symbol_samples = valid.back();
  ASSERT_OK_AND_ASSIGN(auto report, label::Run(Inputs(), config, dir_.path() / "out"));

  int64_t rows_in = 0, total_valid = 0, labeled = 0, datasets = 0, skipped = 0;
  for (const auto& [name, entry] : report["symbols"].items()) {
    rows_in += entry["rows_in"].get<int64_t>();
    total_valid += entry["valid"].get<int64_t>();
    if (entry.contains("skipped")) {
      ++skipped;
      EXPECT_LT(entry["valid"].get<int64_t>(), config.min_symbol_samples);
      EXPECT_FALSE(fs::exists(dir_.path() / "out" / dataset::FileName(config.currency, name)));
      continue;
    }
    labeled += entry["labeled"].get<int64_t>();
    ++datasets;
    int64_t classes = 0;
    for (const auto& c : entry["classes_fit"]) classes += c.get<int64_t>();
    for (const auto& c : entry["classes_rest"]) classes += c.get<int64_t>();
    EXPECT_EQ(classes, entry["labeled"].get<int64_t>());
  }
  EXPECT_GE(skipped, 1);
  EXPECT_EQ(report["totals"]["rows_in"], rows_in);
  EXPECT_EQ(report["totals"]["valid"], total_valid);
  EXPECT_EQ(report["totals"]["labeled"], labeled);
  EXPECT_EQ(report["totals"]["datasets"], datasets);
  EXPECT_EQ(rows_in, 4 * 2000);
  // Two fit files of four, listed as such.
  ASSERT_EQ(report["files"].size(), 4u);
  for (size_t f = 0; f < 4; ++f) EXPECT_EQ(report["files"][f]["fit"].get<bool>(), f < 2) << f;

  const std::string summary = Summarize(report);
  EXPECT_NE(summary.find(std::to_string(rows_in) + " rows in"), std::string::npos) << summary;
  EXPECT_NE(summary.find("skipped: "), std::string::npos) << summary;
}

TEST_F(LabelTest, BuildTakesTheFittedWindowsAndRefusesAContradiction) {
  ASSERT_OK_AND_ASSIGN(auto thresholds, label::Fit(Inputs(), SmallConfig(), dir_.path() / "thresholds.json"));
  // Not set explicitly: the fitted value wins.
  LabelConfig implicit = SmallConfig();
  implicit.nbins = 9;
  ASSERT_OK_AND_ASSIGN(auto report, label::Build(Inputs(), thresholds, implicit, dir_.path() / "implicit"));
  EXPECT_EQ(report["nbins"], 5);
  EXPECT_EQ(report["config"]["nbins"], 5);

  // Set explicitly to the fitted value: fine; to another: an error naming the key.
  LabelConfig same = SmallConfig();
  ASSERT_OK(ApplyAssignment("nbins=5", &same));
  EXPECT_TRUE(label::Build(Inputs(), thresholds, same, dir_.path() / "same").ok());
  LabelConfig other = SmallConfig();
  ASSERT_OK(ApplyAssignment("lookback_rows=60", &other));
  const Status status = label::Build(Inputs(), thresholds, other, dir_.path() / "other").status();
  EXPECT_TRUE(status.IsInvalid());
  EXPECT_NE(status.message().find("lookback_rows"), std::string::npos) << status.ToString();
}

}  // namespace
}  // namespace tickforge::label
