#include "tickforge/util/parquet.h"

#include <arrow/io/file.h>
#include <arrow/io/memory.h>
#include <arrow/table.h>
#include <arrow/type.h>
#include <arrow/type_traits.h>
#include <arrow/util/compression.h>
#include <parquet/properties.h>

#include <algorithm>
#include <filesystem>

#include "tickforge/util/parquet_splice_internal.h"

namespace tickforge {

namespace {

// zstd's "fast" levels (negative) skip most match finding: on bit-packed deltas, which hold
// few repeats, they run near memcpy speed for a file within a percent of level 1's size.
constexpr int kFastZstdLevel = -1;

// The pool of a writer's page buffers: jemalloc where Arrow has it. A row group's column
// chunks are buffered whole, then freed; mimalloc hands such large blocks back to the OS at
// once, so every row group faulted its buffers in anew (a tenth of a DBN conversion's time
// went to the kernel zeroing those pages), while jemalloc keeps them for the next one.
arrow::MemoryPool* WriterPool() {
  static arrow::MemoryPool* const pool = [] {
    arrow::MemoryPool* jemalloc = nullptr;
    return arrow::jemalloc_memory_pool(&jemalloc).ok() && jemalloc ? jemalloc : arrow::default_memory_pool();
  }();
  return pool;
}

}  // namespace

Result<std::unique_ptr<parquet::arrow::FileReader>> OpenParquet(const std::string& path,
                                                               const ParquetReadOptions& options) {
  std::shared_ptr<arrow::io::RandomAccessFile> file;
  parquet::ReaderProperties properties(options.pool);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (options.map_below_bytes > 0 && !ec && static_cast<int64_t>(size) <= options.map_below_bytes) {
    auto mapped = arrow::io::MemoryMappedFile::Open(path, arrow::io::FileMode::READ);
    if (!mapped.ok()) return WithPath(mapped.status(), path);
    file = *std::move(mapped);
  } else {
    auto opened = arrow::io::ReadableFile::Open(path, options.pool);
    if (!opened.ok()) return WithPath(opened.status(), path);
    file = *std::move(opened);
    properties.enable_buffered_stream();
    if (options.buffer_bytes > 0) properties.set_buffer_size(options.buffer_bytes);
  }
  parquet::ArrowReaderProperties arrow_properties;
  arrow_properties.set_use_threads(options.use_threads);
  arrow_properties.set_pre_buffer(false);
  parquet::arrow::FileReaderBuilder builder;
  ARROW_RETURN_NOT_OK(WithPath(builder.Open(file, properties, options.metadata), path));
  if (options.batch_rows > 0) {
    const auto& metadata = *builder.raw_reader()->metadata();
    int64_t longest = 1;
    for (int i = 0; i < metadata.num_row_groups(); ++i) longest = std::max(longest, metadata.RowGroup(i)->num_rows());
    arrow_properties.set_batch_size(std::min(options.batch_rows, longest));
  }
  std::unique_ptr<parquet::arrow::FileReader> reader;
  ARROW_RETURN_NOT_OK(WithPath(builder.memory_pool(options.pool)->properties(arrow_properties)->Build(&reader), path));
  return reader;
}

Result<std::shared_ptr<arrow::RecordBatchReader>> ReadParquetBatches(const std::string& path,
                                                                    const ParquetReadOptions& options) {
  ARROW_ASSIGN_OR_RAISE(std::shared_ptr<parquet::arrow::FileReader> file, OpenParquet(path, options));
  auto batches = file->GetRecordBatchReader();
  if (!batches.ok()) return WithPath(batches.status(), path);
  std::shared_ptr<arrow::RecordBatchReader> reader = *std::move(batches);
  // The batch reader borrows the file reader: share ownership of both.
  return std::shared_ptr<arrow::RecordBatchReader>(reader.get(), [reader, file](auto*) {});
}

Result<std::shared_ptr<arrow::Table>> ReadRowRange(parquet::arrow::FileReader& reader, const std::string& path,
                                                   int64_t begin, int64_t end, const std::vector<std::string>& columns) {
  const auto metadata = reader.parquet_reader()->metadata();
  std::shared_ptr<arrow::Schema> schema;
  ARROW_RETURN_NOT_OK(reader.GetSchema(&schema));
  std::vector<int> indices;
  for (const auto& name : columns) {
    const int i = schema->GetFieldIndex(name);
    if (i < 0) return Status::Invalid(path, ": no column '", name, "'");
    indices.push_back(i);
  }
  std::vector<int> groups;
  int64_t start = 0, first = -1;
  for (int g = 0; g < metadata->num_row_groups(); ++g) {
    const int64_t n = metadata->RowGroup(g)->num_rows();
    if (start + n > begin && start < end) {
      groups.push_back(g);
      if (first < 0) first = start;
    }
    start += n;
  }
  if (first < 0) first = begin;  // no row group holds the range: an empty table
  auto table = reader.ReadRowGroups(groups, indices);
  if (!table.ok()) return WithPath(table.status(), path);
  return (*table)->Slice(begin - first, end - begin);
}

Result<arrow::Compression::type> ParquetCompression(const std::string& name) {
  if (name == "zstd") return arrow::Compression::ZSTD;
  if (name == "snappy") return arrow::Compression::SNAPPY;
  if (name == "lz4") return arrow::Compression::LZ4;  // written as Parquet's LZ4_RAW
  if (name == "gzip") return arrow::Compression::GZIP;
  if (name == "brotli") return arrow::Compression::BROTLI;
  if (name == "none") return arrow::Compression::UNCOMPRESSED;
  return Status::Invalid("unknown Parquet compression '", name, "' (zstd, snappy, lz4, gzip, brotli, none)");
}

Result<std::unique_ptr<ParquetFile>> ParquetFile::Create(const std::filesystem::path& path,
                                                         std::shared_ptr<arrow::Schema> schema,
                                                         const ParquetWriteOptions& options,
                                                         const ParquetCopiedRowGroups& copied) {
  parquet::WriterProperties::Builder builder;
  builder.memory_pool(WriterPool())
      ->compression(options.compression)
      ->max_row_group_length(options.row_group_rows)
      ->disable_dictionary();
  if (arrow::util::Codec::SupportsCompressionLevel(options.compression)) {
    builder.compression_level(options.compression_level);
  }
  // Dictionaries pay off for the few distinct strings (action, side, symbol, names) and, where
  // a column's coding asks, for other columns of few values: MBP-10's prices hold a few hundred
  // per row group, so the codec sees a byte per value instead of eight (a quarter less write
  // time, a file no larger). On sizes they cost time for nothing. Delta encoding shrinks
  // sorted timestamps and small integers before the codec sees them, which saves codec time
  // (about a sixth of the write on MBP-10) for a file within 5% of the size.
  for (const auto& field : schema->fields()) {
    const auto id = field->type()->id();
    auto coding = options.columns.find(field->name());
    const bool split = coding != options.columns.end() && coding->second.byte_stream_split &&
                       (arrow::is_integer(id) || arrow::is_floating(id));
    const bool dictionary =
        !split && (id == arrow::Type::STRING || (coding != options.columns.end() && coding->second.dictionary));
    if (dictionary) builder.enable_dictionary(field->name());
    // With a dictionary, the encoding is the fallback for a row group whose values are many.
    if (split) {
      builder.encoding(field->name(), parquet::Encoding::BYTE_STREAM_SPLIT);
    } else if (arrow::is_integer(id) || id == arrow::Type::TIMESTAMP) {
      builder.encoding(field->name(), parquet::Encoding::DELTA_BINARY_PACKED);
    }
    if (coding != options.columns.end() && coding->second.fast_codec && options.compression == arrow::Compression::ZSTD) {
      builder.compression_level(field->name(), kFastZstdLevel);
    }
  }
  auto arrow_properties =
      parquet::ArrowWriterProperties::Builder().set_use_threads(options.use_threads)->store_schema()->build();
  std::unique_ptr<ParquetFile> out(new ParquetFile());
  out->row_group_rows_ = options.row_group_rows;
  out->path_ = path;
  if (options.atomic) {
    ARROW_ASSIGN_OR_RAISE(out->file_, AtomicFile::Create(path));
    out->stream_ = out->file_->stream();
  } else {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return Status::IOError(path.parent_path().string(), ": ", ec.message());
    auto stream = arrow::io::FileOutputStream::Open(path.string());
    if (!stream.ok()) return WithPath(stream.status(), path.string());
    out->stream_ = NamingErrors(*stream, path.string());
  }
  std::shared_ptr<arrow::io::OutputStream> sink = out->stream_;
  if (copied.count > 0) {
    ARROW_ASSIGN_OR_RAISE(const int64_t end, internal::RowGroupsEnd(*copied.metadata, copied.count, copied.path));
    ARROW_RETURN_NOT_OK(internal::CopyFilePrefix(copied.path, end, out->stream_.get()));
    out->copied_ = copied;
    out->splice_ = std::make_shared<internal::SpliceStream>(out->stream_, end);
    sink = out->splice_;
  }
  ARROW_ASSIGN_OR_RAISE(out->writer_, parquet::arrow::FileWriter::Open(*schema, WriterPool(), sink, builder.build(),
                                                                       arrow_properties));
  return out;
}

Status ParquetFile::Write(const arrow::RecordBatch& batch) { return Named(writer_->WriteRecordBatch(batch)); }

Status ParquetFile::WriteTable(const arrow::Table& table) { return Named(writer_->WriteTable(table, row_group_rows_)); }

Status ParquetFile::Named(const Status& status) const { return WithPath(status, path_.string()); }

Result<int64_t> ParquetFile::Close() {
  if (splice_) splice_->Capture();
  ARROW_RETURN_NOT_OK(Named(writer_->Close()));
  if (splice_) ARROW_RETURN_NOT_OK(Named(splice_->Finish(*copied_.metadata, copied_.count, *writer_->metadata())));
  ARROW_ASSIGN_OR_RAISE(int64_t size, stream_->Tell());
  if (file_) {
    ARROW_RETURN_NOT_OK(file_->Commit());
  } else {
    ARROW_RETURN_NOT_OK(stream_->Close());
  }
  return size;
}

}  // namespace tickforge
