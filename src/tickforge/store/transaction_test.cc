// Transactions: the writer lock serializes writers, an uncommitted transaction leaves nothing,
// a commit refuses a listing of missing files, moves staged files into place and retires the
// ones it drops, and recovery finishes a commit whose writer died after its log entry. A cold
// commit on a partial base (only the partitions it touches) commits what a commit on the whole
// snapshot commits, and an old store without totals commits on the whole one and upgrades.
#include "tickforge/store/transaction_internal.h"

#include <arrow/api.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "tickforge/store/checkpoint_internal.h"
#include "tickforge/store/listing_internal.h"
#include "tickforge/store/test_util_internal.h"
#include "tickforge/store/writer_internal.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/util/parquet.h"

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

// Cold commits (BaseListing::kTouched): a commit that reads of the newest checkpoint only the
// partitions it touches, plus the entries after it, commits exactly what a commit on the whole
// snapshot commits: the same files in the same order, the same log entry and the same summary.
class ColdCommitTest : public StoreTest {
 protected:
  static constexpr int kCommits = 22;

  /// Commit `k` of the history: symbol S<k % 4>, day k / 4 (commits 20 and 21 add to the
  /// partitions of commits 2 and 19, so a partition lies both in the checkpoint and after it).
  static std::shared_ptr<arrow::RecordBatch> HistoryBatch(int k) {
    const int at = k == 20 ? 2 : k == 21 ? 19 : k;
    return Klines(fmt::format("S{}", at % 4), k20240101 + (at / 4) * kDay + (k >= 20 ? 600'000 : 0), 30);
  }

  /// A store of 22 commits with a checkpoint every 8: the newest checkpoint is version 16 and
  /// versions 17 to 22 are entries after it.
  void MakeHistory(const fs::path& root) {
    StoreOptions options;
    options.checkpoint_interval = 8;
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root, true, options));
    for (int k = 0; k < kCommits; ++k) ASSERT_OK(WriteKlines(*store, {HistoryBatch(k)}).status());
    ASSERT_OK_AND_ASSIGN(auto checkpoints, ListCheckpoints(StorePaths(root)));
    ASSERT_EQ(checkpoints, (std::vector<int64_t>{8, 16}));
  }

  struct Outcome {
    CommitInfo info;
    bool partial = false;
    /// How many files the base listed when the commit began writing.
    size_t base_files = 0;
  };

  /// Commit `batches` into klines on a transaction whose base is `listing`; with `replace`,
  /// the files of that partition are dropped first and the rows written without dedup.
  static Result<Outcome> Commit(const fs::path& root, BaseListing listing,
                                std::vector<std::shared_ptr<arrow::RecordBatch>> batches,
                                const std::optional<FileEntry>& replace = std::nullopt) {
    const StorePaths paths(root);
    StoreOptions options;
    options.checkpoint_interval = 8;
    ARROW_ASSIGN_OR_RAISE(auto txn, Transaction::Begin(paths, "write", options, nullptr, listing));
    Outcome out;
    out.partial = txn->partial();
    DatasetEntry& dataset = txn->next().datasets.at("klines");
    WriteOptions write;
    write.constants = {{"exchange", "binance"}, {"timeframe", "1m"}};
    if (replace) {
      const std::string dir = replace->path.substr(0, replace->path.rfind('/'));
      ARROW_ASSIGN_OR_RAISE(auto old, txn->CommittedFiles("klines", replace->partition, dir));
      if (old.empty()) return Status::Invalid("no files to replace in ", dir);
      std::set<std::string> gone;
      for (const auto& file : old) gone.insert(file.path);
      dataset.files.EraseIf([&](const FileEntry& file) { return gone.count(file.path) > 0; });
      write.dedup = false;
    }
    ARROW_ASSIGN_OR_RAISE(std::shared_ptr<arrow::RecordBatchReader> reader, arrow::RecordBatchReader::Make(batches));
    std::vector<LazySource> readers{
        {"rows", [reader]() -> Result<std::shared_ptr<arrow::RecordBatchReader>> { return reader; }}};
    ARROW_RETURN_NOT_OK(WriteReaders(paths, *txn, dataset, write, readers, 1, &out.info));
    out.base_files = txn->base().datasets.at("klines").files.size();
    ARROW_RETURN_NOT_OK(txn->Commit());
    return out;
  }

