// The lazy, class-uniform loader of depth images (DESIGN.md §3.5, options §3.8 and
// docs/loader.md): a light index of labeled
// samples, a seeded plan per epoch, and a pool of threads that render batches ahead of the
// consumer from an LRU cache of per-bin aggregates (or raw rows) under a byte budget.
//
// Its pieces, each in its own file with its internals in *_internal.h: index (datasets found,
// samples, splits, rank shards), plan (each epoch's batches), segment_cache (the byte-budgeted
// cache), render (a batch's images and the threads rendering ahead), read (dataset reads),
// zscore (normalization statistics of the training split).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/features/depth_image.h"
#include "tickforge/util/status.h"

namespace tickforge::loader {

/// How each image plane is scaled (DESIGN.md §3.8).
enum class Normalization {
  kMaxAbs,  ///< divided by its max |value| (§3.4), the prototype's
  kNone,    ///< the combined cumulative grid as is
  kZScore,  ///< (raw - mean) / std per plane (images) or column (snapshots), training split's
  kZScore5d,  ///< snapshots: each day z-scored with the previous 5 days' statistics
};

/// Which samples make up an epoch's batches (DESIGN.md §3.8).
enum class Sampling {
  kClassUniform,        ///< floor(B/C) per class per batch, remainder seeded (§3.5)
  kNatural,             ///< each sample once per epoch in a seeded order, over all ranks together
  kClassSymbolUniform,  ///< class-uniform, and each class's share spread evenly over its symbols
};

/// What a dataset that cannot be read or has the wrong schema does at construction.
enum class Strictness {
  kStrict,   ///< fails the construction, naming the file
  kLenient,  ///< is skipped and listed in the report
};

struct LoaderOptions {
  std::string parquet_dir;
  /// The labeled dataset files to read instead of parquet_dir's (a store snapshot's, listed).
  std::vector<std::string> dataset_files;
  int64_t batch_size = 32;
  features::ImageOptions image;
  bool shuffle = true;
  /// Shuffle by cache segment: a class's samples are drawn segment block after segment block
  /// (blocks and samples within them shuffled), so batches touch few segments at a time. Use
  /// when the data does not fit cache_bytes; batches then mix fewer distinct time periods.
  bool locality = false;
  double sample_fraction = 1.0;
  std::vector<std::string> symbols;  ///< empty: every dataset in parquet_dir
  uint64_t seed = 0;
  std::string split;                 ///< "", "train", "val" or "test"
  std::array<double, 3> split_fractions = {0.7, 0.15, 0.15};
  int64_t stride = 0;                ///< 0: ticks_per_bin
  int rank = 0;
  int world_size = 1;
  int64_t cache_bytes = int64_t{1} << 30;
  int threads = 2;
  int prefetch = 4;
  /// Depth images: max_abs, none or zscore; snapshots: zscore, zscore_5d or none.
  Normalization normalization = Normalization::kMaxAbs;
  /// A zscore statistics file to use instead of the one stored beside the datasets.
  std::string normalization_stats;
  /// Where statistics fit on the training split are kept (zscore, snapshot windows), for the
  /// loaders of other splits to read. Empty: parquet_dir, else the first dataset file's folder
  /// (a store snapshot's loader keeps them in STORE/_tickforge/stats/DATASET).
  std::string stats_dir;
  /// At most this many training samples (evenly spaced) are rendered to fit zscore statistics.
  int64_t normalization_samples = 4096;
  Sampling sampling = Sampling::kClassUniform;
  Strictness strictness = Strictness::kStrict;
  /// "depth_image" (DESIGN.md §3.4) or "snapshots" (§3.7: the last `window` book rows as a
  /// (window, 4·levels) matrix, docs/loader.md "Book windows").
  std::string representation = "depth_image";
  int64_t window = 100;              ///< snapshots: T, rows per window
  int levels = 10;                   ///< snapshots: L, book levels per row (1..10)
  std::string label_column;          ///< the label served; empty: classification_label
  bool channel_dim = false;          ///< snapshots: batches (B, 1, T, 4·L), DeepLOB's input
  /// The keys the caller set (ApplyLoaderJson records them): an image key left unset takes
  /// what the datasets record (micro_pip_size).
  std::set<std::string> explicit_keys;

