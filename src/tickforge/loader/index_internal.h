// The loader's sample index (DESIGN.md §3.5): the datasets of a folder, the labeled rows whose
// windows they hold, cut into time splits with purge gaps and sharded over ranks, by class.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tickforge/loader/loader.h"
#include "tickforge/util/random.h"
#include "tickforge/util/status.h"

namespace tickforge::loader::internal {

/// One symbol's dataset as the index found it.
struct DatasetRef {
  std::string path;
  int64_t rows = 0;
  int64_t train_rows = 0;  ///< rows before the first split cut (the training split's rows)
};

/// A dataset a lenient loader left out, and why.
struct SkippedDataset {
  std::string path;
  std::string reason;
};
struct WindowStats;

/// The samples of one rank, by class, and what rendering them needs to find their rows.
struct SampleIndex {
  std::vector<std::string> names;        ///< the symbols served, sorted; Sample::symbol indexes them
  std::vector<DatasetRef> datasets;      ///< the dataset of each symbol
  std::vector<Sample> samples;           ///< this rank's samples, by symbol, then row
  std::vector<std::vector<uint32_t>> by_class;  ///< each class's samples (indices), in index order
  int num_classes = 0;
  int64_t batches_per_epoch = 0;         ///< the same on every rank
  /// Whether samples holds every rank's samples (natural sampling shards batches, not samples).
  bool all_ranks = false;
  std::vector<SkippedDataset> skipped;   ///< datasets left out (lenient strictness only)
  /// The micro_pip_size the datasets record (label config micro_pip_size); 0: none does.
  double micro_pip_size = 0;
  /// What the caller should know of the data (trade_counts asked of data without order counts).
  std::vector<std::string> warnings;
  std::shared_ptr<const WindowStats> window_stats;  ///< snapshots: normalization statistics

  /// Return the bytes the index holds (its arrays' capacity).
  [[nodiscard]] int64_t bytes() const;
};

/// The rows of a dataset a split may draw samples at, inclusive.
struct RowBounds {
  int64_t lo = 0;
  int64_t hi = 0;
};

/// Return the rows a sample of `split` ("", "train", "val" or "test") may end at, in a dataset
/// of `rows` rows whose split cuts fall at rows r1 and r2 (the first at or after each cut):
/// windows of `window_rows` lie inside the dataset and inside the split, and a label, which
/// looks `horizon` rows ahead, never reads a row of the next split (the purge gap).
[[nodiscard]] RowBounds SplitBounds(std::string_view split, int64_t rows, int64_t window_rows, int64_t horizon,
                                    int64_t r1, int64_t r2);

/// Return whether sample_fraction keeps the row `row` of the symbol hashed `symbol_hash`: a
/// seeded hash of (symbol, row) at most `keep_limit` (sample_fraction × 2^64), the same every
/// epoch and on every rank.
[[nodiscard]] inline bool KeepsRow(uint64_t seed, uint64_t symbol_hash, int64_t row, uint64_t keep_limit) {
  return MixSeeds({seed, 1, symbol_hash, static_cast<uint64_t>(row)}) <= keep_limit;
}

/// Return the rank that serves the row `row` of the symbol hashed `symbol_hash`: a seeded hash
/// of (symbol, row), so ranks hold disjoint shares, the same every epoch.
[[nodiscard]] inline uint64_t RankOfRow(uint64_t seed, uint64_t symbol_hash, int64_t row, int world_size) {
  return MixSeeds({seed, 2, symbol_hash, static_cast<uint64_t>(row)}) % static_cast<uint64_t>(world_size);
}

/// Scan the datasets' metadata and label columns (nothing else) and build this rank's index
/// (every rank's samples under natural sampling, whose plan deals batches to the ranks).
/// `options` must be valid, with its stride resolved (non-zero). A dataset that cannot be read
/// or is not a labeled dataset fails the build, named, or under lenient strictness is left
/// out and listed in `skipped`.
[[nodiscard]] Result<SampleIndex> BuildIndex(const LoaderOptions& options);

}  // namespace tickforge::loader::internal
