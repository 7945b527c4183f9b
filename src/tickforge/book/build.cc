#include "tickforge/book/build.h"

#include <arrow/type.h>
#include <arrow/util/key_value_metadata.h>
#include <fmt/format.h>

#include "tickforge/book/depth_build.h"
#include "tickforge/book/lobster.h"
#include "tickforge/dbn/to_arrow.h"
#include "tickforge/dbn/to_parquet.h"
#include "tickforge/util/files.h"
#include "tickforge/util/prefetch.h"

namespace tickforge::book {

std::string BookParquetNameFor(const std::filesystem::path& input, int levels) {
  std::string name = dbn::ParquetNameFor(input);
  name.resize(name.size() - std::string_view(".parquet").size());
  if (name.ends_with(".mbo")) name.resize(name.size() - 4);
  return fmt::format("{}.mbp-{}.parquet", name, levels);
}

Result<InputFormat> ResolveBookFormat(const std::string& input, const BookOptions& options) {
  if (options.input.format != InputFormat::kAuto) return options.input.format;
  // LOBSTER's files are plain CSV: their names tell them apart, not their first line.
  if (IsLobsterMessageFile(input)) return InputFormat::kLobster;
  return DetectBookInput(input);
}

bool IsDepthFormat(InputFormat format) { return format != InputFormat::kMbo && format != InputFormat::kLobster; }

Result<std::string> BookParquetNameFor(const std::filesystem::path& input, const BookOptions& options) {
  ARROW_ASSIGN_OR_RAISE(const InputFormat format, ResolveBookFormat(input.string(), options));
  if (format == InputFormat::kLobster) return LobsterParquetNameFor(input, options);
  if (IsDepthFormat(format)) return DepthParquetNameFor(input, options.levels);
  return BookParquetNameFor(input, options.levels);
}

Result<std::vector<std::filesystem::path>> BookOutputsFor(const std::vector<std::string>& inputs,
                                                        const std::filesystem::path& out_dir,
                                                        const BookOptions& options) {
  std::vector<std::filesystem::path> outputs;
  for (const auto& input : inputs) {
    ARROW_ASSIGN_OR_RAISE(const std::string name, BookParquetNameFor(input, options));
    outputs.push_back(out_dir / name);
  }
  ARROW_RETURN_NOT_OK(CheckDistinctOutputs(inputs, outputs));
  return outputs;
}

Result<std::shared_ptr<arrow::RecordBatchReader>> OpenBookReader(const std::string& input, const BookOptions& options) {
  ARROW_ASSIGN_OR_RAISE(const InputFormat format, ResolveBookFormat(input, options));
  if (format == InputFormat::kLobster) return LobsterBookReader::Open(input, options);
  if (IsDepthFormat(format)) return DepthBookReader::Open(input, options);
  return MboBookReader::Open(input, options);
}

namespace {

// Book rows are MBP-10 rows: they take `dbn to-parquet`'s column codings (prices dictionary
// encoded, sizes and times delta encoded under the fast codec) unless the caller names a column.
ParquetWriteOptions MbpParquetOptions(const ParquetWriteOptions& given) {
  ParquetWriteOptions parquet = given;
  if (const dbn::RecordLayout* layout = dbn::LayoutOf(dbn::rtype::kMbp10)) {
    parquet.columns.merge(dbn::ParquetColumnsOf(*layout));
  }
  return parquet;
}

// A LOBSTER pair's rows into one Parquet file; the schema keeps the metadata the rows are
// described by, as for MBO input.
Result<BookStats> BuildLobsterBookFile(const std::string& input, const std::filesystem::path& output,
                                       const BuildOptions& options) {
  ARROW_ASSIGN_OR_RAISE(auto reader, LobsterBookReader::Open(input, options.book));
  const nlohmann::ordered_json build = {
      {"source", std::filesystem::path(input).filename().string()},
      {"source_orderbook", std::filesystem::path(reader->files().orderbook).filename().string()},
      {"source_schema", "lobster"},
      {"options", BookOptionsTable().ToJson(options.book)},
      {"lobster_options", LobsterOptionsTable().ToJson(options.book.lobster)},
  };
  auto schema = reader->schema()->WithMetadata(arrow::KeyValueMetadata::Make(
      {"dbn.metadata", "tickforge.book"}, {dbn::MetadataToJson(reader->metadata()), build.dump()}));
  ARROW_ASSIGN_OR_RAISE(auto file, ParquetFile::Create(output, schema, MbpParquetOptions(options.parquet)));
  while (true) {
    ARROW_ASSIGN_OR_RAISE(auto batch, reader->Next());
    if (!batch) break;
    ARROW_RETURN_NOT_OK(file->Write(*batch));
  }
  BookStats stats = reader->stats();
  stats.output = output.string();
  ARROW_ASSIGN_OR_RAISE(stats.output_bytes, file->Close());
  return stats;
}

}  // namespace

Result<BookStats> BuildBookFile(const std::string& input, const std::filesystem::path& output,
                                const BuildOptions& options, const dbn::ProgressFn& progress) {
  ARROW_ASSIGN_OR_RAISE(const InputFormat format, ResolveBookFormat(input, options.book));
  if (format == InputFormat::kLobster) return BuildLobsterBookFile(input, output, options);
  if (IsDepthFormat(format)) {
    return Status::Invalid(input, ": a depth stream, built by BuildDepthFile, not BuildBookFile");
  }
  ARROW_ASSIGN_OR_RAISE(auto reader, MboBookReader::Open(input, options.book));
  dbn::Metadata metadata = reader->metadata();
  metadata.schema = options.book.levels == 1 ? dbn::Schema::kMbp1 : dbn::Schema::kMbp10;
  const nlohmann::ordered_json build = {
      {"source", std::filesystem::path(input).filename().string()},
      {"source_schema", "mbo"},
      {"options", BookOptionsTable().ToJson(options.book)},
  };
  auto schema = reader->schema()->WithMetadata(arrow::KeyValueMetadata::Make(
      {"dbn.metadata", "tickforge.book"}, {dbn::MetadataToJson(metadata), build.dump()}));
  ARROW_ASSIGN_OR_RAISE(auto file, ParquetFile::Create(output, schema, MbpParquetOptions(options.parquet)));
  // The replay runs one batch ahead on its own thread while this one encodes Parquet.
  const MboBookReader* view = reader.get();
  BatchPrefetcher prefetcher(reader, /*depth=*/2, [view] { return view->raw_position(); });
  while (true) {
    ARROW_ASSIGN_OR_RAISE(auto batch, prefetcher.Next());
    if (!batch) break;
    ARROW_RETURN_NOT_OK(file->Write(*batch));
    if (progress) progress(prefetcher.position(), view->raw_size());
  }
  BookStats stats = reader->stats();
  stats.output = output.string();
  ARROW_ASSIGN_OR_RAISE(stats.output_bytes, file->Close());
  return stats;
}

}  // namespace tickforge::book
