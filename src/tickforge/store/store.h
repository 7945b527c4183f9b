// The unified market-data store: Hive-partitioned Parquet datasets under one root, changed only
// by atomic commits (see manifest.h), read through committed snapshots (DESIGN.md §4, §6).
#pragma once

#include <arrow/type_fwd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tickforge/book/options.h"
#include "tickforge/store/manifest.h"
#include "tickforge/util/progress.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

class SnapshotCache;

/// The rules of one data type: where its rows go and what identifies a row.
struct DataTypeRules {
  std::string type;
  std::vector<std::string> partition_keys;
  /// Empty: a row is identified by all its values, counted as a multiset (two identical trades
  /// in one source are both kept; ingesting that source again adds neither).
  std::vector<std::string> natural_key;
  std::string time_column;
  /// Columns every written row must have, with their types (partition keys included).
  std::shared_ptr<arrow::Schema> required;
};

/// Return the rules of klines, aggtrades, funding (alias futures), a DBN schema's dataset
/// (mbp10, mbp1, mbo, trades, tbbo, ohlcv, ...) or `generic` (aliases unified, labeled:
/// symbol/date partitions, full-row identity, time column `timestamp`).
[[nodiscard]] Result<DataTypeRules> RulesFor(const std::string& type);

/// Reject a partition value that could leave the dataset folder, hide the file from readers or
/// be read back differently: empty, '/', '\\', "..", '%', '=', control characters, or a leading
/// '.' or '_'.
[[nodiscard]] Status ValidatePartitionValue(const std::string& key, const std::string& value);

struct WriteOptions {
  /// zstd, snappy, lz4, gzip, brotli or none.
  std::string compression = "zstd";
  int64_t max_rows_per_file = 5'000'000;
  /// Row groups hold at least this many rows, except a file's last.
  int64_t min_rows_per_group = 50'000;
  int64_t max_rows_per_group = 1 << 17;
  /// Key-value metadata attached to every written file.
  std::map<std::string, std::string> metadata;
  /// Called with each file the commit adds, once it is committed.
  std::function<void(const FileEntry&)> file_visitor;
  /// Drop rows whose natural key the dataset already holds (and repeats within the input).
  bool dedup = true;
  /// Partition values for keys the data has no column for (e.g. exchange=binance).
  std::map<std::string, std::string> constants;
  /// Run the data-quality checks on the rows written and record them in the commit's log
  /// entry under details["quality"] (docs/quality.md).
  bool quality = true;

  [[nodiscard]] Status Validate() const;
};

/// What one commit did.
struct CommitInfo {
  int64_t version = 0;
  int64_t rows_in = 0;
  int64_t rows_written = 0;
  int64_t rows_duplicate = 0;
  /// Of the duplicates, those whose key a stored row has but whose other values differ: the
  /// stored row is kept (a warning says so).
  int64_t rows_conflicting = 0;
  std::vector<FileEntry> added;
  std::vector<FileEntry> removed;
  std::vector<std::string> warnings;
};

using Value = std::variant<int64_t, double, std::string, bool>;

/// A filter term `column op value(s)`; op is one of == = != < <= > >= in.
struct Predicate {
  std::string column;
  std::string op;
  std::vector<Value> values;
};

/// Parse `symbol=BTCUSDT`, `timestamp>=1700000000000`, `symbol in BTCUSDT,ETHUSDT`.
[[nodiscard]] Result<Predicate> ParsePredicate(const std::string& text);

struct ScanOptions {
  /// Columns to return, in this order; empty: all.
  std::vector<std::string> columns;
  /// Terms combined with AND; partition keys prune files, other columns use Parquet statistics.
  std::vector<Predicate> filters;
  /// Rows per batch; 0: $TICKFORGE_SCAN_BATCH_SIZE, else 262144.
  int64_t batch_size = 0;
  /// Snapshot to read; the newest when absent.
  std::optional<int64_t> version;
  /// Read files on Arrow's thread pool (its size honours $ARROW_NUM_THREADS).
  bool use_threads = true;
  /// Read only these files of the snapshot (store paths, as a plan lists them); empty: all.
  /// A path the snapshot does not list is an error. Lets many readers split one plan.
  std::vector<std::string> paths;
};

