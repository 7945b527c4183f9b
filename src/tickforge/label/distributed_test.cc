#include "tickforge/label/distributed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>

#include "tickforge/label/fit_internal.h"
#include "tickforge/label/test_common.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"

namespace tickforge::label {
namespace {

namespace fs = std::filesystem;
using internal::Candidate;
using internal::FileCandidates;
using internal::SmallConfig;
using internal::WriteDays;
using testing::ScopedTempDir;
using Json = nlohmann::ordered_json;

std::string FileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(DistributedCapTest, CappingEachSymbolFirstKeepsWhatCappingThePoolKeepsInTheSameOrder) {
  std::mt19937_64 rng(5);
  constexpr int64_t kCap = 9;
  std::vector<FileCandidates> per_symbol(4);
  FileCandidates pool;
  double tag = 0;
  for (int sym = 0; sym < 4; ++sym) {
    for (int file : {0, 1, 3}) {
      const int n = static_cast<int>(rng() % 25);
      for (int t = 0; t < n; ++t) {
        const Candidate c{rng(), sym, t * 7, tag++};
        per_symbol[static_cast<size_t>(sym)][file].push_back(c);
        pool[file].push_back(c);
      }
    }
  }
  FileCandidates precapped;
  for (auto& by_file : per_symbol) {
    for (auto& [file, list] : by_file) {
      internal::KeepSmallest(list, kCap);
      ASSERT_LE(static_cast<int64_t>(list.size()), kCap);
      precapped[file].insert(precapped[file].end(), list.begin(), list.end());
    }
  }
  // Independent oracle: each file's kCap smallest keys, listed in their pool order.
  std::vector<double> want;
  for (const auto& [file, list] : pool) {
    std::vector<uint64_t> keys;
    for (const auto& c : list) keys.push_back(c.key);
    std::sort(keys.begin(), keys.end());
    const uint64_t cut = keys.size() > static_cast<size_t>(kCap) ? keys[kCap - 1] : ~uint64_t{0};
    for (const auto& c : list) {
      if (c.key <= cut) want.push_back(c.movement);
    }
  }
  EXPECT_EQ(internal::CapPerFile(pool, kCap), want);
  EXPECT_EQ(internal::CapPerFile(precapped, kCap), want);
}

// The steps one after the other, the way tickforge.ray runs them as tasks.
class DistributedTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(WriteDays(dir_.path() / "raw", 5, 3, 1500).status()); }
  std::vector<std::string> Inputs() const { return {(dir_.path() / "raw").string()}; }

  // Split every input into its own folder (in reverse order, as tasks may finish) and merge.
  Json SplitAll(const Json& plan) {
    const size_t n = plan.at("files").size();
    std::vector<Json> results(n);
    for (size_t i = n; i-- > 0;) {
      auto result = distributed::SplitTask(plan, static_cast<int>(i), dir_.path() / "scratch" / std::to_string(i));
      EXPECT_TRUE(result.ok()) << result.status().ToString();
      results[i] = *result;
    }
    auto merged = distributed::MergeSplits(plan, results);
    EXPECT_TRUE(merged.ok()) << merged.status().ToString();
    return *merged;
  }

  Json FitSteps(const LabelConfig& config) {
    auto files = ListInputs(Inputs());
    EXPECT_TRUE(files.ok());
    auto plan = distributed::MakePlan(*files, config, /*fit_only=*/true, false);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    const Json merged = SplitAll(*plan);
    std::vector<std::string> blobs;
    for (const auto& [name, info] : merged.at("symbols").items()) {
      auto blob = distributed::FitCandidatesTask(merged.at("header"), name, info);
      EXPECT_TRUE(blob.ok()) << blob.status().ToString();
      blobs.insert(blobs.begin(), *blob);  // any order
    }
    auto doc = distributed::FitMerge(merged, blobs);
    EXPECT_TRUE(doc.ok()) << doc.status().ToString();
    return *doc;
  }

  ScopedTempDir dir_{"tickforge_label_distributed"};
};

