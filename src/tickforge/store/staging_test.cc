// Staged ingest: attempts written by separate tasks and one commit equal a local ingest of the
// same files; leftovers of killed attempts are ignored; a failed commit commits nothing; other
// writers' recovery leaves a job's folder alone; stale jobs go with a vacuum.
#include "tickforge/store/staging.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tickforge/store/test_util_internal.h"
#include "tickforge/synth/binance.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::store {
namespace {

class StagingTest : public StoreTest {
 protected:
  /// Daily 1m klines of two symbols over `days` days: one file per symbol and day.
  std::vector<std::string> Dumps(int days) {
    synth::BinanceOptions options;
    options.out_dir = root_ / "dumps";
    options.days = days;
    auto files = synth::WriteBinanceDumps(options);
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    std::vector<std::string> paths;
    for (const auto& file : *files) paths.push_back(file.path);
    return paths;
  }

  /// Every row of `dataset`, sorted by (symbol, timestamp), all columns: the snapshot's contents.
  static std::shared_ptr<arrow::Table> Rows(Store& store, const std::string& dataset) {
    auto reader = store.Scan(dataset);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    auto table = *(*reader)->ToTable();
    arrow::compute::SortOptions order({arrow::compute::SortKey("symbol"), arrow::compute::SortKey("timestamp")});
    auto indices = arrow::compute::SortIndices(arrow::Datum(table), order);
    EXPECT_TRUE(indices.ok()) << indices.status().ToString();
    auto sorted = arrow::compute::Take(table, *indices);
    EXPECT_TRUE(sorted.ok()) << sorted.status().ToString();
    return *(*sorted).table()->CombineChunks();
  }

  /// Stage each input as its own task of `job`, as many processes would; return the manifests.
  std::vector<std::string> StageEach(const std::vector<std::string>& inputs, const std::string& job) {
    std::vector<std::string> manifests;
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto manifest = StageIngest(root_ / "store", job, std::to_string(i), {inputs[i]});
      EXPECT_TRUE(manifest.ok()) << manifest.status().ToString();
      manifests.push_back(*manifest);
    }
    return manifests;
  }
};

TEST_F(StagingTest, OneCommitOfStagedTasksEqualsALocalIngest) {
  auto inputs = Dumps(3);
  ASSERT_EQ(inputs.size(), 6u);
  // The same file twice (another folder): the second copy's rows are all duplicates.
  fs::create_directories(root_ / "copy");
  fs::copy_file(inputs[2], root_ / "copy" / fs::path(inputs[2]).filename());
  inputs.push_back((root_ / "copy" / fs::path(inputs[2]).filename()).string());
  ASSERT_OK_AND_ASSIGN(auto local, Store::Open(root_ / "local"));
  ASSERT_OK_AND_ASSIGN(auto staged, Store::Open(root_ / "store"));
  // Both stores already hold the first file: its partitions take the writer's path.
  ASSERT_OK(local->Ingest({inputs[0]}).status());
  ASSERT_OK(staged->Ingest({inputs[0]}).status());

  ASSERT_OK_AND_ASSIGN(CommitInfo expected, local->Ingest(inputs));
  const auto manifests = StageEach(inputs, "j1");
  ASSERT_OK_AND_ASSIGN(CommitInfo got, CommitStaged(staged->paths(), staged->options(), "j1", manifests));
  EXPECT_EQ(got.version, 2);
  EXPECT_EQ(got.rows_in, expected.rows_in);
  EXPECT_EQ(got.rows_written, expected.rows_written);
  EXPECT_EQ(got.rows_duplicate, expected.rows_duplicate);
  EXPECT_GT(got.rows_duplicate, 0);
  auto want = Rows(*local, "klines");
  auto have = Rows(*staged, "klines");
  EXPECT_TRUE(have->Equals(*want)) << have->ToString().substr(0, 2000) << "\nvs\n" << want->ToString().substr(0, 2000);
  ASSERT_OK_AND_ASSIGN(auto snapshot, staged->ReadSnapshot());
  EXPECT_EQ(snapshot.datasets.at("klines").rows(), want->num_rows());
  // Once the job's folder is gone, a second commit of the same manifests fails.
  ASSERT_OK(DiscardStagedJob(staged->paths(), "j1"));
  EXPECT_FALSE(fs::exists(JobStagingDir(staged->paths(), "j1")));
  EXPECT_FALSE(CommitStaged(staged->paths(), staged->options(), "j1", manifests).ok());
  // Staging the same files again adds nothing and makes no version.
  ASSERT_OK_AND_ASSIGN(CommitInfo again, CommitStaged(staged->paths(), staged->options(), "j2", StageEach(inputs, "j2")));
  EXPECT_EQ(again.version, 2);
  EXPECT_EQ(again.rows_written, 0);
}

