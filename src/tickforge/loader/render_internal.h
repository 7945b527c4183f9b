// The loader's rendering (DESIGN.md §3.5): a batch's images from cached segments, and the
// threads that render an epoch's batches ahead of the consumer, handed out in order.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tickforge/loader/index_internal.h"
#include "tickforge/loader/loader.h"
#include "tickforge/loader/segment_cache_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::loader::internal {

struct ZScoreStats;

/// Render the batch of samples plan[0, batch_size) (indices into index.samples) into `batch`,
/// its buffers reused, from segments of `cache` (made there when absent), normalized as
/// options.normalization says (zscore with `zscore`, which it then needs).
[[nodiscard]] Status RenderBatch(const SampleIndex& index, const LoaderOptions& options, SegmentCache& cache,
                                 const uint32_t* plan, Batch& batch, const ZScoreStats* zscore = nullptr);

/// What the batches handed out of one epoch held.
struct EpochCounts {
  int64_t batches = 0;
  std::vector<int64_t> classes;  ///< samples per class
  std::vector<int64_t> symbols;  ///< samples per symbol (index.names)
};

/// Batches whose buffers went back to the pool when the consumer let go of them.
class BatchPool : public std::enable_shared_from_this<BatchPool> {
 public:
  /// Return a batch (buffers from a released one where there is one) that comes back to the
  /// pool when its last holder lets go.
  [[nodiscard]] std::shared_ptr<Batch> Acquire();

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<Batch>> free_;
};

/// Render threads for one epoch at a time: options.threads threads render the batches of a
/// plan, at most options.prefetch ahead of the consumer, which takes them in order.
class Renderer {
 public:
  /// `index`, `options`, `cache` and `zscore` (null unless options.normalization is zscore)
  /// must outlive the renderer.
  Renderer(const SampleIndex& index, const LoaderOptions& options, SegmentCache& cache,
           const ZScoreStats* zscore = nullptr);
  ~Renderer() { Stop(); }
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  /// Render the batches first, first + step, ... of `plan` (PlanEpoch's of `epoch`); Stop() first.
  void Start(std::vector<uint32_t> plan, int64_t first, int64_t step, int64_t epoch = 0);
  /// Return the next batch in order, or nullptr after the last.
  [[nodiscard]] Result<std::shared_ptr<Batch>> Next();
  /// Stop the threads. Safe in a forked child, where the parent's threads do not exist: they
  /// are abandoned rather than joined.
  void Stop();
  /// Return how many samples of each class the batches handed out so far held.
  [[nodiscard]] std::vector<int64_t> class_counts() const;
  /// Return what the batches handed out held, per epoch.
  [[nodiscard]] std::map<int64_t, EpochCounts> epoch_counts() const;

 private:
  void Work();

  const SampleIndex& index_;
  const LoaderOptions& options_;
  SegmentCache& cache_;
  const ZScoreStats* zscore_;
  std::shared_ptr<BatchPool> pool_ = std::make_shared<BatchPool>();

  // The running epoch. The lock and condition live behind a pointer so a forked child can
  // abandon the ones it inherited (their state refers to the parent's threads).
  struct Sync {
    std::mutex mutex;
    std::condition_variable changed;
  };
  std::unique_ptr<Sync> sync_ = std::make_unique<Sync>();
  std::vector<uint32_t> plan_;                   // PlanEpoch of the running epoch
  std::vector<int64_t> order_;                   // batch indices to render, in order
  size_t next_job_ = 0;                          // next position in order_ to render
  size_t next_out_ = 0;                          // next position in order_ to hand out
  std::map<int64_t, std::shared_ptr<Batch>> done_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
  int owner_pid_ = 0;  // the process whose threads workers_ holds
  std::vector<int64_t> class_counts_;
  int64_t epoch_ = 0;
  std::map<int64_t, EpochCounts> epoch_counts_;
};

}  // namespace tickforge::loader::internal
