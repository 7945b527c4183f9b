#include "tickforge/label/fit_internal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "tickforge/label/movement.h"
#include "tickforge/label/test_common.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"

namespace tickforge::label::internal {
namespace {

using testing::ScopedTempDir;

// docs/labeling.md "Fit set": the k fit files with the smallest key_file(f), ties to smaller f.
std::vector<bool> SampleBySpec(int files, int n_fit, double fraction, uint64_t seed) {
  const int k = std::max(1, static_cast<int>(std::floor(n_fit * fraction)));
  std::vector<std::pair<uint64_t, int>> keys;
  for (int f = 0; f < n_fit; ++f) {
    keys.emplace_back(SplitMix64BySpec(SplitMix64BySpec(seed) ^ static_cast<uint64_t>(f)), f);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<bool> sampled(static_cast<size_t>(files), false);
  for (int i = 0; i < k; ++i) sampled[static_cast<size_t>(keys[static_cast<size_t>(i)].second)] = true;
  return sampled;
}

uint64_t CandidateKeyBySpec(uint64_t seed, int sym, int64_t t) {
  return SplitMix64BySpec(SplitMix64BySpec(SplitMix64BySpec(seed + 1) ^ static_cast<uint64_t>(sym)) ^
                          static_cast<uint64_t>(t));
}

TEST(FitFilesTest, TheFitFilesAreTheFlooredShareAndAtLeastOne) {
  EXPECT_EQ(FitFileCount(1, 0.5), 1);
  EXPECT_EQ(FitFileCount(2, 0.5), 1);
  EXPECT_EQ(FitFileCount(5, 0.5), 2);
  EXPECT_EQ(FitFileCount(10, 0.3), 3);
  EXPECT_EQ(FitFileCount(7, 0.01), 1);
  EXPECT_EQ(FitFileCount(4, 1.0), 4);
}

TEST(FitFilesTest, TheSampleIsTheFitFilesWithTheSmallestSeededKeys) {
  // The reference splitmix64 is the generator everyone knows: its first output from 0.
  ASSERT_EQ(SplitMix64BySpec(0), 0xE220A8397B1DCDAFULL);
  std::set<std::vector<bool>> samples_of_twenty;
  for (uint64_t seed : {0ULL, 1ULL, 7ULL, 12345ULL, ~0ULL}) {
    for (int n_fit : {1, 2, 5, 20}) {
      for (double fraction : {0.01, 0.3, 0.5, 1.0}) {
        SCOPED_TRACE(::testing::Message() << "seed " << seed << " n_fit " << n_fit << " fraction " << fraction);
        const int files = n_fit + 3;
        const auto sampled = SampleFitFiles(files, n_fit, fraction, seed);
        EXPECT_EQ(sampled, SampleBySpec(files, n_fit, fraction, seed));
        EXPECT_EQ(std::count(sampled.begin(), sampled.end(), true),
                  std::max(1, static_cast<int>(std::floor(n_fit * fraction))));
        // Files past the fit cut are never sampled.
        EXPECT_EQ(std::count(sampled.begin() + n_fit, sampled.end(), true), 0);
        if (n_fit == 20 && fraction == 0.3) samples_of_twenty.insert(sampled);
      }
    }
  }
  // The seed decides which files: five seeds, five different draws of 6 out of 20.
  EXPECT_EQ(samples_of_twenty.size(), 5u);
}

TEST(FitCandidatesTest, TheKeyIsTheSpecsThreefoldHash) {
  for (uint64_t seed : {0ULL, 3ULL, ~0ULL}) {
    for (int sym : {0, 1, 63}) {
      for (int64_t t : {int64_t{0}, int64_t{5000}, int64_t{123456789}}) {
        EXPECT_EQ(CandidateKey(seed, sym, t), CandidateKeyBySpec(seed, sym, t));
      }
    }
  }
  EXPECT_NE(CandidateKey(0, 0, 1), CandidateKey(0, 1, 0));
}

TEST(FitCandidatesTest, EachFileKeepsItsCapSmallestByKeyThenSymbolThenRow) {
  std::mt19937_64 rng(11);
  std::map<int, std::vector<Candidate>> by_file;
  // Few distinct keys, so that ties fall to the symbol, then to the row.
  double tag = 0;
  for (int file : {0, 2, 5}) {
    const int n = file == 5 ? 3 : 40;  // file 5 holds fewer than the cap
    for (int i = 0; i < n; ++i) {
      by_file[file].push_back(Candidate{rng() % 6, static_cast<int>(rng() % 3), static_cast<int64_t>(rng() % 50), tag++});
    }
  }
  constexpr int64_t kCap = 7;
  auto expected_by_file = by_file;
  const auto pooled = CapPerFile(by_file, kCap);

  size_t offset = 0;
  for (auto& [file, candidates] : expected_by_file) {
    std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      return std::tie(a.key, a.sym, a.t) < std::tie(b.key, b.sym, b.t);
    });
    const size_t kept = std::min(candidates.size(), static_cast<size_t>(kCap));
    ASSERT_LE(offset + kept, pooled.size());
    // Equal (key, sym, t) may tie at the cut: compare the kept triples, then the movements
    // where the triple is unique.
    std::vector<std::tuple<uint64_t, int, int64_t>> want, got;
    std::map<double, const Candidate*> by_tag;
    for (const auto& c : candidates) by_tag[c.movement] = &c;
    for (size_t i = 0; i < kept; ++i) want.emplace_back(candidates[i].key, candidates[i].sym, candidates[i].t);
    for (size_t i = 0; i < kept; ++i) {
      const Candidate* c = by_tag.at(pooled[offset + i]);
      got.emplace_back(c->key, c->sym, c->t);
    }
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want) << "file " << file;
    offset += kept;
  }
  EXPECT_EQ(offset, pooled.size());
}

class FitOnFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(paths_, WriteDays(dir_.path() / "raw", 6, 3, 3000));
    ASSERT_OK_AND_ASSIGN(files_, ListInputs(paths_));
  }

  Result<std::unique_ptr<Workspace>> SplitAll(const LabelConfig& config) {
    return Split(files_, config, dir_.path() / "scratch", BuildOptions{});
  }

  // The fit candidates of one symbol from the direct series: (t, movement, file of row t) for
  // t = L, L+jump, ... <= m-1-O-F over the first m rows of its fit series.
  Result<std::vector<std::tuple<int64_t, double, int32_t>>> CandidatesBySpec(const std::string& symbol,
                                                                              const LabelConfig& config,
                                                                              int max_files, int64_t m) {
    ARROW_ASSIGN_OR_RAISE(auto series, SeriesBySpec(paths_, symbol, config, max_files));
    m = std::min<int64_t>(m, static_cast<int64_t>(series.size()));
    std::vector<std::tuple<int64_t, double, int32_t>> out;
    const int64_t L = config.lookback_rows, O = config.lookforward_offset, F = config.lookforward_input;
    for (int64_t t = L; t <= m - 1 - O - F; t += config.jump_size) {
      out.emplace_back(t, MovementBySpec(series, t, L, O, F), series[static_cast<size_t>(t)].file);
    }
    return out;
  }

  ScopedTempDir dir_{"tickforge_label_fit"};
  std::vector<std::string> paths_;
  std::vector<InputFile> files_;
};

TEST_F(FitOnFilesTest, TheMovementPassMatchesTheSpecOnTheCutSeries) {
  const LabelConfig config = SmallConfig();
  ASSERT_OK_AND_ASSIGN(auto ws, SplitAll(config));
  for (const auto& [name, info] : ws->symbols) {
    SCOPED_TRACE(name);
    // The global fit's cut (the first 4 files, windows across their day boundaries), and the
    // per-symbol fit's (the first half of all rows), and a cut shorter than one window.
    for (auto [max_file, limit] : {std::pair<int, int64_t>{4, info.ValidIn(4)}, {6, info.valid / 2}, {6, 90}}) {
      std::vector<std::tuple<int64_t, double, int32_t>> got;
      ASSERT_OK(ForEachFitMovement(info, max_file, limit, config,
                                   [&](int64_t t, double m, int32_t file) { got.emplace_back(t, m, file); }));
      ASSERT_OK_AND_ASSIGN(auto expected, CandidatesBySpec(name, config, max_file, limit));
      EXPECT_EQ(got, expected) << "max_file " << max_file << " limit " << limit;
      if (limit > 1000) {
        EXPECT_GT(got.size(), 100u);
      }
    }
  }
}

