#include "tickforge/loader/render_internal.h"

#include <unistd.h>

#include <algorithm>
#include <system_error>
#include <utility>

#include "tickforge/loader/window_internal.h"
#include "tickforge/loader/zscore_internal.h"
#include "tickforge/util/random.h"

namespace tickforge::loader::internal {

using features::BinCell;
using features::Book;

Status RenderBatch(const SampleIndex& index, const LoaderOptions& options, SegmentCache& cache, const uint32_t* plan,
                   Batch& batch, const ZScoreStats* zscore) {
  if (options.snapshots()) return RenderWindows(index, options, cache, plan, batch);
  if (options.normalization == Normalization::kZScore && zscore == nullptr) {
    return Status::Invalid("zscore normalization without statistics");
  }
  const auto& image = options.image;
  const auto scale =
      options.normalization == Normalization::kMaxAbs ? features::PlaneScale::kMaxAbs : features::PlaneScale::kNone;
  const int64_t floats = image.image_floats();
  const int64_t tpb = image.ticks_per_bin;
  const int64_t T = image.time_bins;
  const int64_t W = image.window_rows();
  const bool aligned = options.stride % tpb == 0;
  batch.size = options.batch_size;
  batch.features.resize(static_cast<size_t>(batch.size * floats));
  batch.labels.resize(static_cast<size_t>(batch.size));
  batch.symbols.resize(static_cast<size_t>(batch.size));
  batch.rows.resize(static_cast<size_t>(batch.size));
  batch.ts_event.resize(static_cast<size_t>(batch.size));
  batch.sequence.resize(static_cast<size_t>(batch.size));
  // The window's bins are read in place from the cached segments that hold them.
  std::vector<const BinCell*> columns(static_cast<size_t>(T));
  std::vector<const features::SortedBin*> sorted(static_cast<size_t>(T));  // on the bin grid
  std::vector<std::shared_ptr<const Segment>> held;
  std::vector<const Book*> books;
  std::vector<int64_t> starts;
  features::BinAggregates window_bins;  // reused by every off-grid window of the batch
  const bool want_trades =
      std::count(image.features.begin(), image.features.end(), features::Feature::kTradeCounts) > 0;
  // Raw segment c (rows [c·kRawSegmentRows, ...)) of a symbol's dataset, from the cache.
  const auto RawSegment = [&](int16_t symbol, int64_t c) -> Result<std::shared_ptr<const Segment>> {
    const auto& dataset = index.datasets[static_cast<size_t>(symbol)];
    const uint64_t key = MixSeeds({static_cast<uint64_t>(symbol), 1, static_cast<uint64_t>(c)});
    return cache.Get(key, ReadBytes(kRawSegmentRows), [&]() -> Result<std::shared_ptr<const Segment>> {
      const int64_t first = c * kRawSegmentRows;
      const int64_t end = std::min(dataset.rows, first + kRawSegmentRows);
      ARROW_ASSIGN_OR_RAISE(auto read, ReadBook(dataset.path, first, end));
      return MakeRawSegment(read, first, end - first, image, want_trades);
    });
  };
  // Point the window's columns (its last bin `last`) at `segment`'s bins from `bin` on, hold
  // the segment for the render, and return the next bin to find.
  const auto Take = [&](std::shared_ptr<const Segment> segment, int64_t bin, int64_t last, int64_t* mid) {
    const int64_t end = std::min(last, segment->first + segment->bins.bins() - 1);
    for (int64_t b = bin; b <= end; ++b) {
      columns[static_cast<size_t>(b - (last - T + 1))] = &segment->bins.at(b - segment->first, 0, 0);
      sorted[static_cast<size_t>(b - (last - T + 1))] = segment->sorted.at(b - segment->first);
    }
    if (end == last) *mid = segment->mids[static_cast<size_t>(last - segment->first)];
    held.push_back(std::move(segment));
    return end + 1;
  };
  // A window off the grid: its bins start at rows first_row + k·tpb, each looked up in the
  // sliding segment of the row group holding that start, or, for the one bin (at most) that
  // straddles two row groups, aggregated from the first one's tail rows and the second one's
  // head rows; not from 50,000 rows. Return false, leaving the window to the raw rows, where a
  // row group's prices are too wide for its offsets (or bins are longer than half a group).
  Status sliding_status;
  features::BinAggregates straddle;  // one bin
  std::vector<const Book*> edge_books(2);
  std::vector<int64_t> edge_starts(2);
  const auto SlidingWindow = [&](const Sample& sample, float* out) -> bool {
    if (2 * tpb > kSlideSegmentRows) return false;
    const auto& dataset = index.datasets[static_cast<size_t>(sample.symbol)];
    const int64_t first_row = sample.row - W + 1;
    held.clear();  // the window's segments, by row group from the first one's on
    const int64_t first_group = first_row / kSlideSegmentRows;
    // Return row group c's segment, or null with sliding_status set, or one without sliding bins.
    const auto Group = [&](int64_t c) -> const Segment* {
      while (static_cast<int64_t>(held.size()) <= c - first_group) {
        const int64_t g = first_group + static_cast<int64_t>(held.size());
        const uint64_t key = MixSeeds({static_cast<uint64_t>(sample.symbol), 3, static_cast<uint64_t>(g)});
        const int64_t first = g * kSlideSegmentRows;
        const int64_t rows = std::min(kSlideSegmentRows, dataset.rows - first);
        // The read's estimate covers the raw copy of its rows that SlideBins reads too: it allows
        // for two more row groups than the one decoded.
        auto segment = cache.Get(key, ReadBytes(kSlideSegmentRows),
                                 [&]() -> Result<std::shared_ptr<const Segment>> {
                                   ARROW_ASSIGN_OR_RAISE(auto read, ReadBook(dataset.path, first, first + rows));
                                   return MakeSlidingSegment(read, first, image);
                                 });
        if (!segment.ok()) {
          sliding_status = segment.status();
          return nullptr;
        }
        held.push_back(std::move(*segment));
      }
      return held[static_cast<size_t>(c - first_group)].get();
    };
    window_bins.cells.resize(static_cast<size_t>(T * 2 * features::kLevels));
    int64_t mid = 0;
    for (int64_t k = 0; k < T; ++k) {
      const int64_t start = first_row + k * tpb;
      const int64_t c = start / kSlideSegmentRows;
      const Segment* seg = Group(c);
      if (seg == nullptr) return true;
      if (!seg->sliding) return false;
      BinCell* cells = &window_bins.cells[static_cast<size_t>(k * 2 * features::kLevels)];
      const int64_t at = start - seg->first;
      if (at < static_cast<int64_t>(seg->mids.size())) {
        const auto i = static_cast<size_t>(at * 2 * features::kLevels);
        const float* variance = seg->slide_variance.empty() ? nullptr : &seg->slide_variance[i];
        const float* trades = seg->slide_trades.empty() ? nullptr : &seg->slide_trades[i];
        features::ExpandSlidingBin(&seg->slide_cells[i], variance, trades, seg->book.micro_pip_base, cells);
        if (k == T - 1) mid = seg->mids[static_cast<size_t>(at)];
        continue;
      }
      const Segment* next = Group(c + 1);
      if (next == nullptr) return true;
      if (!next->sliding) return false;
      edge_books = {&seg->tail->book, &next->head->book};
      edge_starts = {seg->tail->first, next->head->first};
      features::AggregateChunks(edge_books, edge_starts, start, 1, image, straddle);
      std::copy(straddle.cells.begin(), straddle.cells.end(), cells);
      if (k == T - 1) mid = next->head->mids[static_cast<size_t>(start + tpb - 1 - next->head->first)];
    }
    features::RenderFromBins(window_bins, T - 1, mid, image, out, scale);
    return true;
  };
  for (int64_t i = 0; i < batch.size; ++i) {
    const Sample& sample = index.samples[plan[i]];
    const auto& dataset = index.datasets[static_cast<size_t>(sample.symbol)];
    float* out = batch.features.data() + i * floats;
    if (aligned) {
      // The window is bins [last - T + 1, last] of the symbol's grid; gather them from segments.
      const int64_t last = (sample.row + 1) / tpb - 1;
      held.clear();
      int64_t mid = 0;
      for (int64_t bin = last - T + 1; bin <= last;) {
        const int64_t seg = bin / kBinsPerSegment;
        const uint64_t key = MixSeeds({static_cast<uint64_t>(sample.symbol), 0, static_cast<uint64_t>(seg)});
        ARROW_ASSIGN_OR_RAISE(auto segment, cache.Get(key, ReadBytes(kBinsPerSegment * tpb), [&]() -> Result<std::shared_ptr<const Segment>> {
          const int64_t first = seg * kBinsPerSegment;
          const int64_t bins = std::min(kBinsPerSegment, dataset.rows / tpb - first);
          ARROW_ASSIGN_OR_RAISE(auto read, ReadBook(dataset.path, first * tpb, (first + bins) * tpb));
          return MakeBinSegment(read, first, bins, image);
        }));
        bin = Take(std::move(segment), bin, last, &mid);
      }
      features::RenderFromBinPointers(columns.data(), mid, image, out, scale, sorted.data());
    } else if (SlidingWindow(sample, out)) {
      // Rendered from the bins of sliding segments, where their prices fit. shuffle='local'
      // draws a class's samples segment block by segment block, so its windows find them cached.
    } else {
      // Raw rows are cached in disjoint chunks (none held twice, unlike overlapping windows);
      // the window's bins are aggregated across the chunks it spans.
      const int64_t first_row = sample.row - W + 1;
      held.clear();
      books.clear();
      starts.clear();
      for (int64_t c = first_row / kRawSegmentRows; c <= sample.row / kRawSegmentRows; ++c) {
        ARROW_ASSIGN_OR_RAISE(auto segment, RawSegment(sample.symbol, c));
        books.push_back(&segment->book);
        starts.push_back(segment->first);
        held.push_back(std::move(segment));
      }
      features::AggregateChunks(books, starts, first_row, T, image, window_bins);
      const int64_t mid = held.back()->mids[static_cast<size_t>(sample.row - starts.back())];
      features::RenderFromBins(window_bins, T - 1, mid, image, out, scale);
    }
    ARROW_RETURN_NOT_OK(sliding_status);
    if (options.normalization == Normalization::kZScore) {
      ApplyZScore(*zscore, int64_t{features::kImageRows} * T, out);
    }
    batch.Describe(i, sample);
  }
  return Status::OK();
}

std::shared_ptr<Batch> BatchPool::Acquire() {
  Batch* batch = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      batch = free_.back().release();
      free_.pop_back();
    }
  }
  if (batch == nullptr) batch = new Batch();
  return std::shared_ptr<Batch>(batch, [pool = shared_from_this()](Batch* b) {
    std::lock_guard lock(pool->mutex_);
    pool->free_.emplace_back(b);
  });
}