/// How much of the dataset a scan touches.
struct ScanStats {
  int64_t version = 0;
  int64_t files_total = 0;
  int64_t files_selected = 0;
};

/// The files of one dataset a scan reads: those of the snapshot that its filters may match.
struct ScanPlan {
  int64_t version = 0;
  /// The dataset's rules and schema; its files are the selected ones (a plan does not read
  /// the whole listing of a large store: see files_total).
  DatasetEntry dataset;
  /// How many files the dataset has at that version.
  int64_t files_total = 0;
  /// The selected files, in the snapshot's order, each with where it lies now (ResolveFile).
  std::vector<FileEntry> files;
  std::vector<std::filesystem::path> locations;
};

/// Books an ingest rebuilds from MBO, depth-stream and LOBSTER inputs (book/, docs/books.md).
struct BookIngestOptions {
  /// Also write each such input's rebuilt MBP-10 rows into `dataset`, in the same commit as
  /// its raw rows (MBO's `mbo` dataset; depth streams and LOBSTER have books only).
  bool derive = false;
  /// Write the books alone (`book build --into`): MBO's raw rows are not written.
  bool only = false;
  /// The dataset the book rows go to (type mbp10).
  std::string dataset = "mbp10";
  /// How the books are rebuilt.
  book::BookOptions book;
};

struct IngestOptions {
  /// Binance data type (klines, aggtrades, funding); inferred from each file name when empty.
  std::string kind;
  /// Overrides the symbol a Binance file's name gives.
  std::string symbol;
  std::string exchange = "binance";
  bool verify_checksum = true;
  /// Files read at once; 0: Arrow's thread count (cores, or $ARROW_NUM_THREADS).
  int threads = 0;
  WriteOptions write;
  BookIngestOptions books;
  /// Told the files and rows read as the ingest goes (stage "ingest"); a callback that throws
  /// stops it with nothing committed.
  ProgressFn progress;
};

struct CompactOptions {
  /// Files of a partition are merged until a file reaches this many rows.
  int64_t target_rows = 5'000'000;
  /// Partitions with fewer files are left alone.
  int min_files = 2;
  WriteOptions write;
};

struct VacuumOptions {
  /// Keep every version committed less than this long ago, plus the one that was newest then
  /// (readers may have opened it just before) and the newest.
  double older_than_seconds = 7 * 86'400.0;
  /// Keep at least this many of the newest versions as well.
  int64_t retain_versions = 0;
  /// Report what would be deleted; delete nothing.
  bool dry_run = false;
};

/// What a vacuum deleted (or would delete, on a dry run).
struct VacuumReport {
  bool dry_run = false;
  int64_t latest_version = 0;
  /// Versions from this one on still read all their files.
  int64_t oldest_retained_version = 0;
  int64_t files_deleted = 0;
  int64_t bytes_freed = 0;
  /// Retired files kept because a retained version lists them.
  int64_t files_kept = 0;
  /// Staging folders of commits that never happened (or finished), removed.
  int64_t staging_removed = 0;
  /// The deleted files, relative to the retired folder (= their old path in the store).
  std::vector<std::string> deleted;
};

/// A projection served from `_cache/<key>/`.
struct CachedProjection {
  std::string key;
  std::filesystem::path path;
  bool hit = false;
  int64_t rows = 0;
};

/// Write `reader`'s rows to one Parquet file (the seed's flat write), atomically, with the
/// options' compression, row group size (max_rows_per_group) and metadata. Returns the rows.
[[nodiscard]] Result<int64_t> WriteFlatParquet(arrow::RecordBatchReader& reader,
                                               const std::filesystem::path& path,
                                               const WriteOptions& options = {});