  [[nodiscard]] Status Validate() const;
  [[nodiscard]] bool snapshots() const { return representation == "snapshots"; }
  /// Return the folder statistics are kept in (stats_dir's rule).
  [[nodiscard]] std::string StatsDir() const;
  /// Return the floats of one sample: image_floats(), or window · 4 · levels.
  [[nodiscard]] int64_t sample_floats() const {
    return snapshots() ? window * 4 * levels : image.image_floats();
  }
  /// Return the rows a sample's features read (W): the image's window_rows(), or window.
  [[nodiscard]] int64_t feature_rows() const { return snapshots() ? window : image.window_rows(); }
};

/// One sample: a labeled row whose window of W rows lies inside its symbol's dataset. 24 bytes:
/// an epoch at stride 1 indexes every row of every dataset.
struct Sample {
  int64_t row;
  int64_t ts_event;
  uint32_t sequence;
  int16_t symbol;  ///< index into symbol_names()
  uint8_t label;
};
static_assert(sizeof(Sample) == 24);

/// A rendered batch. The buffers are owned by the loader's pool until released.
struct Batch {
  int64_t index = 0;
  int64_t size = 0;
  std::vector<float> features;    ///< size × sample_floats()
  std::vector<int64_t> labels;    ///< size
  std::vector<int32_t> symbols;   ///< size
  std::vector<int64_t> rows;      ///< size
  std::vector<int64_t> ts_event;  ///< size
  std::vector<uint32_t> sequence; ///< size
  Status status;

  /// Record which sample slot `i` holds (its label and where it comes from).
  void Describe(int64_t i, const Sample& sample) {
    const auto at = static_cast<size_t>(i);
    labels[at] = sample.label;
    symbols[at] = sample.symbol;
    rows[at] = sample.row;
    ts_event[at] = sample.ts_event;
    sequence[at] = sample.sequence;
  }
};

struct CacheStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t bytes = 0;
  int64_t entries = 0;
  int64_t evictions = 0;
};

class Loader {
 public:
  /// Scan the datasets' metadata and labels (nothing else) and build the sample index.
  [[nodiscard]] static Result<std::unique_ptr<Loader>> Open(LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// Return the number of batches per epoch (the same on every rank).
  [[nodiscard]] int64_t batches_per_epoch() const;
  [[nodiscard]] const std::vector<std::string>& symbol_names() const;
  [[nodiscard]] int num_classes() const;
  [[nodiscard]] int64_t num_samples() const;
  [[nodiscard]] const std::vector<Sample>& samples() const;
  /// Return the options in effect: stride resolved, prefetch as the budget allows.
  [[nodiscard]] const LoaderOptions& options() const;

  /// Plan `epoch` and start rendering from batch `first` on, every `step`-th batch.
  [[nodiscard]] Status Start(int64_t epoch, int64_t first = 0, int64_t step = 1);
  /// Return the next batch in order, or nullptr at the end of the epoch.
  [[nodiscard]] Result<std::shared_ptr<Batch>> Next();
  /// Return the samples of batch `index` of `epoch` (the plan, without rendering).
  [[nodiscard]] std::vector<Sample> PlanBatch(int64_t epoch, int64_t index) const;

  /// Stop the render threads (the next Start() restarts them). Safe in a forked child, where
  /// the parent's threads do not exist: they are abandoned rather than joined.
  void Stop();

  [[nodiscard]] CacheStats cache_stats() const;
  /// Return how many samples of each class the batches handed out so far held.
  [[nodiscard]] std::vector<int64_t> class_counts() const;
  /// Return the loader's report: per epoch the class distribution handed out against the
  /// sampling's target and the samples per symbol, the index's samples per symbol, the cache
  /// statistics, the datasets skipped (lenient) and the normalization in effect.
  [[nodiscard]] nlohmann::ordered_json Report() const;

 private:
  struct Impl;
  explicit Loader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickforge::loader
