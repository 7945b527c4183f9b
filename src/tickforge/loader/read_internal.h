// How the loader reads labeled datasets: from the system allocator, a row range at a time in
// the row groups' chunks (never combined into one copy), book rows viewed in place.
#pragma once

#include <arrow/type_fwd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tickforge/features/depth_image.h"
#include "tickforge/util/status.h"

namespace tickforge::loader::internal {

/// Return the pool the loader's reads allocate from: the system allocator, which hands freed
/// blocks of this size back to the system, where mimalloc (pyarrow's default pool) keeps tens
/// of MiB per thread that cache_bytes cannot account for.
[[nodiscard]] arrow::MemoryPool* ReadPool();

/// Read rows [begin, end) of the named columns of the dataset at `path`: a chunk per row group.
[[nodiscard]] Result<std::shared_ptr<arrow::Table>> ReadRows(const std::string& path, int64_t begin, int64_t end,
                                                             const std::vector<std::string>& names);

/// Return each chunk of a table as a record batch viewing it, in order.
[[nodiscard]] Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> ChunksOf(const arrow::Table& table);

/// Rows of a dataset's book as read: a Book viewing each chunk in place.
struct ChunkedBook {
  std::vector<features::Book> books;
  std::vector<const features::Book*> chunks;
  std::vector<int64_t> starts;  ///< the row (from the first read) each chunk starts at

  /// Return the mid at `row` (MidMicroPips of the chunk holding it).
  [[nodiscard]] int64_t Mid(int64_t row, const features::ImageOptions& options) const {
    const auto c = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), row) - starts.begin() - 1);
    return features::MidMicroPips(books[c], row - starts[c], options);
  }
};

/// Read book rows [begin, end) of the dataset at `path`; errors name the file.
[[nodiscard]] Result<ChunkedBook> ReadBook(const std::string& path, int64_t begin, int64_t end);

}  // namespace tickforge::loader::internal