TEST_F(DistributedTest, TheStepsFitWhatFitFitsInBothModes) {
  for (const Mode mode : {Mode::kGlobal, Mode::kPerSymbol}) {
    LabelConfig config = SmallConfig();
    config.mode = mode;
    config.max_samples_per_file = 7;  // the cap cuts: the pooled order matters to the statistics
    config.file_sample_fraction = 0.6;
    ASSERT_OK_AND_ASSIGN(auto local, label::Fit(Inputs(), config, dir_.path() / "local.json"));
    const Json steps = FitSteps(config);
    EXPECT_EQ(steps.dump(), local.dump()) << ModeName(mode);
    EXPECT_GT(steps.at("sample_size").get<int64_t>(), 0);
  }
}

TEST_F(DistributedTest, TheStepsBuildWhatBuildBuildsFileForFile) {
  const LabelConfig config = SmallConfig();
  ASSERT_OK_AND_ASSIGN(auto thresholds, label::Fit(Inputs(), config, dir_.path() / "thresholds.json"));
  ASSERT_OK_AND_ASSIGN(auto local, label::Build(Inputs(), thresholds, config, dir_.path() / "local"));

  ASSERT_OK_AND_ASSIGN(auto build_config, distributed::BuildConfig(thresholds, config));
  ASSERT_OK_AND_ASSIGN(auto files, ListInputs(Inputs()));
  ASSERT_OK_AND_ASSIGN(auto plan, distributed::MakePlan(files, build_config, false, false));
  const Json merged = SplitAll(plan);
  const fs::path out = dir_.path() / "steps";
  fs::create_directories(out);
  auto entries = Json::object();
  for (const auto& [name, info] : merged.at("symbols").items()) {
    ASSERT_OK_AND_ASSIGN(entries[name], distributed::BuildTask(merged.at("header"), name, info, thresholds, out));
  }
  ASSERT_OK_AND_ASSIGN(auto report, distributed::BuildReportOf(merged, thresholds, entries, 1.0));
  for (const char* key : {"mode", "nbins", "files", "bad_files", "fit_files", "symbols", "totals", "config"}) {
    EXPECT_EQ(report.at(key), local.at(key)) << key;
  }
  int datasets = 0;
  for (const auto& [name, entry] : local.at("symbols").items()) {
    if (!entry.contains("output")) continue;
    const auto file = entry.at("output").get<std::string>();
    EXPECT_EQ(FileBytes(out / file), FileBytes(dir_.path() / "local" / file)) << file;
    ++datasets;
  }
  EXPECT_EQ(datasets, 3);
}

TEST_F(DistributedTest, MissingOrRepeatedCandidatesAreErrors) {
  ASSERT_OK_AND_ASSIGN(auto files, ListInputs(Inputs()));
  ASSERT_OK_AND_ASSIGN(auto plan, distributed::MakePlan(files, SmallConfig(), true, false));
  const Json merged = SplitAll(plan);
  const auto first = merged.at("symbols").begin();
  const std::string name = first.key();
  const Json info = first.value();
  ASSERT_OK_AND_ASSIGN(auto blob, distributed::FitCandidatesTask(merged.at("header"), name, info));
  EXPECT_TRUE(distributed::FitMerge(merged, {blob}).status().IsInvalid());          // two symbols missing
  EXPECT_TRUE(distributed::FitMerge(merged, {blob, blob}).status().IsInvalid());    // one given twice
  EXPECT_TRUE(distributed::FitMerge(merged, {blob.substr(3)}).status().IsInvalid());  // cut short
  // A split result of another input, or too few results, is no merge.
  std::vector<Json> results(files.size(), Json{{"bad", {{"path", "x"}, {"error", "y"}}}});
  EXPECT_TRUE(distributed::MergeSplits(plan, results).status().IsInvalid());  // nothing readable
  results.pop_back();
  EXPECT_TRUE(distributed::MergeSplits(plan, results).status().IsInvalid());
}

}  // namespace
}  // namespace tickforge::label