/// A store rooted at a directory. Reads never block writers; writers take the store's lock
/// for the duration of one commit, so commits from several processes serialize.
class Store {
 public:
  /// Open the store at `root`, creating an empty one when `create` and it does not exist.
  [[nodiscard]] static Result<std::shared_ptr<Store>> Open(const std::filesystem::path& root,
                                                          bool create = true,
                                                          const StoreOptions& options = {});

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  [[nodiscard]] const StorePaths& paths() const { return paths_; }
  [[nodiscard]] const StoreOptions& options() const { return options_; }

  /// Return the snapshot of `version` (the newest when absent).
  [[nodiscard]] Result<Snapshot> ReadSnapshot(std::optional<int64_t> version = std::nullopt) const;

  /// Write the rows of `reader` into `dataset` (created with `type`'s rules if new), one commit.
  [[nodiscard]] Result<CommitInfo> Write(const std::string& dataset, const std::string& type,
                                         arrow::RecordBatchReader& reader,
                                         const WriteOptions& options = {});

  /// Ingest Binance files (CSV, zip, consolidated Parquet) and DBN files, one commit for all;
  /// with options.books, also (or only) the books of MBO, depth-stream and LOBSTER inputs.
  [[nodiscard]] Result<CommitInfo> Ingest(const std::vector<std::string>& paths,
                                          const IngestOptions& options = {});

  /// Stream a dataset's committed rows.
  [[nodiscard]] Result<std::shared_ptr<arrow::RecordBatchReader>> Scan(
      const std::string& dataset, const ScanOptions& options = {}, ScanStats* stats = nullptr) const;

  /// Plan a scan: the snapshot's files of `dataset` that the filters may match (by partition
  /// value and time range) and where each lies now; errors name a missing dataset or column.
  [[nodiscard]] Result<ScanPlan> Plan(const std::string& dataset, const ScanOptions& options = {}) const;

  /// Return the largest time value of `symbol` in `dataset` (none when it has no rows), read
  /// from the manifest alone, for incremental updates.
  [[nodiscard]] Result<std::optional<int64_t>> LatestTimestamp(const std::string& dataset,
                                                               const std::string& symbol) const;

  /// Merge each partition's small files into files of up to target_rows rows, one commit;
  /// the rows stay exactly the same.
  [[nodiscard]] Result<CommitInfo> Compact(const std::string& dataset,
                                           const CompactOptions& options = {});

  /// Write the Parquet files of a flat directory into `dataset` with `type`'s partitions.
  [[nodiscard]] Result<CommitInfo> Migrate(const std::filesystem::path& flat_dir,
                                           const std::string& dataset, const std::string& type,
                                           const WriteOptions& options = {});

  /// Write a projection of `source` as a new dataset `target` (same partition keys).
  [[nodiscard]] Result<CommitInfo> Materialize(const std::string& source,
                                               const ScanOptions& projection,
                                               const std::string& target,
                                               const WriteOptions& options = {});

  /// Return a projection from the cache, computing it when absent or older than ttl_seconds.
  /// The key hashes (dataset, columns, filters, snapshot version).
  [[nodiscard]] Result<CachedProjection> Cached(const std::string& dataset,
                                                const ScanOptions& projection,
                                                double ttl_seconds);

  /// Remove cached projections: all, or only those older than their TTL. Returns how many.
  [[nodiscard]] Result<int64_t> ClearCache(bool expired_only);

  /// Delete retired files no retained version lists (see VacuumOptions), and stale staging
  /// folders, holding the writer lock. The log is kept: an older version still opens, and a
  /// scan of it names the vacuum that deleted its files.
  [[nodiscard]] Result<VacuumReport> Vacuum(const VacuumOptions& options = {});

 private:
  Store(std::filesystem::path root, StoreOptions options);
  StorePaths paths_;
  StoreOptions options_;
  /// The snapshot this store's last commit made, the base of its next one.
  std::unique_ptr<SnapshotCache> cache_;
};

}  // namespace tickforge::store
