// The symbol row order's two readers (see symbol_order_internal.h).
#include "tickforge/panel/symbol_order_internal.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "tickforge/panel/source_stream_internal.h"

namespace tickforge::panel {
namespace {

// Each input in turn.
class SymbolOrderReader : public arrow::RecordBatchReader {
 public:
  SymbolOrderReader(std::shared_ptr<const Plan> plan, bool use_threads)
      : plan_(std::move(plan)), use_threads_(use_threads) {}
  std::shared_ptr<arrow::Schema> schema() const override { return plan_->schema; }
  Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    while (true) {
      if (!stream_) {
        if (next_ == plan_->sources.size()) {
          *batch = nullptr;
          return Status::OK();
        }
        stream_ = std::make_unique<SourceStream>(plan_, next_++, plan_->options.batch_rows, false, use_threads_);
      }
      ARROW_ASSIGN_OR_RAISE(auto out, stream_->Next());
      if (out) {
        *batch = std::move(out->batch);
        return Status::OK();
      }
      stream_.reset();
    }
  }

 private:
  std::shared_ptr<const Plan> plan_;
  bool use_threads_;
  size_t next_ = 0;
  std::unique_ptr<SourceStream> stream_;
};

// Symbol order over Parquet inputs: worker threads read and normalize the next few symbols
// while the consumer takes the current one, so decoding runs on all cores and in order. A
// symbol larger than the read-ahead budget is streamed by the consumer instead.
class ReadAheadReader : public arrow::RecordBatchReader {
 public:
  ReadAheadReader(std::shared_ptr<const Plan> plan, int workers, int64_t symbol_bytes)
      : plan_(std::move(plan)), slots_(plan_->sources.size()), window_(static_cast<size_t>(workers) + 1) {
    for (size_t i = 0; i < slots_.size(); ++i) slots_[i].preload = plan_->sources[i]->bytes <= symbol_bytes;
    for (int w = 0; w < workers; ++w) threads_.emplace_back([this] { Work(); });
  }

  ~ReadAheadReader() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    for (auto& thread : threads_) thread.join();
  }

  std::shared_ptr<arrow::Schema> schema() const override { return plan_->schema; }

  Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override {
    while (true) {
      if (!current_.empty()) {
        *batch = std::move(current_.front());
        current_.pop_front();
        return Status::OK();
      }
      if (stream_) {
        ARROW_ASSIGN_OR_RAISE(auto next, stream_->Next());
        if (next) {
          *batch = std::move(next->batch);
          return Status::OK();
        }
        stream_.reset();
        Advance();
        continue;
      }
      if (emit_ == slots_.size()) {
        *batch = nullptr;
        return Status::OK();
      }
      Slot& slot = slots_[emit_];
      if (!slot.preload) {
        stream_ = std::make_unique<SourceStream>(plan_, emit_, plan_->options.batch_rows, false, true);
        continue;
      }
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return slot.done; });
      ARROW_RETURN_NOT_OK(slot.status);
      current_ = std::move(slot.batches);
      lock.unlock();
      Advance();
    }
  }

 private:
  struct Slot {
    bool preload = false;
    bool taken = false;
    bool done = false;
    Status status;
    std::deque<std::shared_ptr<arrow::RecordBatch>> batches;
  };

  void Advance() {
    {
      std::lock_guard lock(mutex_);
      ++emit_;
    }
    changed_.notify_all();
  }

  // Takes the next symbol to preload within the window; false when stopping or done.
  bool Take(size_t* index) {
    std::unique_lock lock(mutex_);
    while (true) {
      if (stop_) return false;
      while (next_ < slots_.size() && !slots_[next_].preload) ++next_;
      if (next_ == slots_.size()) return false;
      if (next_ < emit_ + window_) {
        *index = next_++;
        slots_[*index].taken = true;
        return true;
      }
      changed_.wait(lock);
    }
  }

  void Work() {
    size_t index;
    while (Take(&index)) {
      std::deque<std::shared_ptr<arrow::RecordBatch>> batches;
      // One symbol per worker: decoding inside it stays on this thread.
      SourceStream stream(plan_, index, plan_->options.batch_rows, false, false);
      Status status;
      while (true) {
        auto next = stream.Next();
        if (!next.ok()) {
          status = next.status();
          break;
        }
        if (!*next) break;
        batches.push_back(std::move((*next)->batch));
      }
      {
        std::lock_guard lock(mutex_);
        Slot& slot = slots_[index];
        slot.status = std::move(status);
        slot.batches = std::move(batches);
        slot.done = true;
      }
      changed_.notify_all();
    }
  }

  std::shared_ptr<const Plan> plan_;
  std::vector<Slot> slots_;
  size_t window_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stop_ = false;
  size_t next_ = 0;  // next symbol a worker takes
  size_t emit_ = 0;  // symbol the consumer is on
  std::deque<std::shared_ptr<arrow::RecordBatch>> current_;
  std::unique_ptr<SourceStream> stream_;
  std::vector<std::thread> threads_;
};

}  // namespace

std::shared_ptr<arrow::RecordBatchReader> MakeSymbolOrderReader(std::shared_ptr<const Plan> plan, bool use_threads) {
  return std::make_shared<SymbolOrderReader>(std::move(plan), use_threads);
}

std::shared_ptr<arrow::RecordBatchReader> MakeReadAheadReader(std::shared_ptr<const Plan> plan, int workers,
                                                              int64_t symbol_bytes) {
  return std::make_shared<ReadAheadReader>(std::move(plan), workers, symbol_bytes);
}

}  // namespace tickforge::panel
