// The loader's cache (DESIGN.md §3.5): per-bin aggregates (for windows on the bin grid), sliding
// bins (for other windows) or raw rows (where sliding bins cannot be used), by symbol and
// segment, least recently used first out once over the byte budget.
#pragma once

#include <sys/mman.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tickforge/dataset/dataset.h"
#include "tickforge/features/render_bins.h"
#include "tickforge/features/sliding_bins.h"
#include "tickforge/loader/loader.h"
#include "tickforge/loader/read_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::loader::internal {

/// Bins per aggregates segment: 51,200 rows at 100 a bin, so the read to build one stays small.
inline constexpr int64_t kBinsPerSegment = 512;
/// Rows per raw segment: one row group of the dataset, the least a read decodes.
inline constexpr int64_t kRawSegmentRows = dataset::kRowGroupRows;
/// The bytes of one row of book columns, decoded.
inline constexpr int64_t kBookRowBytes = 2 * features::kLevels * (8 + 4 + 4);

/// Estimate the memory a read of `rows` book rows takes while it lasts: the row groups it
/// touches (up to two more than the rows fill), decoded, plus half again for the reader's
/// buffers (as measured on label build's datasets).
constexpr int64_t ReadBytes(int64_t rows) { return (rows + 2 * kRawSegmentRows) * kBookRowBytes * 3 / 2; }

