// Transactions: the writer lock serializes writers, an uncommitted transaction leaves nothing,
// a commit refuses a listing of missing files, moves staged files into place and retires the
// ones it drops, and recovery finishes a commit whose writer died after its log entry.
#include "tickforge/store/transaction_internal.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "tickforge/store/test_util_internal.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::store {
namespace {

TEST_F(StoreTest, KilledWriterLeavesPreviousSnapshot) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  ASSERT_OK(WriteKlines(*store, {Klines("BTCUSDT", k20240101, 50)}).status());
  // A writer that died after staging files but before its log entry: recovery drops them.
  fs::create_directories(root_ / "_tickforge/staging/2/klines/exchange=binance");
  { std::ofstream(root_ / "_tickforge/staging/2/klines/exchange=binance/part-x.parquet") << "partial"; }
  ASSERT_OK(WriteKlines(*store, {Klines("ETHUSDT", k20240101, 10)}).status());
  EXPECT_FALSE(fs::exists(root_ / "_tickforge/staging/2/klines/exchange=binance/part-x.parquet"));
  EXPECT_EQ(CountRows(*store, "klines"), 60);
}

class StoreTransactionTest : public StoreTest {
 protected:
  /// A dataset entry listing `files` (each added by the commit of its version).
  static DatasetEntry Dataset(std::vector<FileEntry> files) {
    DatasetEntry dataset;
    dataset.name = "d";
    dataset.type = "generic";
    dataset.time_column = "timestamp";
    dataset.schema = arrow::schema({arrow::field("timestamp", arrow::int64())});
    dataset.files = std::move(files);
    return dataset;
  }
  static FileEntry File(const std::string& name, int64_t version) {
    FileEntry file;
    file.path = "d/" + name;
    file.rows = 1;
    file.version = version;
    return file;
  }
  static void Stage(const StorePaths& paths, const FileEntry& file, const std::string& text) {
    fs::create_directories(paths.Staged(file).parent_path());
    std::ofstream(paths.Staged(file)) << text;
  }
  static std::string Read(const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

TEST_F(StoreTransactionTest, UncommittedLeavesNothing) {
  const StorePaths paths(root_);
  {
    ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(paths, "write"));
    EXPECT_EQ(txn->base().version, 0);
    EXPECT_EQ(txn->version(), 1);
    EXPECT_EQ(txn->staging(), paths.Staging(1));
    EXPECT_EQ(txn->NextFileNumber(), 0);
    EXPECT_EQ(txn->NextFileNumber(), 1);
    Stage(paths, File("a.parquet", 1), "a");
    EXPECT_TRUE(fs::exists(paths.Staging(1)));
  }
  EXPECT_FALSE(fs::exists(paths.Staging(1)));
  ASSERT_OK_AND_ASSIGN(int64_t latest, LatestVersion(paths));
  EXPECT_EQ(latest, 0);
}

TEST_F(StoreTransactionTest, CommitRefusesFilesThatAreNotStaged) {
  const StorePaths paths(root_);
  ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(paths, "write"));
  txn->next().datasets["d"] = Dataset({File("a.parquet", 1)});
  const Status status = txn->Commit();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("staged file for d/a.parquet is missing or named twice; nothing was committed"),
            std::string::npos)
      << status.message();
  ASSERT_OK_AND_ASSIGN(int64_t latest, LatestVersion(paths));
  EXPECT_EQ(latest, 0);
}

