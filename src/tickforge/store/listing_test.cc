// Filtered listings: at every version of a history with adds, removals, checkpoints, a dataset
// redefined and one kept out of path order, the files a filtered read keeps are exactly those
// the full snapshot reader lists that pass the filter, in its order; a checkpoint read skips
// row groups that cannot hold the wanted partition values; an old (format 1) store's plans are
// exact before and after its upgrade.
#include "tickforge/store/listing_internal.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "tickforge/store/checkpoint_internal.h"
#include "tickforge/store/log_internal.h"
#include "tickforge/store/predicate_internal.h"
#include "tickforge/store/test_util_internal.h"
#include "tickforge/store/transaction_internal.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/util/random.h"

namespace tickforge::store {
namespace {

DatasetEntry Dataset(const std::string& name) {
  DatasetEntry dataset;
  dataset.name = name;
  dataset.type = "generic";
  dataset.partition_keys = {"symbol", "day"};
  dataset.time_column = "timestamp";
  dataset.schema = arrow::schema({arrow::field("timestamp", arrow::int64()), arrow::field("symbol", arrow::utf8()),
                                  arrow::field("day", arrow::utf8())});
  return dataset;
}

/// A file of symbol S<n % 6>, staged so that a commit accepts it.
FileEntry Stage(const StorePaths& paths, const std::string& dataset, int64_t version, int64_t n) {
  FileEntry file;
  const std::string symbol = "S" + std::to_string(n % 6), day = std::to_string(n % 4);
  file.path = dataset + "/symbol=" + symbol + "/day=" + day + "/part-" + dataset + std::to_string(version) + "-" +
              std::to_string(n) + ".parquet";
  file.rows = n;
  file.partition = {{"symbol", symbol}, {"day", day}};
  file.min_time = n;
  file.max_time = n + 1;
  file.version = version;
  fs::create_directories(paths.Staged(file).parent_path());
  std::ofstream(paths.Staged(file)) << file.path;
  return file;
}

/// A selection of symbol S1 and S4 files: a key term for the row groups and a test per file.
CheckpointSelection Symbols(const DatasetEntry&) {
  CheckpointSelection selection;
  selection.key_values = {{"symbol", {"S1", "S4"}}};
  selection.keep = [](const FileEntry& file) {
    return file.partition.at(0).second == "S1" || file.partition.at(0).second == "S4";
  };
  return selection;
}

/// The oracle: the full snapshot reader's listing of `dataset`, filtered the same way.
std::vector<std::string> Expected(const Snapshot& snapshot, const std::string& dataset) {
  std::vector<std::string> paths;
  auto it = snapshot.datasets.find(dataset);
  if (it == snapshot.datasets.end()) return paths;
  const auto keep = Symbols(it->second).keep;
  for (const auto& file : it->second.files) {
    if (keep(file)) paths.push_back(file.path + "#" + std::to_string(file.rows) + "@" + std::to_string(file.version));
  }
  return paths;
}

std::vector<std::string> Listed(const DatasetListing& listing, const std::string& dataset) {
  std::vector<std::string> paths;
  auto it = listing.snapshot.datasets.find(dataset);
  if (it == listing.snapshot.datasets.end()) return paths;
  for (const auto& file : it->second.files) {
    paths.push_back(file.path + "#" + std::to_string(file.rows) + "@" + std::to_string(file.version));
  }
  return paths;
}

class StoreListingTest : public StoreTest {};

TEST_F(StoreListingTest, EveryVersionListsExactlyWhatTheFullReaderFilters) {
  const StorePaths paths(root_);
  const StoreOptions options{.checkpoint_interval = 5};
  Rng rng(7);
  auto pick = [&](uint64_t lo, uint64_t hi) { return lo + rng.Below(hi - lo + 1); };
  const int commits = 60;
  for (int c = 0; c < commits; ++c) {
    ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(paths, "test", options));
    Snapshot& next = txn->next();
    const int64_t version = txn->version();
    if (next.datasets.empty()) next.datasets["a"] = Dataset("a");
    // b keeps its files in commit order (not by path); a is redefined two thirds of the way.
    if (c == 10) next.datasets["b"] = Dataset("b");
    if (c == 40) next.datasets["a"].natural_key = {"timestamp"};
    for (auto& [name, dataset] : next.datasets) {
      auto& files = dataset.files;
      if (!files.empty() && pick(0, 2) == 0) {
        for (int k = static_cast<int>(pick(1, 3)); k > 0 && !files.empty(); --k) {
          files.EraseAt(pick(0, files.size() - 1));
        }
      }
      std::vector<FileEntry> added;
      for (int k = static_cast<int>(pick(0, 40)); k > 0; --k) added.push_back(Stage(paths, name, version, c * 100 + k));
      if (name == "a") {
        files.MergeSorted(std::move(added));
      } else {
        files.Append(std::move(added));
      }
    }
    ASSERT_OK(txn->Commit());
  }
  int filtered = 0;
  for (int64_t version = 1; version <= commits; ++version) {
    ASSERT_OK_AND_ASSIGN(auto full, ReadSnapshot(paths, version));
    for (const std::string name : {"a", "b"}) {
      ASSERT_OK_AND_ASSIGN(auto listing, ReadDatasetListing(paths, version, name, Symbols));
      EXPECT_EQ(Listed(listing, name), Expected(full, name)) << name << " at version " << version;
      EXPECT_EQ(listing.snapshot.version, version);
      for (const auto& [dataset, entry] : full.datasets) {
        EXPECT_EQ(listing.file_counts[dataset], static_cast<int64_t>(entry.files.size()))
            << dataset << " at version " << version;
      }
      filtered += listing.filtered;
    }
  }
  // Most reads of a (sorted, since the redefinition's checkpoint) took the filtered path; b's,
  // out of path order, never did.
  EXPECT_GT(filtered, 30);
  EXPECT_LE(filtered, commits);
  // A version that does not exist is the full reader's error.
  EXPECT_FALSE(ReadDatasetListing(paths, commits + 1, "a", Symbols).ok());
}

TEST_F(StoreListingTest, ACheckpointReadSkipsRowGroupsWithoutTheWantedValues) {
  const StorePaths paths(root_);
  Snapshot snapshot;
  snapshot.version = 1;
  DatasetEntry dataset = Dataset("a");
  // Four row groups' worth of files of eight symbols in path order, so the S1 and S4 files
  // lie in two row groups and the statistics of the two others rule them out.
  std::vector<FileEntry> files;
  const int64_t n = 4 * kCheckpointRowGroupRows;
  for (int64_t i = 0; i < n; ++i) {
    FileEntry file;
    std::string symbol = "S";  // appended, not "S" + ...: GCC 12 warns falsely (-Wrestrict) on that
    symbol += std::to_string(i * 8 / n);
    file.path = "a/symbol=" + symbol + "/day=0/part-" + std::to_string(1'000'000 + i) + ".parquet";
    file.partition = {{"symbol", symbol}, {"day", "0"}};
    file.version = 1;
    files.push_back(std::move(file));
  }
  dataset.files = std::move(files);
  snapshot.datasets["a"] = dataset;
  snapshot.datasets["other"] = Dataset("other");
  ASSERT_OK(WriteCheckpoint(paths, snapshot));
  int64_t tested = 0;
  auto counting = [&](const DatasetEntry& definition) {
    CheckpointSelection selection = Symbols(definition);
    selection.keep = [&tested, keep = selection.keep](const FileEntry& file) {
      ++tested;
      return keep(file);
    };
    return selection;
  };
  ASSERT_OK_AND_ASSIGN(auto listing, ReadCheckpointSelection(paths.Checkpoint(1).string(), "a", counting));
  EXPECT_TRUE(listing.sorted);
  EXPECT_EQ(listing.file_counts.at("a"), n);
  EXPECT_EQ(listing.file_counts.at("other"), 0);
  std::vector<std::string> expected;
  for (const auto& file : snapshot.datasets.at("a").files) {
    if (file.partition[0].second == "S1" || file.partition[0].second == "S4") expected.push_back(file.path);
  }
  std::vector<std::string> got;
  for (const auto& file : listing.snapshot.datasets.at("a").files) got.push_back(file.path);
  EXPECT_EQ(got, expected);
  // Row group g holds S<2g> and S<2g+1>: those of S2, S3 and of S6, S7 are not decoded.
  EXPECT_EQ(tested, 2 * kCheckpointRowGroupRows);
  // The full reader ignores the key columns and reads every file back.
  ASSERT_OK_AND_ASSIGN(auto whole, ReadCheckpoint(paths.Checkpoint(1).string()));
  EXPECT_EQ(whole.datasets.at("a").files.size(), static_cast<size_t>(n));
  EXPECT_EQ(whole.datasets.at("a").files.back().path, snapshot.datasets.at("a").files.back().path);
}

TEST_F(StoreListingTest, AFormat1StorePlansExactlyBeforeAndAfterItsUpgrade) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  for (int d = 0; d < 3; ++d) {
    ASSERT_OK(WriteKlines(*store, {Klines("BTCUSDT", k20240101 + d * kDay, 30), Klines("ETHUSDT", k20240101 + d * kDay, 30)})
                  .status());
  }
  // Rewrite the store's history as older tickforge kept it: one whole snapshot per entry.
  const StorePaths paths(root_);
  std::vector<Snapshot> versions;
  for (int64_t v = 1; v <= 3; ++v) {
    ASSERT_OK_AND_ASSIGN(auto snapshot, ReadSnapshot(paths, v));
    versions.push_back(std::move(snapshot));
  }
  fs::remove_all(paths.log);
  fs::remove_all(paths.checkpoints);
  for (const auto& snapshot : versions) ASSERT_OK(WriteSnapshot(paths, snapshot));
  ScanOptions eth;
  eth.filters = {{"symbol", "==", {std::string("ETHUSDT")}}};
  auto check = [&](int64_t version, size_t files) {
    ScanOptions options = eth;
    options.version = version;
    ASSERT_OK_AND_ASSIGN(auto reopened, Store::Open(root_, false));
    ASSERT_OK_AND_ASSIGN(auto plan, reopened->Plan("klines", options));
    ASSERT_EQ(plan.files.size(), files) << "version " << version;
    for (const auto& file : plan.files) EXPECT_NE(file.path.find("symbol=ETHUSDT"), std::string::npos);
    EXPECT_EQ(plan.files_total, static_cast<int64_t>(2 * files));
    EXPECT_EQ(CountRows(*reopened, "klines", options), static_cast<int64_t>(30 * files));
  };
  for (int64_t v = 1; v <= 3; ++v) check(v, static_cast<size_t>(v));
  // The upgrade: one commit writes a checkpoint of the old newest version, then its own entry.
  ASSERT_OK_AND_ASSIGN(auto upgrader, Store::Open(root_, false));
  ASSERT_OK(WriteKlines(*upgrader, {Klines("ETHUSDT", k20240101 + 3 * kDay, 30)}).status());
  ASSERT_OK_AND_ASSIGN(auto checkpoints, ListCheckpoints(paths));
  EXPECT_EQ(checkpoints, std::vector<int64_t>{3});
  for (int64_t v = 1; v <= 3; ++v) check(v, static_cast<size_t>(v));
  ASSERT_OK_AND_ASSIGN(auto listing, ReadDatasetListing(paths, 4, "klines", [](const DatasetEntry&) {
    return CheckpointSelection{};
  }));
  EXPECT_TRUE(listing.filtered);
  EXPECT_EQ(listing.file_counts.at("klines"), 7);
  ScanOptions latest = eth;
  ASSERT_OK_AND_ASSIGN(auto plan, upgrader->Plan("klines", latest));
  EXPECT_EQ(plan.files.size(), 4u);
  EXPECT_EQ(plan.files_total, 7);
}

}  // namespace
}  // namespace tickforge::store
