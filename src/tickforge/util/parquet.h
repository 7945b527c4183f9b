// Parquet writing shared by every module: one set of encodings chosen by measurement, and a
// writer that commits its file atomically.
#pragma once

#include <arrow/type_fwd.h>
#include <arrow/util/type_fwd.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/writer.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tickforge/util/io.h"
#include "tickforge/util/status.h"

namespace tickforge {

struct ParquetWriteOptions {
  arrow::Compression::type compression = arrow::Compression::ZSTD;
  int compression_level = 1;
  int64_t row_group_rows = 1 << 17;
  /// Encode columns on Arrow's CPU thread pool.
  bool use_threads = true;
  /// Write under a hidden name and rename on Close(); off where the folder is private anyway
  /// (a store transaction's staging folder, synced once at commit).
  bool atomic = true;
};

/// Open a Parquet file for reads of few rows of many columns: pages are read as they are
/// decoded rather than each column chunk (or all of them, pre-buffered) first, which would hold
/// the compressed row groups in memory beside their decoded rows. Errors name the file.
[[nodiscard]] Result<std::unique_ptr<parquet::arrow::FileReader>> OpenParquetReader(const std::string& path,
                                                                                   arrow::MemoryPool* pool);

/// Read rows [begin, end) of the named columns of `path`, opened as `reader`, touching only the
/// row groups that hold them: a chunk per row group, not combined into one. Errors name the
/// file and a missing column.
[[nodiscard]] Result<std::shared_ptr<arrow::Table>> ReadRowRange(parquet::arrow::FileReader& reader,
                                                                 const std::string& path, int64_t begin, int64_t end,
                                                                 const std::vector<std::string>& columns);

/// Parse a Parquet codec name: zstd, snappy, lz4 (LZ4_RAW), gzip, brotli or none.
[[nodiscard]] Result<arrow::Compression::type> ParquetCompression(const std::string& name);

/// A Parquet file that appears at its path only when Close() succeeds.
class ParquetFile {
 public:
  [[nodiscard]] static Result<std::unique_ptr<ParquetFile>> Create(
      const std::filesystem::path& path, std::shared_ptr<arrow::Schema> schema,
      const ParquetWriteOptions& options = {});

  /// Append rows; the batch's schema must equal the file's (metadata aside).
  [[nodiscard]] Status Write(const arrow::RecordBatch& batch);
  /// Append whole row groups of row_group_rows rows (the last one may be shorter), each column
  /// written straight to the file; do not mix with Write().
  [[nodiscard]] Status WriteTable(const arrow::Table& table);
  /// Finish the file and move it into place; returns its size in bytes.
  [[nodiscard]] Result<int64_t> Close();

 private:
  ParquetFile() = default;
  /// Return `status` naming the file (the Parquet writer's own errors name none).
  [[nodiscard]] Status Named(const Status& status) const;

  std::filesystem::path path_;
  std::unique_ptr<AtomicFile> file_;
  std::shared_ptr<arrow::io::OutputStream> stream_;
  std::unique_ptr<parquet::arrow::FileWriter> writer_;
  int64_t row_group_rows_ = 0;
};

}  // namespace tickforge
