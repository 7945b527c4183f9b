// The delta log and its checkpoints: every version of a long history with adds, removals,
// a dataset created and one redefined mid-way reads back exactly as the whole-snapshot (format
// 1) writer would have recorded it; an old store is upgraded in place by one commit; a corrupt
// or missing checkpoint falls back to an older one; a writer that died between its log entry
// and its checkpoint leaves a correct store.
#include "tickforge/store/log_internal.h"

#include <arrow/api.h>
#include <arrow/ipc/writer.h>
#include <arrow/util/base64.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "tickforge/store/checkpoint_internal.h"
#include "tickforge/store/test_util_internal.h"
#include "tickforge/store/transaction_internal.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/util/random.h"

namespace tickforge::store {
namespace {

class StoreLogTest : public StoreTest {
 protected:
  static DatasetEntry Dataset(const std::string& name, std::shared_ptr<arrow::Schema> schema = nullptr) {
    DatasetEntry dataset;
    dataset.name = name;
    dataset.type = "generic";
    dataset.partition_keys = {"symbol", "day"};
    dataset.time_column = "timestamp";
    dataset.schema = schema ? schema : arrow::schema({arrow::field("timestamp", arrow::int64())});
    return dataset;
  }

  /// A file of `dataset` added by `version`, staged so the commit accepts it.
  static FileEntry Stage(const StorePaths& paths, const std::string& dataset, int64_t version, int64_t n) {
    FileEntry file;
    const std::string symbol = "S" + std::to_string(n % 7);
    file.path = dataset + "/symbol=" + symbol + "/day=" + std::to_string(n % 5) + "/part-" + dataset + std::to_string(version) +
                "-" + std::to_string(n) + ".parquet";
    file.rows = 10 + n;
    file.bytes = 100 + 3 * n;
    file.partition = {{"symbol", symbol}, {"day", std::to_string(n % 5)}};
    file.min_time = 1000 * n;
    file.max_time = 1000 * n + 999;
    file.version = version;
    fs::create_directories(paths.Staged(file).parent_path());
    std::ofstream(paths.Staged(file)) << file.path;
    return file;
  }

  /// The oracle: the snapshot as the format 1 writer records it.
  static std::string Whole(const Snapshot& snapshot) {
    auto text = SnapshotToJson(snapshot);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ValueOrDie();
  }

  /// Commit `commits` random changes; return the whole JSON of each version by version.
  std::map<int64_t, std::string> BuildHistory(const StorePaths& paths, int commits, const StoreOptions& options,
                                              uint64_t seed) {
    std::map<int64_t, std::string> oracle;
    Rng rng(seed);
    auto pick = [&](uint64_t lo, uint64_t hi) { return lo + rng.Below(hi - lo + 1); };
    for (int c = 0; c < commits; ++c) {
      auto txn = Transaction::Begin(paths, "write", options);
      EXPECT_TRUE(txn.ok()) << txn.status().ToString();
      Snapshot& next = (*txn)->next();
      const int64_t version = (*txn)->version();
      if (next.datasets.empty()) next.datasets["a"] = Dataset("a");
      // Dataset b is created a third of the way in and keeps its files in commit order (not
      // sorted by path); dataset a keeps them sorted, as the store's writer does.
      if (c == commits / 3) next.datasets["b"] = Dataset("b");
      if (c == 2 * commits / 3) {
        next.datasets["a"].schema = arrow::schema(
            {arrow::field("timestamp", arrow::int64()), arrow::field("price", arrow::float64())});
      }
      for (auto& [name, dataset] : next.datasets) {
        auto& files = dataset.files;
        // Remove (replace) some files now and then, like compaction.
        if (!files.empty() && pick(0, 3) == 0) {
          const size_t drop = pick(1, std::min<uint64_t>(files.size(), 4));
          for (size_t k = 0; k < drop; ++k) files.erase(files.begin() + pick(0, files.size() - 1));
        }
        const int add = static_cast<int>(pick(0, 3));
        for (int k = 0; k < add; ++k) files.push_back(Stage(paths, name, version, c * 10 + k));
        if (name == "a") {
          auto sorted = files.ToVector();
          std::sort(sorted.begin(), sorted.end(), [](const FileEntry& x, const FileEntry& y) { return x.path < y.path; });
          files = std::move(sorted);
        }
      }
      if (c % 11 == 0) next.details["quality"] = "{\"commit\":" + std::to_string(c) + "}";
      const Status committed = (*txn)->Commit();
      EXPECT_TRUE(committed.ok()) << committed.ToString();
      oracle[version] = Whole((*txn)->next());
    }
    return oracle;
  }