TEST_F(StagingTest, OnlyTheNamedAttemptsAreCommitted) {
  const auto inputs = Dumps(1);
  ASSERT_OK_AND_ASSIGN(auto local, Store::Open(root_ / "local"));
  ASSERT_OK_AND_ASSIGN(auto staged, Store::Open(root_ / "store"));
  ASSERT_OK(local->Ingest(inputs).status());
  // A killed attempt of task 0: its files and manifest are complete, but nobody was told.
  ASSERT_OK(StageIngest(root_ / "store", "j", "0", {inputs[0]}).status());
  // And a half-written one: a truncated Parquet file, no manifest.
  const fs::path half = JobStagingDir(staged->paths(), "j") / "1-dead" / "klines" / "part-x.parquet";
  fs::create_directories(half.parent_path());
  std::ofstream(half) << "PAR1";
  // A commit by another writer meanwhile (its recovery) leaves the job's folder alone.
  ASSERT_OK(WriteKlines(*staged, {Klines("ZZZUSDT", k20240101, 3)}).status());
  ASSERT_OK(WriteKlines(*local, {Klines("ZZZUSDT", k20240101, 3)}).status());
  ASSERT_TRUE(fs::exists(half));
  const auto manifests = StageEach(inputs, "j");
  ASSERT_OK_AND_ASSIGN(CommitInfo got, CommitStaged(staged->paths(), staged->options(), "j", manifests));
  EXPECT_EQ(got.version, 2);
  EXPECT_TRUE(Rows(*staged, "klines")->Equals(*Rows(*local, "klines")));
}

TEST_F(StagingTest, AFailedCommitCommitsNothingAndKeepsTheStagedFiles) {
  const auto inputs = Dumps(1);
  ASSERT_OK_AND_ASSIGN(auto staged, Store::Open(root_ / "store"));
  ASSERT_OK(WriteKlines(*staged, {Klines("ZZZUSDT", k20240101, 3)}).status());
  auto manifests = StageEach(inputs, "j");
  ASSERT_OK_AND_ASSIGN(auto task, ParseStagedTask(staged->paths(), "j", manifests[1]));
  const auto& file = task.snapshot.datasets.at("klines").files.at(0);
  const fs::path lost = task.dir / file.path;
  ASSERT_TRUE(fs::exists(lost));
  fs::rename(lost, root_ / "aside.parquet");
  auto failed = CommitStaged(staged->paths(), staged->options(), "j", manifests);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find(lost.string()), std::string::npos) << failed.status().message();
  ASSERT_OK_AND_ASSIGN(auto snapshot, staged->ReadSnapshot());
  EXPECT_EQ(snapshot.version, 1);
  // Put back, the same manifests commit.
  fs::rename(root_ / "aside.parquet", lost);
  ASSERT_OK_AND_ASSIGN(CommitInfo got, CommitStaged(staged->paths(), staged->options(), "j", manifests));
  EXPECT_EQ(got.version, 2);
  EXPECT_EQ(got.rows_written, task.rows_in + ParseStagedTask(staged->paths(), "j", manifests[0])->rows_in);
}

TEST_F(StagingTest, ManifestsMustNameAnAttemptOfTheJob) {
  const auto inputs = Dumps(1);
  ASSERT_OK_AND_ASSIGN(auto staged, Store::Open(root_ / "store"));
  const auto manifests = StageEach({inputs[0]}, "j");
  auto other_job = CommitStaged(staged->paths(), staged->options(), "k", manifests);
  ASSERT_FALSE(other_job.ok());
  EXPECT_NE(other_job.status().message().find("job 'j' given to job 'k'"), std::string::npos);
  std::string moved = manifests[0];
  moved.replace(moved.find("_tickforge/staging/job-j/"), 25, "_tickforge/staging/job-j/../../../");
  EXPECT_FALSE(CommitStaged(staged->paths(), staged->options(), "j", {moved}).ok());
  // A listed file must lie inside the attempt's folder.
  std::string climbing = manifests[0];
  const std::string key = "\"path\":\"klines/";
  const auto at = climbing.find(key);
  ASSERT_NE(at, std::string::npos) << climbing;
  climbing.replace(at, key.size(), "\"path\":\"../../klines/");
  auto outside = CommitStaged(staged->paths(), staged->options(), "j", {climbing});
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.status().message().find("is not inside its attempt folder"), std::string::npos)
      << outside.status().message();
  EXPECT_FALSE(StageIngest(root_ / "store", "../x", "0", {inputs[0]}).ok());
  EXPECT_FALSE(StageIngest(root_ / "nostore", "j", "0", {inputs[0]}).ok());
  // An unreadable input fails its task with the file named.
  const fs::path bad = root_ / "BTCUSDT-1m-2024-01-09.csv";
  std::ofstream(bad) << "not,a,kline\n";
  auto failed = StageIngest(root_ / "store", "j", "9", {bad.string()});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find(bad.string()), std::string::npos) << failed.status().message();
}

TEST_F(StagingTest, AVacuumRemovesJobsIdlePastItsWindow) {
  const auto inputs = Dumps(1);
  ASSERT_OK_AND_ASSIGN(auto staged, Store::Open(root_ / "store"));
  ASSERT_OK(StageIngest(root_ / "store", "old", "0", {inputs[0]}).status());
  ASSERT_OK(StageIngest(root_ / "store", "live", "0", {inputs[0]}).status());
  const auto old_time = fs::file_time_type::clock::now() - std::chrono::hours(48);
  const fs::path old_dir = JobStagingDir(staged->paths(), "old");
  for (const auto& attempt : fs::directory_iterator(old_dir)) fs::last_write_time(attempt.path(), old_time);
  fs::last_write_time(old_dir, old_time);
  ASSERT_OK_AND_ASSIGN(int64_t removed, RemoveStaleJobs(staged->paths(), 24 * 3600.0));
  EXPECT_EQ(removed, 1);
  EXPECT_FALSE(fs::exists(old_dir));
  EXPECT_TRUE(fs::exists(JobStagingDir(staged->paths(), "live")));
  ASSERT_OK(DiscardStagedJob(staged->paths(), "live"));
  EXPECT_FALSE(fs::exists(JobStagingDir(staged->paths(), "live")));
}

}  // namespace
}  // namespace tickforge::store