  /// The full snapshot reader's listing of a version, one line per file with every field.
  static std::vector<std::string> Listing(const fs::path& root, int64_t version) {
    auto snapshot = ReadSnapshot(StorePaths(root), version);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    std::vector<std::string> lines;
    for (const auto& [name, dataset] : snapshot->datasets) {
      for (const auto& f : dataset.files) {
        std::string line = name + ":" + f.path + " rows=" + std::to_string(f.rows) + " bytes=" +
                           std::to_string(f.bytes) + " t=" + std::to_string(f.min_time) + ".." +
                           std::to_string(f.max_time) + " v=" + std::to_string(f.version);
        for (const auto& [k, v] : f.partition) line += " " + k + "=" + v;
        lines.push_back(std::move(line));
      }
    }
    return lines;
  }

  /// metadata.json without its commit time (two commits of the same change differ only there).
  static nlohmann::json Metadata(const fs::path& root) {
    std::ifstream in(root / "metadata.json");
    nlohmann::json json = nlohmann::json::parse(in);
    json.erase("committed_at");
    return json;
  }

  /// The oracle of the summary: the full listing summed here, file by file.
  static void ExpectSummaryOfListing(const fs::path& root) {
    ASSERT_OK_AND_ASSIGN(auto snapshot, ReadSnapshot(StorePaths(root)));
    const nlohmann::json meta = Metadata(root);
    EXPECT_EQ(meta.at("version"), snapshot.version);
    for (const auto& [name, dataset] : snapshot.datasets) {
      int64_t rows = 0, bytes = 0, lo = INT64_MAX, hi = INT64_MIN;
      std::set<std::string> symbols;
      for (const auto& file : dataset.files) {
        rows += file.rows, bytes += file.bytes;
        lo = std::min(lo, file.min_time), hi = std::max(hi, file.max_time);
        for (const auto& [k, v] : file.partition) {
          if (k == "symbol") symbols.insert(v);
        }
      }
      const auto& d = meta.at("datasets").at(name);
      EXPECT_EQ(d.at("files").get<size_t>(), dataset.files.size()) << name;
      EXPECT_EQ(d.at("rows").get<int64_t>(), rows) << name;
      EXPECT_EQ(d.at("bytes").get<int64_t>(), bytes) << name;
      EXPECT_EQ(d.at("min_time").get<int64_t>(), lo) << name;
      EXPECT_EQ(d.at("max_time").get<int64_t>(), hi) << name;
      EXPECT_EQ(d.at("symbols").get<std::set<std::string>>(), symbols) << name;
    }
  }

  /// The newest log entry's change, as JSON, without its commit time.
  static nlohmann::json NewestEntry(const fs::path& root) {
    const StorePaths paths(root);
    auto latest = LatestVersion(paths);
    EXPECT_TRUE(latest.ok());
    std::ifstream in(paths.LogEntry(*latest));
    nlohmann::json json = nlohmann::json::parse(in);
    json.erase("committed_at");
    return json;
  }

  /// Make `root` and two copies of it after the history: one for each kind of base.
  void MakeCopies() {
    cold_ = root_.string() + "_cold";
    whole_ = root_.string() + "_whole";
    fs::remove_all(cold_);
    fs::remove_all(whole_);
    MakeHistory(root_);
    fs::copy(root_, cold_, fs::copy_options::recursive);
    fs::copy(root_, whole_, fs::copy_options::recursive);
  }

  void TearDown() override {
    StoreTest::TearDown();
    if (!cold_.empty()) fs::remove_all(cold_);
    if (!whole_.empty()) fs::remove_all(whole_);
  }