  /// A snapshot of one dataset `name` at `version`, written as that version's checkpoint.
  static Snapshot Checkpointed(const StorePaths& paths, int64_t version, const std::string& name,
                               std::vector<FileEntry> files = {}) {
    Snapshot snapshot;
    snapshot.version = version;
    snapshot.committed_at = "2026-01-01T00:00:00.000Z";
    snapshot.datasets[name] = Dataset(name);
    snapshot.datasets[name].files = std::move(files);
    EXPECT_TRUE(WriteCheckpoint(paths, snapshot).ok());
    return snapshot;
  }

  static std::string Read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

TEST_F(StoreLogTest, TimeTravelThroughCheckpointsAndDeltasIsExact) {
  const StorePaths paths(root_);
  const StoreOptions options{.checkpoint_interval = 7};
  const auto oracle = BuildHistory(paths, 260, options, 42);
  ASSERT_EQ(oracle.size(), 260u);
  ASSERT_OK_AND_ASSIGN(auto checkpoints, ListCheckpoints(paths));
  EXPECT_EQ(checkpoints.size(), 260u / 7);
  for (const auto& [version, whole] : oracle) {
    SnapshotSource source;
    ASSERT_OK_AND_ASSIGN(auto snapshot, ReadSnapshotFrom(paths, version, &source));
    ASSERT_EQ(Whole(snapshot), whole) << "version " << version;
    EXPECT_EQ(source.kind, version >= 7 ? SnapshotSource::Kind::kCheckpoint : SnapshotSource::Kind::kEmpty);
    EXPECT_LT(source.replayed, 7) << "version " << version;
  }
  // Entries hold changes, not snapshots: the last one lists at most its own few files.
  ASSERT_OK_AND_ASSIGN(auto last, ReadLogEntry(paths, 260));
  EXPECT_FALSE(last.whole.has_value());
  EXPECT_LE(last.change.added.size() + last.change.removed.size(), 4u);
  // manifest.json is a small pointer at the newest version.
  const auto manifest = nlohmann::json::parse(Read(paths.manifest));
  EXPECT_EQ(manifest.at("version"), 260);
  EXPECT_EQ(manifest.at("checkpoint"), "checkpoints/000000000259.parquet");
  EXPECT_FALSE(manifest.contains("datasets"));
}

TEST_F(StoreLogTest, DiffAndApplyRoundTripUnsortedAndRewrittenEntries) {
  Snapshot before;
  before.version = 3;
  before.datasets["d"] = Dataset("d");
  auto file = [](const std::string& path, int64_t rows) {
    FileEntry f;
    f.path = path;
    f.rows = rows;
    f.version = 3;
    return f;
  };
  before.datasets["d"].files = {file("d/c", 1), file("d/a", 2), file("d/b", 3)};
  before.datasets["gone"] = Dataset("gone");
  for (const auto& after_files : std::vector<std::vector<FileEntry>>{
           {file("d/c", 1), file("d/b", 3), file("d/z", 4), file("d/e", 5)},  // removal, appends
           {file("d/b", 3), file("d/c", 1)},                                  // reordered
           {file("d/a", 2), file("d/b", 3), file("d/c", 9)},                  // sorted, one rewritten
           {}}) {
    Snapshot after = before;
    after.version = 4;
    after.operation = "write";
    after.datasets.erase("gone");
    after.datasets["d"].files = after_files;
    const LogEntry entry = DiffSnapshots(before, after);
    ASSERT_OK_AND_ASSIGN(std::string text, LogEntryToJson(entry));
    ASSERT_OK_AND_ASSIGN(auto parsed, ParseLogEntry(text, "entry"));
    ASSERT_FALSE(parsed.whole.has_value());
    Snapshot replayed = before;
    ASSERT_OK(ApplyLogEntry(parsed.change, "entry", &replayed));
    EXPECT_EQ(Whole(replayed), Whole(after));
  }
}

TEST_F(StoreLogTest, BadEntriesAreErrorsNamingTheEntry) {
  Snapshot snapshot;
  snapshot.version = 1;
  snapshot.datasets["d"] = Dataset("d");
  LogEntry entry;
  entry.version = 2;
  entry.parent = 1;
  entry.removed["d"] = {"d/missing.parquet"};
  Status status = ApplyLogEntry(entry, "log/2.json", &snapshot);
  EXPECT_TRUE(status.IsInvalid());
  EXPECT_NE(status.message().find("log/2.json: removes 1 files of dataset 'd'"), std::string::npos) << status.message();
  entry.removed.clear();
  entry.added["nope"] = {FileEntry{}};
  EXPECT_NE(ApplyLogEntry(entry, "x", &snapshot).message().find("unknown dataset 'nope'"), std::string::npos);
  auto parsed = ParseLogEntry("{\"format\": \"tickforge.store\", \"format_version\": 2,\n \"version\": 2, \"parent\": ",
                              "log/2.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("log/2.json: malformed log entry"), std::string::npos);
  EXPECT_NE(parsed.status().message().find("line 2"), std::string::npos) << parsed.status().message();
  parsed = ParseLogEntry(R"({"format": "tickforge.store", "format_version": 3})", "e");
  EXPECT_NE(parsed.status().message().find("newer than this tickforge understands"), std::string::npos);
  parsed = ParseLogEntry(R"({"format": "tickforge.store", "format_version": 2, "version": 5, "parent": 3})", "e");
  EXPECT_NE(parsed.status().message().find("a commit follows the version before it"), std::string::npos);
}

TEST_F(StoreLogTest, AFormat1StoreIsUpgradedInPlaceByOneCommit) {
  const StorePaths paths(root_);
  std::map<int64_t, std::string> oracle;
  Snapshot snapshot;
  snapshot.datasets["a"] = Dataset("a");
  for (int64_t v = 1; v <= 5; ++v) {
    snapshot.version = v;
    snapshot.operation = "ingest";
    snapshot.committed_at = UtcNow();
    snapshot.details.clear();
    if (v == 3) snapshot.details["lineage"] = R"({"source":"x"})";
    FileEntry file = Stage(paths, "a", v, v);
    fs::create_directories((root_ / file.path).parent_path());
    fs::rename(paths.Staged(file), root_ / file.path);
    snapshot.datasets["a"].files.push_back(file);
    ASSERT_OK(WriteSnapshot(paths, snapshot));  // the format older tickforge wrote
    oracle[v] = Whole(snapshot);
  }
  fs::remove_all(paths.meta / "staging");
  std::map<int64_t, std::string> old_bytes;
  for (int64_t v = 1; v <= 5; ++v) old_bytes[v] = Read(paths.LogEntry(v));
  {
    ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(paths, "write"));
    EXPECT_EQ(Whole(txn->base()), oracle[5]);
    txn->next().datasets["a"].files.erase(txn->next().datasets["a"].files.begin());
    txn->next().datasets["a"].files.push_back(Stage(paths, "a", 6, 60));
    ASSERT_OK(txn->Commit());
    oracle[6] = Whole(txn->next());
  }
  // The old entries are untouched; the base got a checkpoint; the new entry is a change.
  for (int64_t v = 1; v <= 5; ++v) EXPECT_EQ(Read(paths.LogEntry(v)), old_bytes[v]) << v;
  EXPECT_TRUE(fs::exists(paths.Checkpoint(5)));
  ASSERT_OK_AND_ASSIGN(auto entry, ReadLogEntry(paths, 6));
  EXPECT_FALSE(entry.whole.has_value());
  for (const auto& [version, whole] : oracle) {
    ASSERT_OK_AND_ASSIGN(auto read, ReadSnapshot(paths, version));
    EXPECT_EQ(Whole(read), whole) << "version " << version;
  }
  SnapshotSource source;
  ASSERT_OK(ReadSnapshotFrom(paths, 6, &source).status());
  EXPECT_EQ(source.kind, SnapshotSource::Kind::kCheckpoint);  // not the old whole entry
  EXPECT_EQ(source.base_version, 5);
  EXPECT_TRUE(fs::exists(paths.retired / "a/symbol=S1/day=1/part-a1-1.parquet"));
}

TEST_F(StoreLogTest, ACorruptOrMissingCheckpointFallsBackToAnOlderOne) {
  const StorePaths paths(root_);
  const auto oracle = BuildHistory(paths, 30, StoreOptions{.checkpoint_interval = 10}, 7);
  ASSERT_OK_AND_ASSIGN(auto checkpoints, ListCheckpoints(paths));
  ASSERT_EQ(checkpoints, (std::vector<int64_t>{10, 20, 30}));
  auto expect = [&](SnapshotSource::Kind kind, int64_t base) {
    SnapshotSource source;
    ASSERT_OK_AND_ASSIGN(auto snapshot, ReadSnapshotFrom(paths, 30, &source));
    EXPECT_EQ(Whole(snapshot), oracle.at(30));
    EXPECT_EQ(source.kind, kind);
    EXPECT_EQ(source.base_version, base);
    EXPECT_EQ(source.replayed, 30 - base);
  };
  expect(SnapshotSource::Kind::kCheckpoint, 30);
  { std::ofstream(paths.Checkpoint(30), std::ios::trunc) << "PAR1 not a checkpoint"; }
  expect(SnapshotSource::Kind::kCheckpoint, 20);
  const std::string twenty = Read(paths.Checkpoint(20));
  { std::ofstream(paths.Checkpoint(20), std::ios::trunc | std::ios::binary) << twenty.substr(0, twenty.size() / 2); }
  EXPECT_FALSE(ReadCheckpoint(paths.Checkpoint(20).string()).ok());
  expect(SnapshotSource::Kind::kCheckpoint, 10);
  // A checkpoint of another version under this name is not taken for this one.
  fs::copy_file(paths.Checkpoint(10), paths.Checkpoint(30), fs::copy_options::overwrite_existing);
  expect(SnapshotSource::Kind::kCheckpoint, 10);
  fs::remove_all(paths.checkpoints);
  fs::remove(paths.last_checkpoint);
  expect(SnapshotSource::Kind::kEmpty, 0);
  for (const auto& [version, whole] : oracle) {
    ASSERT_OK_AND_ASSIGN(auto snapshot, ReadSnapshot(paths, version));
    EXPECT_EQ(Whole(snapshot), whole);
  }
}

TEST_F(StoreLogTest, AWriterKilledBetweenLogEntryAndCheckpointLeavesACorrectStore) {
  const StorePaths paths(root_);
  const StoreOptions options{.checkpoint_interval = 5};
  auto oracle = BuildHistory(paths, 4, options, 3);
  // Version 5's writer died right after its log entry: no moves, no checkpoint, a half-written
  // checkpoint under its temporary name.
  Snapshot five;
  {
    ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(paths, "write", options));
    five = txn->next();
  }
  five.operation = "write";
  five.committed_at = UtcNow();
  const FileEntry file = Stage(paths, "a", 5, 500);
  five.datasets["a"].files.push_back(file);
  ASSERT_OK_AND_ASSIGN(auto before, ReadSnapshot(paths, 4));
  ASSERT_OK(CommitLogEntry(paths, DiffSnapshots(before, five)));
  oracle[5] = Whole(five);
  fs::create_directories(paths.checkpoints);
  { std::ofstream(paths.checkpoints / ".000000000005.parquet.tmp") << "PAR1 half"; }
  ASSERT_OK_AND_ASSIGN(auto latest, ReadSnapshot(paths));
  EXPECT_EQ(Whole(latest), oracle[5]);
  ASSERT_OK_AND_ASSIGN(auto listed, ListCheckpoints(paths));
  EXPECT_TRUE(listed.empty());
  // The next writer finishes the moves, and its commit writes the checkpoint that was due.
  {
    ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(paths, "write", options));
    EXPECT_TRUE(fs::exists(root_ / file.path));
    EXPECT_EQ(Whole(txn->base()), oracle[5]);
    txn->next().datasets["a"].files.push_back(Stage(paths, "a", 6, 600));
    ASSERT_OK(txn->Commit());
    oracle[6] = Whole(txn->next());
  }
  EXPECT_TRUE(fs::exists(paths.Checkpoint(6)));
  for (const auto& [version, whole] : oracle) {
    ASSERT_OK_AND_ASSIGN(auto snapshot, ReadSnapshot(paths, version));
    EXPECT_EQ(Whole(snapshot), whole) << "version " << version;
  }
}

TEST_F(StoreLogTest, ACheckpointReadsBackTheSnapshotWithOwnPartitionKeys) {
  const StorePaths paths(root_);
  Snapshot snapshot;
  snapshot.version = 9;
  snapshot.operation = "compact";
  snapshot.committed_at = "2026-01-01T00:00:00.000Z";
  snapshot.details["quality"] = R"({"gaps":[1,2]})";
  snapshot.datasets["empty"] = Dataset("empty");
  snapshot.datasets["d"] = Dataset("d");
  FileEntry odd;
  odd.path = "d/other/x.parquet";
  odd.partition = {{"venue", "x"}};  // keys of its own, not the dataset's
  odd.version = 2;
  FileEntry plain;
  plain.path = "d/symbol=A/day=1/y.parquet";
  plain.partition = {{"symbol", "A"}, {"day", "1"}};
  plain.rows = 5;
  plain.min_time = -7;
  plain.version = 9;
  snapshot.datasets["d"].files = {odd, plain};
  ASSERT_OK(WriteCheckpoint(paths, snapshot));
  ASSERT_OK_AND_ASSIGN(auto read, ReadCheckpoint(paths.Checkpoint(9).string()));
  EXPECT_EQ(Whole(read), Whole(snapshot));
  EXPECT_TRUE(fs::exists(paths.last_checkpoint));
}

// Found by log_fuzz: a checkpoint whose Arrow schema (base64 IPC in its header) held a column
// name of invalid UTF-8 read back, and dumping the snapshot as JSON then threw.
TEST_F(StoreLogTest, ASchemaThatIsNotUtf8IsAnErrorWhenReadAndWhenWritten) {
  const StorePaths paths(root_);
  Snapshot snapshot = Checkpointed(paths, 3, "d");
  // The same schema with one byte of the name changed, spliced into the header in place.
  auto encode = [](const std::string& name) {
    auto buffer = arrow::ipc::SerializeSchema(*arrow::schema({arrow::field(name, arrow::int64())})).ValueOrDie();
    return arrow::util::base64_encode(std::string_view(buffer->data_as<char>(), buffer->size()));
  };
  const std::string good = encode("timestamp"), bad = encode("timest\xa1mp");
  ASSERT_EQ(good.size(), bad.size());
  const std::string file = paths.Checkpoint(3).string();
  std::string bytes = Read(file);
  const size_t at = bytes.find(good);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, bad.size(), bad);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  auto read = ReadCheckpoint(file);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find(file), std::string::npos) << read.status().message();
  EXPECT_NE(read.status().message().find("column 0 of the schema is not UTF-8"), std::string::npos)
      << read.status().message();
  // A dataset whose source gave such a name (Parquet footers are not checked either) is refused
  // by the writer rather than crashing it.
  snapshot.datasets["d"].schema = arrow::schema({arrow::field("timest\xa1mp", arrow::int64())});
  snapshot.version = 4;
  const Status written = WriteCheckpoint(paths, snapshot);
  EXPECT_TRUE(written.IsInvalid()) << written.ToString();
  EXPECT_FALSE(LogEntryToJson(DiffSnapshots(Snapshot{}, snapshot)).ok());
}

