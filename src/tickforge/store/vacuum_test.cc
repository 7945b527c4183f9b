// Vacuum: deletes the retired files no retained version lists and keeps the ones a retained
// version reads (scanned afterwards); a dry run deletes nothing; an older version's scan names
// the vacuum; stale staging folders go.
#include <arrow/api.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "tickforge/store/store.h"
#include "tickforge/store/test_util_internal.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::store {
namespace {

std::set<std::string> RetiredFiles(const StorePaths& paths) {
  std::set<std::string> files;
  if (!fs::exists(paths.retired)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(paths.retired)) {
    if (entry.is_regular_file()) files.insert(entry.path().lexically_relative(paths.retired).generic_string());
  }
  return files;
}

std::set<std::string> PathSet(const std::vector<FileEntry>& files) {
  std::set<std::string> out;
  for (const auto& file : files) out.insert(file.path);
  return out;
}

TEST_F(StoreTest, VacuumDeletesOnlyFilesNoRetainedVersionReads) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  ASSERT_OK_AND_ASSIGN(auto v1, WriteKlines(*store, {Klines("BTCUSDT", k20240101, 50)}));
  ASSERT_OK_AND_ASSIGN(auto v2, WriteKlines(*store, {Klines("BTCUSDT", k20240101 + 50 * 60'000, 30)}));
  ASSERT_OK_AND_ASSIGN(auto v3, store->Compact("klines"));  // retires v1's and v2's files
  ASSERT_OK_AND_ASSIGN(auto v4, WriteKlines(*store, {Klines("ETHUSDT", k20240101, 20)}));
  ASSERT_OK_AND_ASSIGN(auto v5, WriteKlines(*store, {Klines("ETHUSDT", k20240101 + 20 * 60'000, 10)}));
  ASSERT_OK_AND_ASSIGN(auto v6, store->Compact("klines"));  // retires v4's and v5's files
  ASSERT_EQ(v6.version, 6);
  const StorePaths& paths = store->paths();
  const std::set<std::string> old_btc = [&] {
    auto a = PathSet(v1.added), b = PathSet(v2.added);
    a.insert(b.begin(), b.end());
    return a;
  }();
  const std::set<std::string> old_eth = [&] {
    auto a = PathSet(v4.added), b = PathSet(v5.added);
    a.insert(b.begin(), b.end());
    return a;
  }();
  std::set<std::string> all_retired = old_btc;
  all_retired.insert(old_eth.begin(), old_eth.end());
  ASSERT_EQ(RetiredFiles(paths), all_retired);
  ScanOptions at5;
  at5.version = 5;
  const int64_t rows_at_5 = CountRows(*store, "klines", at5);
  ASSERT_EQ(rows_at_5, 110);
  fs::create_directories(paths.Staging(99));
  { std::ofstream(paths.Staging(99) / "part-x.parquet") << "stale"; }

  // Keep the two newest versions (5 and 6), everything older than now is out of the window.
  VacuumOptions options;
  options.older_than_seconds = 0;
  options.retain_versions = 2;
  options.dry_run = true;
  ASSERT_OK_AND_ASSIGN(auto dry, store->Vacuum(options));
  EXPECT_TRUE(dry.dry_run);
  EXPECT_EQ(dry.oldest_retained_version, 5);
  EXPECT_EQ(dry.latest_version, 6);
  EXPECT_EQ(std::set<std::string>(dry.deleted.begin(), dry.deleted.end()), old_btc);
  EXPECT_EQ(dry.files_kept, static_cast<int64_t>(old_eth.size()));
  EXPECT_GT(dry.bytes_freed, 0);
  EXPECT_EQ(RetiredFiles(paths), all_retired);  // a dry run deletes nothing
  EXPECT_TRUE(fs::exists(paths.Staging(99)));

  options.dry_run = false;
  ASSERT_OK_AND_ASSIGN(auto done, store->Vacuum(options));
  EXPECT_EQ(done.deleted, dry.deleted);
  EXPECT_EQ(done.bytes_freed, dry.bytes_freed);
  EXPECT_EQ(done.staging_removed, 1);
  EXPECT_FALSE(fs::exists(paths.Staging(99)));
  EXPECT_EQ(RetiredFiles(paths), old_eth);
  // A retained version still scans whole; an older one opens but its scan names the vacuum.
  EXPECT_EQ(CountRows(*store, "klines", at5), rows_at_5);
  EXPECT_EQ(CountRows(*store, "klines"), 110);
  ASSERT_OK(store->ReadSnapshot(2).status());
  ScanOptions at2;
  at2.version = 2;
  auto scan = store->Scan("klines", at2);
  ASSERT_FALSE(scan.ok());
  EXPECT_NE(scan.status().message().find("version 2 can no longer be scanned"), std::string::npos)
      << scan.status().message();
  EXPECT_NE(scan.status().message().find("deleted by the vacuum of"), std::string::npos);

  // Everything is recent: a week's window keeps every version, so nothing more goes.
  ASSERT_OK_AND_ASSIGN(auto week, store->Vacuum(VacuumOptions{}));
  EXPECT_EQ(week.files_deleted, 0);
  EXPECT_EQ(week.oldest_retained_version, 1);
  EXPECT_EQ(RetiredFiles(paths), old_eth);

  // Only the newest: the rest of the retired files go, and the newest still scans.
  options.retain_versions = 0;
  ASSERT_OK_AND_ASSIGN(auto newest, store->Vacuum(options));
  EXPECT_EQ(newest.oldest_retained_version, 6);
  EXPECT_EQ(std::set<std::string>(newest.deleted.begin(), newest.deleted.end()), old_eth);
  EXPECT_TRUE(RetiredFiles(paths).empty());
  EXPECT_EQ(CountRows(*store, "klines"), 110);
}

TEST_F(StoreTest, VacuumRejectsBadOptions) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  VacuumOptions options;
  options.older_than_seconds = -1;
  EXPECT_TRUE(store->Vacuum(options).status().IsInvalid());
  ASSERT_OK_AND_ASSIGN(auto empty, store->Vacuum(VacuumOptions{}));
  EXPECT_EQ(empty.latest_version, 0);
  EXPECT_EQ(empty.files_deleted, 0);
}

}  // namespace
}  // namespace tickforge::store