Renderer::Renderer(const SampleIndex& index, const LoaderOptions& options, SegmentCache& cache,
                   const ZScoreStats* zscore)
    : index_(index),
      options_(options),
      cache_(cache),
      zscore_(zscore),
      class_counts_(static_cast<size_t>(index.num_classes), 0) {}

void Renderer::Start(std::vector<uint32_t> plan, int64_t first, int64_t step, int64_t epoch) {
  Stop();
  std::lock_guard lock(sync_->mutex);
  plan_ = std::move(plan);
  epoch_ = epoch;
  order_.clear();
  for (int64_t b = first; b < index_.batches_per_epoch; b += step) order_.push_back(b);
  next_job_ = next_out_ = 0;
  done_.clear();
  stopping_ = false;
  owner_pid_ = ::getpid();
  for (int i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { Work(); });
}

void Renderer::Work() {
  while (true) {
    size_t job;
    {
      std::unique_lock lock(sync_->mutex);
      sync_->changed.wait(lock, [this] {
        return stopping_ || next_job_ >= order_.size() ||
               next_job_ < next_out_ + static_cast<size_t>(options_.prefetch);
      });
      // Threads end with the epoch's last job, so none outlive an iteration (or a fork).
      if (stopping_ || next_job_ >= order_.size()) return;
      job = next_job_++;
    }
    auto batch = pool_->Acquire();
    batch->index = order_[job];
    batch->status = RenderBatch(index_, options_, cache_, plan_.data() + order_[job] * options_.batch_size, *batch,
                                zscore_);
    {
      std::lock_guard lock(sync_->mutex);
      done_[static_cast<int64_t>(job)] = std::move(batch);
    }
    sync_->changed.notify_all();
  }
}

