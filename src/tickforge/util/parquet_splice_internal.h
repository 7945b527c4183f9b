// The byte-level splice behind ParquetFile's copied row groups: the first row groups of an
// existing file are copied as bytes, new ones are written after them, and one footer lists
// both.
#pragma once

#include <arrow/buffer.h>
#include <arrow/io/interfaces.h>
#include <parquet/metadata.h>

#include <memory>
#include <string>

#include "tickforge/util/status.h"

namespace tickforge::internal {

/// Return the byte offset just past row group `count - 1` of a file with `metadata` (4, after
/// the leading magic, when `count` is 0). Fails unless the row groups lie in order, as a
/// Parquet writer lays them out.
[[nodiscard]] Result<int64_t> RowGroupsEnd(const parquet::FileMetaData& metadata, int count, const std::string& path);

/// Copy bytes [0, end) of `path` (its magic and first row groups) to `sink`.
[[nodiscard]] Status CopyFilePrefix(const std::string& path, int64_t end, arrow::io::OutputStream* sink);

/// The stream a Parquet writer writes through after a copied prefix of `base` bytes: it drops
/// the writer's leading magic (the prefix has one) and reports positions as offsets in the
/// whole file, so the writer's metadata points at the right bytes. After Capture() it holds
/// what the writer writes (its last row group's tail and its own footer) instead of passing
/// it on; Finish() then passes on the row-group bytes and writes a footer listing the copied
/// row groups before the new ones.
class SpliceStream : public arrow::io::OutputStream {
 public:
  SpliceStream(std::shared_ptr<arrow::io::OutputStream> sink, int64_t base) : sink_(std::move(sink)), base_(base) {}

  arrow::Status Write(const void* data, int64_t nbytes) override;
  using arrow::io::OutputStream::Write;
  arrow::Status Flush() override { return captured_ ? arrow::Status::OK() : sink_->Flush(); }
  // 0 before the writer's first write: Parquet's writer refuses to start anywhere else.
  arrow::Result<int64_t> Tell() const override { return received_ == 0 ? 0 : base_ - 4 + received_; }
  arrow::Status Close() override {
    closed_ = true;
    return arrow::Status::OK();
  }
  bool closed() const override { return closed_; }

  /// Hold everything written from now on (call before closing the Parquet writer).
  void Capture() { captured_ = true; }
  /// Write the held row-group bytes and a footer listing the first `count` row groups of
  /// `source` (the copied file's metadata) followed by those of `written` (the writer's).
  [[nodiscard]] Status Finish(const parquet::FileMetaData& source, int count, const parquet::FileMetaData& written);

 private:
  std::shared_ptr<arrow::io::OutputStream> sink_;
  int64_t base_;
  int64_t received_ = 0;
  bool captured_ = false;
  bool closed_ = false;
  std::string held_;
};

}  // namespace tickforge::internal
