#include "tickforge/util/progress.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <numeric>
#include <utility>

namespace tickforge {

ProgressReporter::ProgressReporter(ProgressFn fn, std::chrono::nanoseconds interval)
    : fn_(std::move(fn)), interval_(interval) {}

Status ProgressReporter::Begin(std::string stage, int64_t files_total, int64_t rows_total, int64_t bytes_total) {
  if (!fn_) return Status::OK();
  std::lock_guard<std::mutex> lock(mutex_);
  stage_ = std::move(stage);
  counts_ = ProgressUpdate{};
  counts_.files_total = files_total;
  counts_.rows_total = rows_total;
  counts_.bytes_total = bytes_total;
  start_ = std::chrono::steady_clock::now();
  return ReportLocked(/*force=*/true, /*final=*/false);
}

Status ProgressReporter::Add(int64_t rows, int64_t bytes, int64_t files) {
  if (!fn_) return Status::OK();
  std::lock_guard<std::mutex> lock(mutex_);
  counts_.rows_done += rows;
  counts_.bytes_done += bytes;
  counts_.files_done += files;
  return ReportLocked(false, false);
}

Status ProgressReporter::SetBytes(int64_t bytes_done) {
  if (!fn_) return Status::OK();
  std::lock_guard<std::mutex> lock(mutex_);
  counts_.bytes_done = std::max(counts_.bytes_done, bytes_done);
  return ReportLocked(false, false);
}

Status ProgressReporter::End() {
  if (!fn_) return Status::OK();
  std::lock_guard<std::mutex> lock(mutex_);
  if (counts_.files_total < 0) counts_.files_total = counts_.files_done;
  if (counts_.rows_total < 0) counts_.rows_total = counts_.rows_done;
  if (counts_.bytes_total < 0) counts_.bytes_total = counts_.bytes_done;
  return ReportLocked(true, true);
}

Status ProgressReporter::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

ByteProgressFn ProgressReporter::ForFile(int64_t base) {
  if (!fn_) return {};
  return [this, base](int64_t done, int64_t) { (void)SetBytes(base + done); };
}

Status ProgressReporter::ReportLocked(bool force, bool final) {
  if (!status_.ok()) return status_;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_ < interval_) return Status::OK();
  last_ = now;
  ProgressUpdate update = counts_;
  update.stage = stage_;
  update.seconds = std::chrono::duration<double>(now - start_).count();
  update.final = final;
  // An exception must not unwind through the work (its threads, its half-written files): it
  // becomes a status the work returns at this report.
  try {
    fn_(update);
  } catch (const std::exception& e) {
    status_ = Status::Cancelled("progress callback raised: ", e.what());
  } catch (...) {
    status_ = Status::Cancelled("progress callback raised");
  }
  return status_;
}

namespace {

class ReportingReader : public arrow::RecordBatchReader {
 public:
  ReportingReader(std::shared_ptr<arrow::RecordBatchReader> reader, ProgressReporter* progress, int64_t bytes)
      : reader_(std::move(reader)), progress_(progress), bytes_(bytes) {}

  std::shared_ptr<arrow::Schema> schema() const override { return reader_->schema(); }

  Status ReadNext(std::shared_ptr<arrow::RecordBatch>* out) override {
    ARROW_RETURN_NOT_OK(reader_->ReadNext(out));
    if (*out) return progress_->Add((*out)->num_rows());
    if (!done_) {
      done_ = true;
      return progress_->Add(0, bytes_, 1);
    }
    return Status::OK();
  }

  Status Close() override { return reader_->Close(); }

 private:
  std::shared_ptr<arrow::RecordBatchReader> reader_;
  ProgressReporter* progress_;
  int64_t bytes_;
  bool done_ = false;
};

}  // namespace

std::vector<int64_t> FileSizes(const std::vector<std::string>& paths) {
  std::vector<int64_t> sizes;
  sizes.reserve(paths.size());
  for (const auto& path : paths) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    sizes.push_back(ec ? 0 : static_cast<int64_t>(size));
  }
  return sizes;
}

std::shared_ptr<arrow::RecordBatchReader> ReportRows(std::shared_ptr<arrow::RecordBatchReader> reader,
                                                     ProgressReporter* progress, int64_t bytes) {
  if (progress == nullptr || !progress->enabled()) return reader;
  return std::make_shared<ReportingReader>(std::move(reader), progress, bytes);
}

}  // namespace tickforge