// Found by log_fuzz: a checkpoint of a few KB whose footer claimed billions of rows made the
// Parquet reader size its buffers by that claim (21 GB asked for) before finding the data
// short. The footer's counts are now checked against the header before any column is read.
TEST_F(StoreLogTest, AFooterClaimingMoreRowsThanTheHeaderListsIsAnErrorBeforeAnyRead) {
  const StorePaths paths(root_);
  std::vector<FileEntry> files;
  for (int n = 0; n < 300; ++n) files.push_back(Stage(paths, "a", 5, n));
  Checkpointed(paths, 5, "a", std::move(files));
  const std::string file = paths.Checkpoint(5).string();
  const std::string bytes = Read(file);
  // The Thrift footer ends the file: [footer][4-byte length]["PAR1"]. Its row counts (the
  // file's, the row group's and the column chunks' values) are compact-protocol i64 fields
  // that each follow the field before them, so each reads 0x16 then zigzag varint(300).
  uint32_t length = 0;
  std::memcpy(&length, bytes.data() + bytes.size() - 8, 4);
  const size_t footer_at = bytes.size() - 8 - length;
  std::string footer = bytes.substr(footer_at, length);
  auto varint = [](uint64_t zigzag) {
    std::string out;
    for (; zigzag >= 0x80; zigzag >>= 7) out.push_back(static_cast<char>(zigzag | 0x80));
    out.push_back(static_cast<char>(zigzag));
    return out;
  };
  const std::string rows300 = "\x16" + varint(600), huge = "\x16" + varint(uint64_t{1} << 34);
  int replaced = 0;
  for (size_t at = footer.find(rows300); at != std::string::npos; at = footer.find(rows300, at + huge.size())) {
    footer.replace(at, rows300.size(), huge);
    ++replaced;
  }
  ASSERT_GE(replaced, 2);  // at least the file's and the row group's count
  length = static_cast<uint32_t>(footer.size());
  std::string damaged = bytes.substr(0, footer_at) + footer;
  damaged.append(reinterpret_cast<const char*>(&length), 4).append("PAR1");
  std::ofstream(file, std::ios::binary | std::ios::trunc) << damaged;
  auto read = ReadCheckpoint(file);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find(file), std::string::npos) << read.status().message();
  EXPECT_NE(read.status().message().find("but its header lists 300 files"), std::string::npos)
      << read.status().message();
  auto header = ReadCheckpointHeader(file);
  EXPECT_FALSE(header.ok());
}