  /// Expect the two copies to hold the same history, entry and summary after their commits.
  void ExpectSameCommit() {
    for (int64_t v = 1; v <= kCommits + 1; ++v) EXPECT_EQ(Listing(cold_, v), Listing(whole_, v)) << "version " << v;
    EXPECT_EQ(NewestEntry(cold_), NewestEntry(whole_));
    EXPECT_EQ(Metadata(cold_), Metadata(whole_));
    ExpectSummaryOfListing(cold_);
  }

  /// A file of the whole listing of symbol `symbol`, day `day` after 2024-01-01 (the
  /// partition to replace).
  FileEntry FileOf(const std::string& symbol, int day) {
    auto snapshot = ReadSnapshot(StorePaths(root_));
    EXPECT_TRUE(snapshot.ok());
    const std::string needle =
        "symbol=" + symbol + "/timeframe=1m/year=2024/month=1/day=" + std::to_string(day + 1) + "/";
    for (const auto& file : snapshot->datasets.at("klines").files) {
      if (file.path.find(needle) != std::string::npos) return file;
    }
    ADD_FAILURE() << "no file " << needle;
    return {};
  }

  fs::path cold_, whole_;
};

TEST_F(ColdCommitTest, DedupInCheckpointAndLaterPartitionsEqualsTheWholeSnapshotCommit) {
  MakeCopies();
  // Rows overlapping a partition only in the checkpoint (S1, day 2: commit 9), one only in later
  // entries (S2, day 4: commit 18), one in both (S2, day 0: commits 2 and 20), and a new one.
  const std::vector<std::shared_ptr<arrow::RecordBatch>> batches = {
      Klines("S1", k20240101 + 2 * kDay + 300'000, 20), Klines("S2", k20240101 + 4 * kDay + 600'000, 20),
      Klines("S2", k20240101 + 0 * kDay, 40), Klines("NEW", k20240101 + 9 * kDay, 5)};
  ASSERT_OK_AND_ASSIGN(auto cold, Commit(cold_, BaseListing::kTouched, batches));
  ASSERT_OK_AND_ASSIGN(auto whole, Commit(whole_, BaseListing::kWhole, batches));
  EXPECT_TRUE(cold.partial);
  EXPECT_FALSE(whole.partial);
  // The cold base listed the files of the four partitions it wrote, not the whole dataset.
  EXPECT_EQ(cold.base_files, 4u);
  EXPECT_EQ(whole.base_files, static_cast<size_t>(kCommits));
  EXPECT_EQ(cold.info.rows_duplicate, whole.info.rows_duplicate);
  EXPECT_EQ(cold.info.rows_duplicate, 20 + 20 + 40);  // the overlaps with each partition's rows
  EXPECT_EQ(cold.info.rows_written, whole.info.rows_written);
  ExpectSameCommit();
  EXPECT_FALSE(fs::exists(StorePaths(cold_).Checkpoint(kCommits + 1)));
}

