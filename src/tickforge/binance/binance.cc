// Opening a Binance file: the checksum first, then by its name a consolidated Parquet file (the
// normalizer), a zip archive or a plain CSV (a byte source under the chunked CSV reader).
//
// The pieces (each x.cc with its x_test.cc, and an x_internal.h where other pieces call it):
//   file_name.cc          kind names and the file-name grammar (InferFileInfo, ParseKind)
//   checksum.cc           Sha256File, VerifyChecksum
//   source.cc             byte sources: a plain file, one zip entry (libzip), memory
//   chunker.cc            blocks and chunks of whole lines
//   layout.cc             per-kind column layouts, headers, the µs rule, NormalizedSchema
//   parser.cc             lines -> typed columns, exact decimals, error line inside a chunk
//   reader.cc             the RecordBatchReader tying source, chunker and parser together
//   parquet_normalizer.cc consolidated Parquet files -> the normalized schema
#include "tickforge/binance/binance.h"

#include <arrow/util/string.h>

#include <filesystem>

#include "tickforge/binance/parquet_normalizer_internal.h"
#include "tickforge/binance/reader_internal.h"
#include "tickforge/binance/source_internal.h"

namespace tickforge::binance {

Result<std::shared_ptr<arrow::RecordBatchReader>> OpenFile(const std::string& path, Kind kind,
                                                           const ReadOptions& options) {
  if (options.verify_checksum) ARROW_RETURN_NOT_OK(VerifyChecksum(path));
  const std::string lower = arrow::internal::AsciiToLower(std::filesystem::path(path).filename().string());
  if (lower.ends_with(".parquet")) return OpenConsolidatedParquet(path, kind, options);
  std::unique_ptr<ByteSource> source;
  if (lower.ends_with(".zip")) {
    ARROW_ASSIGN_OR_RAISE(source, OpenZipSource(path));
  } else {
    ARROW_ASSIGN_OR_RAISE(source, OpenFileSource(path));
  }
  return MakeCsvReader(std::move(source), kind, path, options);
}

Result<std::shared_ptr<arrow::Table>> ReadFile(const std::string& path, Kind kind, const ReadOptions& options) {
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenFile(path, kind, options));
  return reader->ToTable();
}

Result<std::shared_ptr<arrow::Table>> ParseCsv(std::string_view bytes, Kind kind, const std::string& name,
                                               const ReadOptions& options) {
  return MakeCsvReader(MakeMemorySource(bytes), kind, name, options)->ToTable();
}

}  // namespace tickforge::binance
