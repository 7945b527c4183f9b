#include "tickforge/dbn/to_parquet.h"

#include <arrow/type.h>
#include <arrow/util/key_value_metadata.h>
#include <parquet/arrow/writer.h>
#include <parquet/properties.h>

#include <cstring>

namespace tickforge::dbn {

std::string ParquetNameFor(const std::filesystem::path& input) {
  std::string name = input.filename().string();
  for (const char* suffix : {".zst", ".frag", ".dbn"}) {
    if (name.size() > std::strlen(suffix) && name.ends_with(suffix)) name.resize(name.size() - std::strlen(suffix));
  }
  return name + ".parquet";
}

Result<ConvertStats> ConvertToParquet(const std::string& input, const std::filesystem::path& output,
                                      const ParquetOptions& options, const ProgressFn& progress) {
  ARROW_ASSIGN_OR_RAISE(auto decoder, Decoder::Open(input, options.decoder));
  const Decoder* decoder_view = decoder.get();
  const std::string metadata_json = MetadataToJson(decoder->metadata());
  ArrowOptions arrow_options = options.arrow;
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenDbnReader(std::move(decoder), arrow_options));

  auto schema = reader->schema()->WithMetadata(
      arrow::KeyValueMetadata::Make({"dbn.metadata"}, {metadata_json}));
  auto properties = parquet::WriterProperties::Builder()
                        .compression(options.compression)
                        ->compression_level(options.compression_level)
                        ->max_row_group_length(options.row_group_rows)
                        ->build();
  auto arrow_properties = parquet::ArrowWriterProperties::Builder()
                              .set_use_threads(options.use_threads)
                              ->store_schema()
                              ->build();
  ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(output));
  ARROW_ASSIGN_OR_RAISE(auto writer, parquet::arrow::FileWriter::Open(*schema, arrow::default_memory_pool(),
                                                                      file->stream(), properties,
                                                                      arrow_properties));
  ConvertStats stats{input, output.string(), 0, decoder_view->raw_size(), 0};
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    ARROW_RETURN_NOT_OK(reader->ReadNext(&batch));
    if (!batch) break;
    ARROW_RETURN_NOT_OK(writer->WriteRecordBatch(*batch));
    stats.rows += batch->num_rows();
    if (progress) progress(decoder_view->raw_position(), stats.input_bytes);
  }
  ARROW_RETURN_NOT_OK(writer->Close());
  ARROW_ASSIGN_OR_RAISE(stats.output_bytes, file->stream()->Tell());
  ARROW_RETURN_NOT_OK(file->Commit());
  return stats;
}

}  // namespace tickforge::dbn
