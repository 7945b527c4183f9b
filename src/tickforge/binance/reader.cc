// The chunked CSV reader: chunker -> parser (in parallel) -> batches, with line numbers.
#include "tickforge/binance/reader_internal.h"

#include <arrow/util/parallel.h>
#include <arrow/util/thread_pool.h>

#include <algorithm>
#include <deque>
#include <vector>

#include "tickforge/binance/chunker_internal.h"
#include "tickforge/binance/layout_internal.h"
#include "tickforge/binance/parser_internal.h"

namespace tickforge::binance {
namespace {

constexpr int64_t kDefaultBatchRows = ReadOptions{}.batch_rows;

class CsvReader : public arrow::RecordBatchReader {
 public:
  CsvReader(std::unique_ptr<ByteSource> source, Kind kind, std::string path, ReadOptions options)
      : chunker_(std::move(source)),
        kind_(kind),
        path_(std::move(path)),
        options_(options),
        schema_(NormalizedSchema(kind)) {
    if (options_.batch_rows <= 0) options_.batch_rows = kDefaultBatchRows;
  }

  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }

  Status ReadNext(std::shared_ptr<arrow::RecordBatch>* out) override {
    *out = nullptr;
    if (!error_.ok()) return error_;
    while (queue_.empty()) {
      if (done_) return Status::OK();
      Status status = ReadBlock();
      if (!status.ok()) {
        error_ = status;
        return status;
      }
    }
    *out = std::move(queue_.front());
    queue_.pop_front();
    return Status::OK();
  }

 private:
  Status ReadBlock() {
    ARROW_ASSIGN_OR_RAISE(std::string_view block, chunker_.Next());
    if (block.empty()) {
      if (chunker_.bytes_read() == 0) return InputError(path_, 0, "file is empty");
      done_ = true;
      return Status::OK();
    }
    if (!started_) {
      started_ = true;
      ARROW_RETURN_NOT_OK(SkipHeader(&block));
    }
    if (block.empty()) return Status::OK();  // a header alone so far: the next line decides
    if (columns_ == 0) ARROW_RETURN_NOT_OK(LearnColumns(block));
    return ParseBlock(block);
  }

  // Check and skip the file's header line, if it has one.
  Status SkipHeader(std::string_view* block) {
    const auto [line, rest] = SplitFirstLine(*block);
    auto header = HeaderColumns(line, kind_);
    if (!header.ok()) return InputLineError(path_, 1, "{}", header.status().message());
    if (*header == 0) return Status::OK();
    header_columns_ = *header;
    *block = rest;
    line_ = 1;
    return Status::OK();
  }

  // Learn the column count from the first data line (and check the header agrees).
  Status LearnColumns(std::string_view block) {
    auto columns = DataColumns(kind_, CountFields(SplitFirstLine(block).first));
    if (!columns.ok()) return InputLineError(path_, line_ + 1, "{}", columns.status().message());
    columns_ = *columns;
    if (header_columns_ > 0 && header_columns_ != columns_) {
      return InputLineError(path_, 1, "header has {} columns, expected {}", header_columns_, columns_);
    }
    return Status::OK();
  }

  Status ParseBlock(std::string_view block) {
    // A pool thread parses serially so a caller already running on the pool cannot deadlock it.
    auto* pool = arrow::internal::GetCpuThreadPool();
    const bool threads = options_.use_threads && !pool->OwnsThisThread();
    int pieces = 1;
    if (threads) {
      pieces = static_cast<int>(std::clamp<int64_t>(static_cast<int64_t>(block.size()) / kMinChunkBytes, 1,
                                                    std::max(1, pool->GetCapacity())));
    }
    const std::vector<std::string_view> chunks = SplitLines(block, pieces);
    std::vector<ParsedChunk> results(chunks.size());
    auto task = [&](int i) {
      results[static_cast<size_t>(i)] = ParseChunk(chunks[static_cast<size_t>(i)], kind_, columns_, schema_);
      return Status::OK();
    };
    ARROW_RETURN_NOT_OK(arrow::internal::OptionalParallelFor(threads && chunks.size() > 1,
                                                             static_cast<int>(chunks.size()), task));
    for (auto& r : results) {
      if (r.error) return InputLineError(path_, line_ + r.error->line + 1, "{}", r.error->message);
      line_ += r.lines;
      for (int64_t offset = 0; offset < r.batch->num_rows(); offset += options_.batch_rows) {
        queue_.push_back(r.batch->Slice(offset, options_.batch_rows));
      }
    }
    return Status::OK();
  }

  Chunker chunker_;
  Kind kind_;
  std::string path_;
  ReadOptions options_;
  std::shared_ptr<arrow::Schema> schema_;
  std::deque<std::shared_ptr<arrow::RecordBatch>> queue_;
  int64_t line_ = 0;  // lines consumed so far
  int64_t header_columns_ = 0;
  int columns_ = 0;
  bool started_ = false;
  bool done_ = false;
  Status error_;
};

}  // namespace

std::shared_ptr<arrow::RecordBatchReader> MakeCsvReader(std::unique_ptr<ByteSource> source, Kind kind,
                                                        std::string path, const ReadOptions& options) {
  return std::make_shared<CsvReader>(std::move(source), kind, std::move(path), options);
}

}  // namespace tickforge::binance