TEST_F(ColdCommitTest, ACommitOfManyPartitionsEqualsTheWholeSnapshotCommit) {
  MakeCopies();
  // Every partition of the history and a few new ones: past kPartitionReads partitions the
  // dataset's listing is read once and the partitions cut from it.
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  for (int k = 0; k < 20; ++k) {
    batches.push_back(Klines(fmt::format("S{}", k % 4), k20240101 + (k / 4) * kDay + 900'000, 20));
  }
  for (int day = 10; day < 14; ++day) batches.push_back(Klines("S9", k20240101 + day * kDay, 3));
  ASSERT_OK_AND_ASSIGN(auto cold, Commit(cold_, BaseListing::kTouched, batches));
  ASSERT_OK_AND_ASSIGN(auto whole, Commit(whole_, BaseListing::kWhole, batches));
  EXPECT_TRUE(cold.partial);
  EXPECT_EQ(cold.info.rows_duplicate, whole.info.rows_duplicate);
  EXPECT_EQ(cold.info.rows_duplicate, 20 * 15 + 5 + 5);  // minutes 15..29, and 30..34 of commits 20 and 21
  ExpectSameCommit();
}

TEST_F(ColdCommitTest, ReplacingAPartitionOnlyInTheCheckpointEqualsTheWholeSnapshotCommit) {
  MakeCopies();
  const FileEntry old = FileOf("S1", 2);  // commit 9: in checkpoint 16 only
  ASSERT_LE(old.version, 16);
  const std::vector<std::shared_ptr<arrow::RecordBatch>> batches = {Klines("S1", k20240101 + 2 * kDay + 60'000, 7)};
  ASSERT_OK_AND_ASSIGN(auto cold, Commit(cold_, BaseListing::kTouched, batches, old));
  ASSERT_OK_AND_ASSIGN(auto whole, Commit(whole_, BaseListing::kWhole, batches, old));
  EXPECT_TRUE(cold.partial);
  EXPECT_EQ(cold.base_files, 1u);
  ExpectSameCommit();
  EXPECT_EQ(NewestEntry(cold_).at("removed").at("klines"), nlohmann::json::array({old.path}));
}

TEST_F(ColdCommitTest, ReplacingAPartitionOnlyInLaterEntriesEqualsTheWholeSnapshotCommit) {
  MakeCopies();
  const FileEntry old = FileOf("S2", 4);  // commit 18
  ASSERT_GT(old.version, 16);
  const std::vector<std::shared_ptr<arrow::RecordBatch>> batches = {Klines("S2", k20240101 + 4 * kDay, 3)};
  ASSERT_OK_AND_ASSIGN(auto cold, Commit(cold_, BaseListing::kTouched, batches, old));
  ASSERT_OK_AND_ASSIGN(auto whole, Commit(whole_, BaseListing::kWhole, batches, old));
  EXPECT_TRUE(cold.partial);
  ExpectSameCommit();
}

TEST_F(ColdCommitTest, ReplacingThePartitionThatHoldsTheFirstTimeReadsTheWholeListingForTheRange) {
  MakeCopies();
  // S0 day 0 (commit 1) holds the dataset's first time; its replacement starts later, so the
  // new first time is another partition's, which only the whole listing knows.
  const FileEntry old = FileOf("S0", 0);
  const std::vector<std::shared_ptr<arrow::RecordBatch>> batches = {Klines("S0", k20240101 + 3'600'000, 3)};
  ASSERT_OK_AND_ASSIGN(auto cold, Commit(cold_, BaseListing::kTouched, batches, old));
  ASSERT_OK_AND_ASSIGN(auto whole, Commit(whole_, BaseListing::kWhole, batches, old));
  EXPECT_TRUE(cold.partial);
  ExpectSameCommit();
}

TEST_F(ColdCommitTest, TheCommitThatWritesACheckpointReadsTheWholeListing) {
  MakeCopies();
  // Versions 23 and 24: the second is due a checkpoint (16 + 8).
  for (const auto& root : {cold_, whole_}) {
    const BaseListing listing = root == cold_ ? BaseListing::kTouched : BaseListing::kWhole;
    ASSERT_OK(Commit(root, listing, {Klines("S3", k20240101 + 7 * kDay, 4)}).status());
    ASSERT_OK(Commit(root, listing, {Klines("S3", k20240101 + 8 * kDay, 4)}).status());
  }
  ASSERT_OK_AND_ASSIGN(auto checkpoint, ReadCheckpoint(StorePaths(cold_).Checkpoint(kCommits + 2).string()));
  ASSERT_OK_AND_ASSIGN(auto whole, ReadSnapshot(StorePaths(whole_)));
  EXPECT_EQ(checkpoint.datasets.at("klines").files.size(), whole.datasets.at("klines").files.size());
  for (int64_t v = 1; v <= kCommits + 2; ++v) EXPECT_EQ(Listing(cold_, v), Listing(whole_, v)) << "version " << v;
  EXPECT_EQ(Metadata(cold_), Metadata(whole_));
  ExpectSummaryOfListing(cold_);
}

/// Make `root` look written by tickforge before totals: entries and checkpoints without them.
void StripTotals(const fs::path& root) {
  const StorePaths paths(root);
  for (const auto& entry : fs::directory_iterator(paths.log)) {
    nlohmann::json json;
    {
      std::ifstream in(entry.path());
      json = nlohmann::json::parse(in);
    }
    json.erase("totals");
    std::ofstream(entry.path()) << json.dump(1);
  }
  auto versions = ListCheckpoints(paths);
  ASSERT_TRUE(versions.ok());
  for (int64_t v : *versions) {
    const std::string path = paths.Checkpoint(v).string();
    ASSERT_OK_AND_ASSIGN(auto reader, ReadParquetBatches(path));
    ASSERT_OK_AND_ASSIGN(auto table, reader->ToTable());
    const auto kv = table->schema()->metadata();
    ASSERT_TRUE(kv);
    ASSERT_OK_AND_ASSIGN(std::string text, kv->Get(kCheckpointKey));
    nlohmann::json header = nlohmann::json::parse(text);
    ASSERT_TRUE(header.contains("totals"));
    header.erase("totals");
    auto schema = table->schema()->WithMetadata(arrow::key_value_metadata({kCheckpointKey}, {header.dump()}));
    ParquetWriteOptions options;
    options.row_group_rows = kCheckpointRowGroupRows;
    ASSERT_OK_AND_ASSIGN(auto file, ParquetFile::Create(path, schema, options));
    table = table->ReplaceSchemaMetadata(schema->metadata());
    ASSERT_OK(file->WriteTable(*table));
    ASSERT_OK(file->Close().status());
  }
}

TEST_F(ColdCommitTest, AnOldStoreWithoutTotalsCommitsOnTheWholeSnapshotAndUpgrades) {
  MakeCopies();
  StripTotals(cold_);
  StripTotals(whole_);
  {
    HeadMiss why = HeadMiss::kNone;
    ASSERT_OK_AND_ASSIGN(auto head, ReadStoreHead(StorePaths(cold_), kCommits, &why));
    EXPECT_FALSE(head.has_value());
    EXPECT_EQ(why, HeadMiss::kNoTotals);
  }
  // 25 rows known, 15 new.
  const std::vector<std::shared_ptr<arrow::RecordBatch>> batches = {Klines("S1", k20240101 + 2 * kDay + 300'000, 40)};
  // The cold commit of an old store: through the Store, as `tickforge store ingest` makes it.
  StoreOptions options;
  options.checkpoint_interval = 8;
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(cold_, false, options));
  ASSERT_OK_AND_ASSIGN(auto info, WriteKlines(*store, batches));
  ASSERT_OK_AND_ASSIGN(auto whole, Commit(whole_, BaseListing::kWhole, batches));
  EXPECT_EQ(info.rows_duplicate, whole.info.rows_duplicate);
  EXPECT_EQ(info.rows_duplicate, 25);
  ASSERT_EQ(info.version, kCommits + 1);
  for (int64_t v = 1; v <= kCommits + 1; ++v) EXPECT_EQ(Listing(cold_, v), Listing(whole_, v)) << "version " << v;
  EXPECT_EQ(Metadata(cold_), Metadata(whole_));
  ExpectSummaryOfListing(cold_);
  // The upgrade: a checkpoint with totals at the commit, so the next cold commit is partial.
  EXPECT_TRUE(fs::exists(StorePaths(cold_).Checkpoint(kCommits + 1)));
  ASSERT_OK_AND_ASSIGN(auto next, Commit(cold_, BaseListing::kTouched, {Klines("S0", k20240101 + 5 * kDay, 2)}));
  EXPECT_TRUE(next.partial);
  ExpectSummaryOfListing(cold_);
}

}  // namespace
}  // namespace tickforge::store