TEST_F(FitOnFilesTest, GlobalBoundariesAreTheQuantilesOfTheSampledCappedCandidates) {
  LabelConfig config = SmallConfig();
  config.fit_fraction = 0.7;          // n_fit = 4 of 6
  config.file_sample_fraction = 0.5;  // 2 of them sampled
  config.max_samples_per_file = 40;   // the cap bites: each file holds a few hundred
  config.max_abs_movement = 0.0004;   // and so does the movement filter
  config.seed = 9;
  ASSERT_OK_AND_ASSIGN(auto ws, SplitAll(config));
  ASSERT_OK_AND_ASSIGN(auto doc, FitOn(*ws, config));

  const auto sampled = SampleBySpec(6, 4, 0.5, 9);
  std::map<int32_t, std::vector<std::tuple<uint64_t, int, int64_t, double>>> by_file;
  int sym = 0;
  int64_t dropped = 0;
  for (const auto& [name, info] : ws->symbols) {
    ASSERT_OK_AND_ASSIGN(auto candidates, CandidatesBySpec(name, config, 4, std::numeric_limits<int64_t>::max()));
    for (const auto& [t, m, file] : candidates) {
      if (!sampled[static_cast<size_t>(file)]) continue;
      if (!(std::abs(m) < config.max_abs_movement)) {
        ++dropped;
        continue;
      }
      by_file[file].emplace_back(CandidateKeyBySpec(9, sym, t), sym, t, m);
    }
    ++sym;
  }
  EXPECT_GT(dropped, 0);
  std::vector<double> pooled;
  for (auto& [file, candidates] : by_file) {
    EXPECT_GT(candidates.size(), 40u) << "file " << file;
    std::sort(candidates.begin(), candidates.end());
    for (size_t i = 0; i < std::min<size_t>(candidates.size(), 40); ++i) pooled.push_back(std::get<3>(candidates[i]));
  }
  EXPECT_EQ(doc["sample_size"].get<size_t>(), pooled.size());
  EXPECT_EQ(doc["boundaries"].get<std::vector<double>>(), Quantiles(pooled, config.nbins));
  EXPECT_EQ(doc["mode"], "global");
  EXPECT_EQ(doc["files_total"], 6);
  ASSERT_EQ(doc["fit_files"].size(), 4u);
  for (int f = 0; f < 4; ++f) {
    const auto& entry = doc["fit_files"][static_cast<size_t>(f)];
    EXPECT_EQ(entry["name"], files_[static_cast<size_t>(f)].name);
    EXPECT_EQ(entry["sampled"].get<bool>(), sampled[static_cast<size_t>(f)]);
    EXPECT_EQ(entry["rows"].get<int64_t>(), ws->file_valid[static_cast<size_t>(f)]);
  }
  EXPECT_EQ(doc["movement_stats"]["count"].get<size_t>(), pooled.size());
}

TEST_F(FitOnFilesTest, PerSymbolBoundariesComeFromTheFirstHalfOfEachSymbolsRows) {
  LabelConfig config = SmallConfig();
  config.mode = Mode::kPerSymbol;
  config.max_samples_per_file = 25;
  config.file_sample_fraction = 0.2;  // not used in this mode: every file counts
  ASSERT_OK_AND_ASSIGN(auto ws, SplitAll(config));
  ASSERT_OK_AND_ASSIGN(auto doc, FitOn(*ws, config));
  int sym = 0;
  for (const auto& [name, info] : ws->symbols) {
    SCOPED_TRACE(name);
    const int64_t half = info.valid / 2;
    ASSERT_OK_AND_ASSIGN(auto candidates, CandidatesBySpec(name, config, 6, half));
    std::map<int32_t, std::vector<std::tuple<uint64_t, int, int64_t, double>>> by_file;
    for (const auto& [t, m, file] : candidates) {
      if (std::abs(m) < config.max_abs_movement) by_file[file].emplace_back(CandidateKeyBySpec(0, sym, t), sym, t, m);
    }
    std::vector<double> pooled;
    for (auto& [file, list] : by_file) {
      std::sort(list.begin(), list.end());
      for (size_t i = 0; i < std::min<size_t>(list.size(), 25); ++i) pooled.push_back(std::get<3>(list[i]));
    }
    EXPECT_EQ(doc["fit_rows"][name].get<int64_t>(), half);
    EXPECT_EQ(doc["boundaries"][name].get<std::vector<double>>(), Quantiles(pooled, config.nbins));
    ++sym;
  }
  ASSERT_EQ(doc["fit_files"].size(), 6u);
  for (const auto& entry : doc["fit_files"]) EXPECT_TRUE(entry["sampled"].get<bool>());
}

TEST_F(FitOnFilesTest, NoCandidateAtAllIsAnError) {
  LabelConfig config = SmallConfig();
  config.lookback_rows = 100'000;  // longer than any symbol's series
  ASSERT_OK_AND_ASSIGN(auto ws, SplitAll(config));
  EXPECT_TRUE(FitOn(*ws, config).status().IsInvalid());
  config.mode = Mode::kPerSymbol;
  EXPECT_TRUE(FitOn(*ws, config).status().IsInvalid());
}

}  // namespace
}  // namespace tickforge::label::internal
