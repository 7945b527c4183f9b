// Large store listings for benchmarks and tests: log entries (and a checkpoint) that list
// synthetic file entries without writing their Parquet files, so a store of a million files is
// made in seconds. Only the listing is synthetic: commits, opens and scan planning on it run
// the store's real code; scanning a synthetic file fails (it does not exist).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "tickforge/util/status.h"

namespace tickforge::store {

struct SyntheticListingOptions {
  /// The klines dataset to add to; it must exist (e.g. made by one real write).
  std::string dataset = "klines";
  /// File entries to add: one per symbol-day, `symbols` symbols from 2020-01-01 on.
  int64_t files = 10'000;
  int64_t symbols = 100;
  /// Commits to spread them over (one log entry each).
  int64_t commits = 10;
  /// Write a checkpoint of the last commit, as checkpoint_interval would on a long history.
  bool checkpoint = true;
};

/// Append synthetic klines file entries (exchange=synthetic, symbol=SYN<k>, timeframe=1m, one
/// per day) to the store at `root`, as options.commits commits. Returns the newest version.
[[nodiscard]] Result<int64_t> AppendSyntheticListing(const std::filesystem::path& root,
                                                     const SyntheticListingOptions& options = {});

}  // namespace tickforge::store