TEST_F(StoreTransactionTest, CommitMovesFilesInAndRetiresWhatItDrops) {
  const StorePaths paths(root_);
  {
    ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(paths, "write"));
    const FileEntry a = File("a.parquet", 1);
    Stage(paths, a, "a");
    txn->next().datasets["d"] = Dataset({a});
    ASSERT_OK(txn->Commit());
  }
  EXPECT_EQ(Read(root_ / "d/a.parquet"), "a");
  EXPECT_FALSE(fs::exists(paths.Staging(1)));
  EXPECT_TRUE(fs::exists(root_ / "metadata.json"));
  EXPECT_TRUE(fs::exists(root_ / "_config.json"));
  {
    ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(paths, "compact"));
    EXPECT_EQ(txn->base().version, 1);
    const FileEntry b = File("b.parquet", 2);
    Stage(paths, b, "b");
    txn->next().datasets["d"] = Dataset({b});
    ASSERT_OK(txn->Commit());
  }
  EXPECT_EQ(Read(root_ / "d/b.parquet"), "b");
  EXPECT_FALSE(fs::exists(root_ / "d/a.parquet"));
  EXPECT_EQ(Read(paths.retired / "d/a.parquet"), "a");  // version 1 still reads it
  ASSERT_OK_AND_ASSIGN(auto first, ReadSnapshot(paths, 1));
  EXPECT_EQ(ResolveFile(paths, first.datasets.at("d").files.at(0)), paths.retired / "d/a.parquet");
  ASSERT_OK_AND_ASSIGN(auto second, ReadSnapshot(paths));
  EXPECT_EQ(second.version, 2);
  EXPECT_EQ(second.operation, "compact");
}

TEST_F(StoreTransactionTest, RecoveryFinishesACommitWhoseWriterDied) {
  // A writer that wrote its log entry (the commit point) but died before moving its files.
  const StorePaths paths(root_);
  ASSERT_OK(EnsureDirectory(paths.log));
  const FileEntry a = File("a.parquet", 1);
  Stage(paths, a, "a");
  Snapshot snapshot;
  snapshot.version = 1;
  snapshot.operation = "write";
  snapshot.committed_at = UtcNow();
  snapshot.datasets["d"] = Dataset({a});
  ASSERT_OK(WriteSnapshot(paths, snapshot));
  EXPECT_FALSE(fs::exists(root_ / "d/a.parquet"));
  // A staging folder of a later commit that never happened is dropped.
  Stage(paths, File("z.parquet", 2), "z");
  ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(paths, "write"));
  EXPECT_EQ(Read(root_ / "d/a.parquet"), "a");
  EXPECT_FALSE(fs::exists(paths.Staging(1)));
  EXPECT_FALSE(fs::exists(paths.Staged(File("z.parquet", 2))));
  EXPECT_EQ(txn->base().version, 1);
  EXPECT_EQ(txn->version(), 2);
}

TEST_F(StoreTransactionTest, TheWriterLockSerializesWriters) {
  const StorePaths paths(root_);
  auto first = Transaction::Begin(paths, "write");
  ASSERT_OK(first.status());
  std::atomic<bool> second_began{false};
  int64_t second_version = 0;
  std::thread second([&] {
    auto txn = Transaction::Begin(paths, "write");
    second_began = true;
    if (txn.ok()) second_version = (*txn)->version();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(second_began.load()) << "a second writer began while the first held the lock";
  first->reset();  // released uncommitted: the second starts from the same version
  second.join();
  EXPECT_TRUE(second_began.load());
  EXPECT_EQ(second_version, 1);
}

TEST_F(StoreTransactionTest, DetailsBelongToTheirCommitOnly) {
  const StorePaths paths(root_);
  {
    ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(paths, "label"));
    txn->next().details["lineage"] = R"({"source":"mbp10","version":3})";
    ASSERT_OK(txn->Commit());
  }
  {
    ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(paths, "write"));
    EXPECT_EQ(txn->base().details.at("lineage"), R"({"source":"mbp10","version":3})");
    EXPECT_TRUE(txn->next().details.empty());
    txn->next().details["bad"] = "{not json";
    const Status status = txn->Commit();
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.message().find("detail 'bad' is not JSON"), std::string::npos) << status.message();
  }
  ASSERT_OK_AND_ASSIGN(auto first, ReadSnapshot(paths, 1));
  EXPECT_EQ(first.details.size(), 1u);
  ASSERT_OK_AND_ASSIGN(int64_t latest, LatestVersion(paths));
  EXPECT_EQ(latest, 1);
}

}  // namespace
}  // namespace tickforge::store