TEST_F(StoreTest, AStoresNextCommitStartsFromTheNewestVersionWhoeverWroteIt) {
  // Store a keeps the snapshot of its own last commit; b commits in between, so a must read
  // the log again instead of building on its stale copy.
  ASSERT_OK_AND_ASSIGN(auto a, Store::Open(root_));
  ASSERT_OK_AND_ASSIGN(auto b, Store::Open(root_));
  ASSERT_OK(WriteKlines(*a, {Klines("BTCUSDT", k20240101, 10)}).status());
  ASSERT_OK(WriteKlines(*a, {Klines("BTCUSDT", k20240101 + kDay, 10)}).status());  // from a's cache
  ASSERT_OK(WriteKlines(*b, {Klines("ETHUSDT", k20240101, 20)}).status());
  ASSERT_OK_AND_ASSIGN(auto info, WriteKlines(*a, {Klines("XRPUSDT", k20240101, 30)}));
  EXPECT_EQ(info.version, 4);
  EXPECT_EQ(CountRows(*a, "klines"), 70);
  ASSERT_OK_AND_ASSIGN(auto snapshot, b->ReadSnapshot());
  EXPECT_EQ(snapshot.datasets.at("klines").files.size(), 4u);
  // Dedup sees b's rows through a's next commit too.
  ASSERT_OK_AND_ASSIGN(auto again, WriteKlines(*a, {Klines("ETHUSDT", k20240101, 20)}));
  EXPECT_EQ(again.rows_written, 0);
  EXPECT_EQ(again.version, 4);
}

}  // namespace
}  // namespace tickforge::store
