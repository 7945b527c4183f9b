#include "tickforge/util/prefetch.h"

namespace tickforge {

BatchPrefetcher::BatchPrefetcher(std::shared_ptr<arrow::RecordBatchReader> reader, size_t depth,
                                 std::function<int64_t()> position, int64_t max_rows)
    : reader_(std::move(reader)), depth_(depth == 0 ? 1 : depth), sample_(std::move(position)), max_rows_(max_rows) {
  thread_ = std::thread([this] { Run(); });
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void BatchPrefetcher::Run() {
  while (true) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] {
        return stop_ || (ready_.size() < depth_ && (max_rows_ <= 0 || ready_rows_ < max_rows_));
      });
      if (stop_) return;
    }
    std::shared_ptr<arrow::RecordBatch> batch;
    Status status = reader_->ReadNext(&batch);
    const int64_t position = sample_ ? sample_() : 0;
    const bool last = !status.ok() || batch == nullptr;
    {
      std::lock_guard lock(mutex_);
      if (status.ok()) {
        if (batch) ready_rows_ += batch->num_rows();
        ready_.push_back(Item{std::move(batch), position});
      } else {
        ready_.push_back(Item{std::move(status), position});
      }
    }
    changed_.notify_all();
    if (last) return;
  }
}

Result<std::shared_ptr<arrow::RecordBatch>> BatchPrefetcher::Next() {
  std::unique_lock lock(mutex_);
  if (finished_) return nullptr;
  changed_.wait(lock, [this] { return !ready_.empty(); });
  Item item = std::move(ready_.front());
  ready_.pop_front();
  if (item.batch.ok() && *item.batch) ready_rows_ -= (*item.batch)->num_rows();
  lock.unlock();
  changed_.notify_all();
  position_ = item.position;
  if (!item.batch.ok() || *item.batch == nullptr) finished_ = true;
  return std::move(item.batch);
}

}  // namespace tickforge
