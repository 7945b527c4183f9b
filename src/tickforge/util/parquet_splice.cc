#include <arrow/io/file.h>
#include <parquet/exception.h>
#include <parquet/file_writer.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "tickforge/util/parquet_splice_internal.h"

namespace tickforge::internal {

namespace {

constexpr char kMagic[] = "PAR1";
constexpr int64_t kCopyChunk = 8 << 20;

// Where a column chunk's bytes start: its dictionary page when it has one.
int64_t ChunkStart(const parquet::ColumnChunkMetaData& chunk) {
  return chunk.has_dictionary_page() ? chunk.dictionary_page_offset() : chunk.data_page_offset();
}

}  // namespace

Result<int64_t> RowGroupsEnd(const parquet::FileMetaData& metadata, int count, const std::string& path) {
  if (count > metadata.num_row_groups()) {
    return Status::Invalid(path, ": has ", metadata.num_row_groups(), " row groups, not ", count);
  }
  int64_t end = 4;
  for (int g = 0; g < count; ++g) {
    const auto group = metadata.RowGroup(g);
    int64_t lo = std::numeric_limits<int64_t>::max(), hi = end;
    for (int c = 0; c < group->num_columns(); ++c) {
      const auto chunk = group->ColumnChunk(c);
      lo = std::min(lo, ChunkStart(*chunk));
      hi = std::max(hi, ChunkStart(*chunk) + chunk->total_compressed_size());
    }
    if (lo < end) return Status::Invalid(path, ": row group ", g, " starts before the end of the one before it");
    end = hi;
  }
  return end;
}

Status CopyFilePrefix(const std::string& path, int64_t end, arrow::io::OutputStream* sink) {
  auto opened = arrow::io::ReadableFile::Open(path);
  if (!opened.ok()) return WithPath(opened.status(), path);
  const auto file = *opened;
  for (int64_t at = 0; at < end;) {
    auto chunk = file->ReadAt(at, std::min(kCopyChunk, end - at));
    if (!chunk.ok()) return WithPath(chunk.status(), path);
    if ((*chunk)->size() == 0) return Status::IOError(path, ": ends at byte ", at, " inside its row groups");
    ARROW_RETURN_NOT_OK(sink->Write(*chunk));
    at += (*chunk)->size();
  }
  return WithPath(file->Close(), path);
}

arrow::Status SpliceStream::Write(const void* data, int64_t nbytes) {
  const auto* bytes = static_cast<const char*>(data);
  // The writer's own leading magic: the copied prefix starts with one already.
  const int64_t skip = std::clamp<int64_t>(4 - received_, 0, nbytes);
  received_ += nbytes;
  bytes += skip;
  nbytes -= skip;
  if (nbytes == 0) return arrow::Status::OK();
  if (captured_) {
    held_.append(bytes, static_cast<size_t>(nbytes));
    return arrow::Status::OK();
  }
  return sink_->Write(bytes, nbytes);
}

Status SpliceStream::Finish(const parquet::FileMetaData& source, int count, const parquet::FileMetaData& written) {
  // What the writer wrote while captured: the end of its row groups, its footer, the footer's
  // length and the magic.
  if (held_.size() < 8 || std::memcmp(held_.data() + held_.size() - 4, kMagic, 4) != 0) {
    return Status::Invalid("internal: the Parquet writer's footer was not captured");
  }
  uint32_t footer = 0;
  std::memcpy(&footer, held_.data() + held_.size() - 8, 4);
  if (footer + 8 > held_.size()) return Status::Invalid("internal: the Parquet writer's footer is cut");
  ARROW_RETURN_NOT_OK(sink_->Write(held_.data(), static_cast<int64_t>(held_.size() - 8 - footer)));
  held_.clear();
  BEGIN_PARQUET_CATCH_EXCEPTIONS
  std::vector<int> copied(static_cast<size_t>(count));
  for (size_t g = 0; g < copied.size(); ++g) copied[g] = static_cast<int>(g);
  const auto combined = source.Subset(copied);
  combined->AppendRowGroups(written);
  parquet::WriteFileMetaData(*combined, sink_.get());
  END_PARQUET_CATCH_EXCEPTIONS
  return Status::OK();
}

}  // namespace tickforge::internal