Result<std::shared_ptr<Batch>> Renderer::Next() {
  std::shared_ptr<Batch> batch;
  {
    std::unique_lock lock(sync_->mutex);
    if (next_out_ >= order_.size()) return nullptr;
    sync_->changed.wait(lock, [this] { return done_.count(static_cast<int64_t>(next_out_)) > 0; });
    auto it = done_.find(static_cast<int64_t>(next_out_));
    batch = std::move(it->second);
    done_.erase(it);
    ++next_out_;
    if (batch->status.ok()) {
      for (int64_t label : batch->labels) ++class_counts_[static_cast<size_t>(label)];
      EpochCounts& counts = epoch_counts_[epoch_];
      if (counts.batches == 0) {
        counts.classes.assign(static_cast<size_t>(index_.num_classes), 0);
        counts.symbols.assign(index_.names.size(), 0);
      }
      ++counts.batches;
      for (int64_t label : batch->labels) ++counts.classes[static_cast<size_t>(label)];
      for (int32_t symbol : batch->symbols) ++counts.symbols[static_cast<size_t>(symbol)];
    }
  }
  sync_->changed.notify_all();
  if (!batch->status.ok()) return batch->status;
  return batch;
}

void Renderer::Stop() {
  if (owner_pid_ != 0 && owner_pid_ != ::getpid()) {
    // A forked child (a DataLoader worker) inherits the objects but not the threads: drop the
    // thread handles and the lock and condition they may still be parked on, unjoined.
    for (auto& worker : workers_) {
      try {
        worker.detach();
      } catch (const std::system_error&) {
      }
    }
    workers_.clear();
    (void)sync_.release();
    sync_ = std::make_unique<Sync>();
    owner_pid_ = 0;
    return;
  }
  {
    std::lock_guard lock(sync_->mutex);
    stopping_ = true;
  }
  sync_->changed.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
}

std::vector<int64_t> Renderer::class_counts() const {
  std::lock_guard lock(sync_->mutex);
  return class_counts_;
}

}  // namespace tickforge::loader::internal

namespace tickforge::loader::internal {

std::map<int64_t, EpochCounts> Renderer::epoch_counts() const {
  std::lock_guard lock(sync_->mutex);
  return epoch_counts_;
}

}  // namespace tickforge::loader::internal
