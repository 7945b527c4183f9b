// The projection cache: hits within the TTL, a new key per snapshot, keys that stay the same
// from one build to the next (they name folders on disk), and clearing all or the expired.
#include <arrow/api.h>
#include <gtest/gtest.h>

#include "tickforge/store/store.h"
#include "tickforge/store/test_util_internal.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::store {
namespace {

TEST_F(StoreTest, CachedProjectionsExpire) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  ASSERT_OK(WriteKlines(*store, {Klines("BTCUSDT", k20240101, 50)}).status());
  ScanOptions projection;
  projection.columns = {"timestamp", "close"};
  ASSERT_OK_AND_ASSIGN(auto first, store->Cached("klines", projection, 3600));
  EXPECT_FALSE(first.hit);
  EXPECT_EQ(first.rows, 50);
  ASSERT_OK_AND_ASSIGN(auto second, store->Cached("klines", projection, 3600));
  EXPECT_TRUE(second.hit);
  EXPECT_EQ(second.key, first.key);
  ASSERT_OK_AND_ASSIGN(auto expired, store->Cached("klines", projection, 0));
  EXPECT_FALSE(expired.hit);
  // A new snapshot is a new key.
  ASSERT_OK(WriteKlines(*store, {Klines("ETHUSDT", k20240101, 5)}).status());
  ASSERT_OK_AND_ASSIGN(auto newer, store->Cached("klines", projection, 3600));
  EXPECT_NE(newer.key, first.key);
  EXPECT_EQ(newer.rows, 55);
}

TEST_F(StoreTest, CacheKeysArePinned) {
  // The keys the store made before its split into one file per idea: a projection cached by
  // one build is found by the next.
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  ASSERT_OK(WriteKlines(*store, {Klines("BTCUSDT", k20240101, 5)}).status());
  ScanOptions projection;
  projection.columns = {"timestamp", "close"};
  ASSERT_OK_AND_ASSIGN(auto plain, store->Cached("klines", projection, 3600));
  EXPECT_EQ(plain.key, "3daeb674eab74573d114c241acfc4b97");
  EXPECT_TRUE(fs::exists(root_ / "_cache" / plain.key / "data.parquet"));
  projection.filters = {*ParsePredicate("symbol in BTCUSDT,ETHUSDT"), *ParsePredicate("timestamp>=1704067200000"),
                        Predicate{"close", "<", {2.5}}};
  ASSERT_OK_AND_ASSIGN(auto filtered, store->Cached("klines", projection, 3600));
  EXPECT_EQ(filtered.key, "9741c540085caea3efb3633ee3d075c1");
  EXPECT_EQ(filtered.rows, 0);  // every close is above 100
}

TEST_F(StoreTest, ClearCacheRemovesAllOrTheExpired) {
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(root_));
  ASSERT_OK_AND_ASSIGN(auto none, store->ClearCache(false));
  EXPECT_EQ(none, 0);  // no cache folder yet
  ASSERT_OK(WriteKlines(*store, {Klines("BTCUSDT", k20240101, 10)}).status());
  ScanOptions fresh;
  fresh.columns = {"close"};
  ScanOptions stale;
  stale.columns = {"open"};
  ASSERT_OK_AND_ASSIGN(auto kept, store->Cached("klines", fresh, 3600));
  ASSERT_OK_AND_ASSIGN(auto expired, store->Cached("klines", stale, 0));
  EXPECT_NE(kept.key, expired.key);
  ASSERT_OK_AND_ASSIGN(auto removed, store->ClearCache(/*expired_only=*/true));
  EXPECT_EQ(removed, 1);
  EXPECT_TRUE(fs::exists(root_ / "_cache" / kept.key));
  EXPECT_FALSE(fs::exists(root_ / "_cache" / expired.key));
  ASSERT_OK_AND_ASSIGN(removed, store->ClearCache(false));
  EXPECT_EQ(removed, 1);
  EXPECT_TRUE(fs::is_empty(root_ / "_cache"));
  EXPECT_FALSE(store->Cached("nope", fresh, 3600).ok());
}

}  // namespace
}  // namespace tickforge::store
