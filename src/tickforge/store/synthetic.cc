// Synthetic store listings for benchmarks (see synthetic.h).
#include "tickforge/store/synthetic.h"

#include <fmt/format.h>

#include <algorithm>

#include "tickforge/store/checkpoint_internal.h"
#include "tickforge/store/log_internal.h"
#include "tickforge/store/totals_internal.h"
#include "tickforge/store/transaction_internal.h"
#include "tickforge/util/time.h"

namespace tickforge::store {

Result<int64_t> AppendSyntheticListing(const std::filesystem::path& root, const SyntheticListingOptions& options) {
  if (options.files < 0 || options.symbols < 1 || options.commits < 1) {
    return Status::Invalid("synthetic listing: files >= 0, symbols >= 1 and commits >= 1, not ", options.files, ", ",
                           options.symbols, ", ", options.commits);
  }
  const StorePaths paths(root);
  // Held for the writer lock only: the commits below are written directly.
  ARROW_ASSIGN_OR_RAISE(auto lock, Transaction::Begin(paths, "synthetic"));
  Snapshot snapshot = lock->base();
  ARROW_ASSIGN_OR_RAISE(const DatasetEntry* dataset, snapshot.Find(options.dataset));
  if (dataset->partition_keys != std::vector<std::string>{"exchange", "symbol", "timeframe", "year", "month", "day"}) {
    return Status::Invalid("synthetic listing: dataset '", options.dataset, "' is not a klines dataset");
  }
  const int64_t first_day = DaysFromYmd(20200101);
  // Entries record their totals as a commit's do, so a commit on top reads them from the log.
  Totals totals = SumSnapshot(snapshot);
  for (int64_t c = 0; c < options.commits; ++c) {
    LogEntry entry;
    entry.version = snapshot.version + 1;
    entry.parent = snapshot.version;
    entry.operation = "synthetic";
    entry.committed_at = UtcNow();
    auto& added = entry.added[options.dataset];
    const int64_t begin = options.files * c / options.commits, end = options.files * (c + 1) / options.commits;
    for (int64_t i = begin; i < end; ++i) {
      const std::string symbol = fmt::format("SYN{:05d}", i % options.symbols);
      const int64_t day = first_day + i / options.symbols;
      const uint32_t ymd = YmdFromDays(day);
      const std::string year = std::to_string(ymd / 10000), month = std::to_string(ymd / 100 % 100),
                        mday = std::to_string(ymd % 100);
      FileEntry file;
      file.path = fmt::format("{}/exchange=synthetic/symbol={}/timeframe=1m/year={}/month={}/day={}/part-synthetic.parquet",
                              options.dataset, symbol, year, month, mday);
      file.rows = 1440;
      file.bytes = 60'000;
      file.partition = {{"exchange", "synthetic"}, {"symbol", symbol}, {"timeframe", "1m"},
                        {"year", year},            {"month", month},   {"day", mday}};
      file.min_time = day * kMillisPerDay;
      file.max_time = file.min_time + kMillisPerDay - 60'000;
      file.version = entry.version;
      added.push_back(std::move(file));
    }
    std::sort(added.begin(), added.end(), [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
    ARROW_ASSIGN_OR_RAISE(auto after, ApplyChangeToTotals(totals, snapshot, &entry));
    if (!after) return Status::UnknownError("synthetic listing: an added file narrowed the time range");
    totals = std::move(*after);
    ARROW_RETURN_NOT_OK(CommitLogEntry(paths, entry));
    ARROW_RETURN_NOT_OK(ApplyLogEntry(entry, paths.LogEntry(entry.version).string(), &snapshot));
  }
  if (options.checkpoint) ARROW_RETURN_NOT_OK(WriteCheckpoint(paths, snapshot));
  ARROW_RETURN_NOT_OK(WriteManifestPointer(paths, snapshot, options.checkpoint ? snapshot.version : 0));
  return snapshot.version;
}

}  // namespace tickforge::store
