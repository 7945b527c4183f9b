// Parquet writing shared by every module: one set of encodings chosen by measurement, and a
// writer that commits its file atomically.
#pragma once

#include <arrow/memory_pool.h>
#include <arrow/record_batch.h>
#include <arrow/type_fwd.h>
#include <arrow/util/type_fwd.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/writer.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tickforge/util/io.h"
#include "tickforge/util/status.h"

namespace tickforge {

/// How one column is written where its type's default does not suit it (by default strings
/// are dictionary-encoded, integers and timestamps delta-encoded, the rest plain, all through
/// the file's codec at its level).
struct ParquetColumnCoding {
  /// Dictionary-encode: for columns with few distinct values per row group (book prices,
  /// flags, ids); a column with many falls back to its plain or delta encoding.
  bool dictionary = false;
  /// Run zstd at its fastest level over the column: for bit-packed deltas of noisy values
  /// (sizes, times), where level 1 costs a third of the write and finds almost nothing more.
  /// Other codecs keep their level.
  bool fast_codec = false;
  /// Write a numeric column BYTE_STREAM_SPLIT (byte k of every value, then byte k+1, ...)
  /// instead of delta-encoded: for noisy small integers (book sizes and counts), whose high
  /// bytes the codec then finds as long runs of zeros. On MBP-10 sizes this wrote a fifth
  /// smaller in a quarter less time than bit-packed deltas. Takes precedence over dictionary.
  bool byte_stream_split = false;
};

struct ParquetWriteOptions {
  arrow::Compression::type compression = arrow::Compression::ZSTD;
  int compression_level = 1;
  int64_t row_group_rows = 1 << 17;
  /// Encode columns on Arrow's CPU thread pool.
  bool use_threads = true;
  /// Write under a hidden name and rename on Close(); off where the folder is private anyway
  /// (a store transaction's staging folder, synced once at commit).
  bool atomic = true;
  /// Codings of named columns (names the schema lacks are ignored); the rest keep their
  /// type's default.
  std::map<std::string, ParquetColumnCoding> columns;
};

/// How a Parquet file is opened for reading.
struct ParquetReadOptions {
  arrow::MemoryPool* pool = arrow::default_memory_pool();
  /// Rows per batch of GetRecordBatchReader(), at most the longest row group (the reader sizes
  /// its buffers by the batch and copies to shrink them when a row group ends first); 0: Arrow's
  /// default.
  int64_t batch_rows = 0;
  /// Decode columns on Arrow's CPU thread pool.
  bool use_threads = false;
  /// Map files up to this size and decode straight from the page cache instead of copying them
  /// in (the mapping lasts while the file is read); 0: never map.
  int64_t map_below_bytes = 0;
  /// Bytes read at a time from a file that is not mapped: pages are read as they are decoded
  /// (no pre-buffering of column chunks), which bounds the reader's memory by this rather than
  /// by the row group; 0: Arrow's default buffer.
  int64_t buffer_bytes = 0;
  /// A footer read before (skips reading it again).
  std::shared_ptr<parquet::FileMetaData> metadata;
};

/// Open a Parquet file, the one way every module does; errors name the file.
[[nodiscard]] Result<std::unique_ptr<parquet::arrow::FileReader>> OpenParquet(const std::string& path,
                                                                             const ParquetReadOptions& options = {});

/// Stream the batches of a Parquet file (the reader keeps the file open); errors name the file.
[[nodiscard]] Result<std::shared_ptr<arrow::RecordBatchReader>> ReadParquetBatches(
    const std::string& path, const ParquetReadOptions& options = {});

/// Read rows [begin, end) of the named columns of `path`, opened as `reader`, touching only the
/// row groups that hold them: a chunk per row group, not combined into one. Errors name the
/// file and a missing column.
[[nodiscard]] Result<std::shared_ptr<arrow::Table>> ReadRowRange(parquet::arrow::FileReader& reader,
                                                                 const std::string& path, int64_t begin, int64_t end,
                                                                 const std::vector<std::string>& columns);

/// Parse a Parquet codec name: zstd, snappy, lz4 (LZ4_RAW), gzip, brotli or none.
[[nodiscard]] Result<arrow::Compression::type> ParquetCompression(const std::string& name);

/// Row groups a new Parquet file starts with, copied as bytes (neither decoded nor encoded)
/// from an existing file of the same schema: the first `count` row groups of `path`, whose
/// footer is `metadata`.
struct ParquetCopiedRowGroups {
  std::string path;
  std::shared_ptr<parquet::FileMetaData> metadata;
  int count = 0;
};

namespace internal {
class SpliceStream;
}  // namespace internal

/// A Parquet file that appears at its path only when Close() succeeds.
class ParquetFile {
 public:
  /// Create the file; with `copied`, its first row groups are those, and rows written follow.
  [[nodiscard]] static Result<std::unique_ptr<ParquetFile>> Create(
      const std::filesystem::path& path, std::shared_ptr<arrow::Schema> schema,
      const ParquetWriteOptions& options = {}, const ParquetCopiedRowGroups& copied = {});

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
  ParquetCopiedRowGroups copied_;
  std::shared_ptr<internal::SpliceStream> splice_;
};

}  // namespace tickforge
