// Read record batches on a background thread, a bounded number ahead of the consumer, so
// producing a batch (decoding) overlaps with consuming the previous one (encoding).
#pragma once

#include <arrow/record_batch.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "tickforge/util/status.h"

namespace tickforge {

class BatchPrefetcher {
 public:
  /// Start reading `reader` at once, keeping at most `depth` batches ready, and, when
  /// `max_rows` > 0, reading no further once the ready batches hold that many rows. `position`,
  /// if given, is sampled on the reading thread after each batch (e.g. bytes of input consumed).
  BatchPrefetcher(std::shared_ptr<arrow::RecordBatchReader> reader, size_t depth,
                  std::function<int64_t()> position = {}, int64_t max_rows = 0);
  /// Stop reading and join the thread; batches not taken are dropped.
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  /// Return the next batch, nullptr at the end, or the reader's error.
  [[nodiscard]] Result<std::shared_ptr<arrow::RecordBatch>> Next();
  /// Return `position` as sampled after the batch Next() returned last.
  [[nodiscard]] int64_t position() const { return position_; }

 private:
  struct Item {
    Result<std::shared_ptr<arrow::RecordBatch>> batch;
    int64_t position;
  };
  void Run();

  std::shared_ptr<arrow::RecordBatchReader> reader_;
  size_t depth_;
  std::function<int64_t()> sample_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> ready_;
  int64_t max_rows_ = 0;
  int64_t ready_rows_ = 0;
  bool stop_ = false;
  bool finished_ = false;
  int64_t position_ = 0;
  std::thread thread_;
};

}  // namespace tickforge