/// Allocates straight from the system (mmap) and gives back on free (munmap). Raw segments come
/// and go by the thousand when the data exceeds the cache; glibc's heap kept tens of MiB of
/// them per thread arena after they were freed, memory that cache_bytes could not account for.
template <typename T>
struct MappedAllocator {
  using value_type = T;
  MappedAllocator() = default;
  template <typename U>
  MappedAllocator(const MappedAllocator<U>&) {}
  T* allocate(size_t n) {
    void* p = ::mmap(nullptr, n * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) { ::munmap(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const MappedAllocator<U>&) const {
    return true;
  }
};
template <typename T>
using MappedVector = std::vector<T, MappedAllocator<T>>;

/// One cached piece of a symbol's rows.
struct Segment {
  int64_t first = 0;                 ///< first bin (aggregates), start row (sliding) or row (raw)
  features::BinAggregates bins;      ///< aggregates segments
  features::SortedBins sorted;       ///< aggregates segments: their bins' levels sorted
  MappedVector<int64_t> mids;        ///< mid of each bin's last row (aggregates, sliding) or each row (raw)
  features::Book book;
  /// Raw segments own compact copies of their rows: a slice of the Parquet read would keep
  /// whole row groups (and every column chunk's buffers) alive, beyond the bytes accounted.
  MappedVector<int32_t> offsets;     ///< prices as micro-pip offsets, or where they do not fit:
  MappedVector<int64_t> prices;      ///< prices in fixed point
  MappedVector<uint32_t> counts;     ///< sizes and (when rendered) trade counts
  MappedVector<float> window_rows;   ///< snapshots: each row's 4·levels normalized cells
  /// Sliding segments: per start row, its bin's cells (features::SlideBins) and, where
  /// rendered, variance and trade counts; prices as offsets from book.micro_pip_base. Empty
  /// where the rows' prices span too wide a range for int32 offsets (sliding is false).
  bool sliding = false;
  MappedVector<features::SlidingCell> slide_cells;
  MappedVector<float> slide_variance, slide_trades;
  std::shared_ptr<const Segment> head, tail;  ///< raw: the first and last tpb - 1 rows
  int64_t bytes = 0;                 ///< what the segment holds, as the budget counts it
};

/// Make an aggregates segment: bins [first, first + bins) of the grid, from rows read from the
/// first bin's first row on. The rows go once the aggregates are made.
[[nodiscard]] std::shared_ptr<Segment> MakeBinSegment(const ChunkedBook& read, int64_t first, int64_t bins,
                                                      const features::ImageOptions& image);

/// Make a raw segment: compact copies of the n rows read from row `first` on, prices as int32
/// micro-pip offsets (rounded once, half the bytes each window reads) unless the segment's
/// price range is too wide for them, trade counts only when rendered.
[[nodiscard]] std::shared_ptr<Segment> MakeRawSegment(const ChunkedBook& read, int64_t first, int64_t n,
                                                      const features::ImageOptions& image, bool want_trades);

/// Rows per sliding segment: one row group, the least a read decodes.
inline constexpr int64_t kSlideSegmentRows = dataset::kRowGroupRows;

/// Make a sliding segment from `read`, the n rows of one row group from row `first` on: the
/// aggregates of the bins wholly inside it (starting at rows first..first + n - tpb), each
/// bin's mid (of its last row) in mids, for windows off the bin grid to look their bins up;
/// and compact raw copies of its first and last tpb - 1 rows (head, tail), from which a bin
/// that straddles two row groups is aggregated (this one's tail, the next one's head) without
/// decoding the next row group. Where the rows' micro-pip prices do not fit int32 offsets it
/// holds nothing and sliding is false.
[[nodiscard]] std::shared_ptr<Segment> MakeSlidingSegment(const ChunkedBook& read, int64_t first,
                                                          const features::ImageOptions& image);

/// Segments by key under a byte budget, shared by the render threads.
class SegmentCache {
 public:
  explicit SegmentCache(int64_t budget) : budget_(budget) {}

  /// Return the segment under `key`, made by `make` when absent. While it is made, the
  /// `read_bytes` its read decodes count against the budget too: least recently used segments
  /// make room for them, and have it back once the read is done. Reads that together would
  /// exceed the budget take turns.
  template <typename Make>
  Result<std::shared_ptr<const Segment>> Get(uint64_t key, int64_t read_bytes, Make&& make) {
    {
      std::unique_lock lock(mutex_);
      if (auto it = index_.find(key); it != index_.end()) {
        order_.splice(order_.begin(), order_, it->second);
        ++stats_.hits;
        return it->second->second;
      }
      ++stats_.misses;
      read_done_.wait(lock, [&] { return reading_ == 0 || reading_ + read_bytes <= budget_; });
      reading_ += read_bytes;
      Evict(0);
    }
    auto made = make();
    std::unique_lock lock(mutex_);
    reading_ -= read_bytes;
    read_done_.notify_all();
    if (!made.ok()) return made.status();
    if (auto it = index_.find(key); it != index_.end()) return it->second->second;  // built twice
    // Counted while alive, in the cache or not: a renderer may still hold an evicted segment.
    const Segment* raw = made->get();
    live_ += raw->bytes;
    std::shared_ptr<const Segment> segment(raw, [this, owner = std::move(*made)](const Segment*) mutable {
      live_ -= owner->bytes;
      owner.reset();
    });
    order_.emplace_front(key, segment);
    index_[key] = order_.begin();
    stats_.bytes += segment->bytes;
    ++stats_.entries;
    Evict(1);  // never the segment just made
    return segment;
  }

  /// Return the segment under `key` (counted as a hit), or null when absent (not counted: a
  /// caller then gathers what making it needs and calls Get).
  [[nodiscard]] std::shared_ptr<const Segment> Find(uint64_t key) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    ++stats_.hits;
    return it->second->second;
  }

  [[nodiscard]] CacheStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }
  /// Return the bytes of the segments alive, in the cache or held by a renderer.
  [[nodiscard]] int64_t live_bytes() const { return live_; }
  [[nodiscard]] int64_t budget() const { return budget_; }

 private:
  using Entry = std::pair<uint64_t, std::shared_ptr<const Segment>>;

  // Drop least recently used segments while the live ones and the reads in progress are over
  // the budget, keeping at least `keep`.
  void Evict(size_t keep);

  mutable std::mutex mutex_;
  std::condition_variable read_done_;
  int64_t budget_;
  int64_t reading_ = 0;             // bytes the reads in progress decode
  std::atomic<int64_t> live_ = 0;  // bytes of the segments alive
  std::list<Entry> order_;
  std::unordered_map<uint64_t, std::list<Entry>::iterator> index_;
  CacheStats stats_;
};

}  // namespace tickforge::loader::internal
