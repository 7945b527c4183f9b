#include "tickforge/dbn/to_parquet.h"

#include <arrow/type.h>
#include <arrow/util/key_value_metadata.h>

#include <cstring>

#include "tickforge/util/files.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/prefetch.h"

namespace tickforge::dbn {

std::string ParquetNameFor(const std::filesystem::path& input) {
  std::string name = input.filename().string();
  for (const char* suffix : {".zst", ".frag", ".dbn"}) {
    if (name.size() > std::strlen(suffix) && name.ends_with(suffix)) name.resize(name.size() - std::strlen(suffix));
  }
  return name + ".parquet";
}

Result<std::vector<std::filesystem::path>> ParquetOutputsFor(const std::vector<std::string>& inputs,
                                                           const std::filesystem::path& out_dir) {
  std::vector<std::filesystem::path> outputs;
  for (const auto& input : inputs) outputs.push_back(out_dir / ParquetNameFor(input));
  ARROW_RETURN_NOT_OK(CheckDistinctOutputs(inputs, outputs));
  return outputs;
}

std::map<std::string, ParquetColumnCoding> ParquetColumnsOf(const RecordLayout& layout) {
  std::map<std::string, ParquetColumnCoding> columns;
  for (const auto& field : layout.fields) {
    ParquetColumnCoding& coding = columns[field.name];
    switch (field.kind) {
      case FieldKind::kPrice:
      case FieldKind::kU8: case FieldKind::kI8:
      case FieldKind::kU16: case FieldKind::kI16:
        coding.dictionary = true;
        break;
      case FieldKind::kU32: case FieldKind::kI32:
        // A file holds few instruments; their ids interleave, which delta encoding does badly.
        if (field.name == "instrument_id") {
          coding.dictionary = true;
        } else if (field.name == "sequence") {
          coding.fast_codec = true;  // rising: deltas of a few bits
        } else {
          // Sizes, counts, ts_in_delta: noisy values whose deltas are as wide as the values;
          // split into byte streams, their high bytes compress to nothing.
          coding.byte_stream_split = true;
        }
        break;
      case FieldKind::kU64: case FieldKind::kI64:
      case FieldKind::kTimestamp:
        coding.fast_codec = true;
        break;
      case FieldKind::kChar: case FieldKind::kCStr:
        break;  // strings are dictionary-encoded anyway
    }
  }
  columns["ts_out"].fast_codec = true;
  return columns;
}

Result<ConvertStats> ConvertToParquet(const std::string& input, const std::filesystem::path& output,
                                      const ParquetOptions& options, const ProgressFn& progress) {
  ARROW_ASSIGN_OR_RAISE(auto decoder, Decoder::Open(input, options.decoder));
  const Decoder* decoder_view = decoder.get();
  const std::string metadata_json = MetadataToJson(decoder->metadata());
  ArrowOptions arrow_options = options.arrow;
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenDbnReader(std::move(decoder), arrow_options));
  ParquetWriteOptions parquet = options.parquet;
  if (const RecordLayout* layout = ConvertedLayout(*reader)) parquet.columns.merge(ParquetColumnsOf(*layout));

  auto schema = reader->schema()->WithMetadata(
      arrow::KeyValueMetadata::Make({"dbn.metadata"}, {metadata_json}));
  ARROW_ASSIGN_OR_RAISE(auto file, ParquetFile::Create(output, schema, parquet));
  ConvertStats stats{input, output.string(), 0, decoder_view->raw_size(), 0, {}};
  // Decoding runs one batch ahead on its own thread while this one encodes Parquet.
  BatchPrefetcher prefetcher(reader, /*depth=*/2, [decoder_view] { return decoder_view->raw_position(); });
  while (true) {
    ARROW_ASSIGN_OR_RAISE(auto batch, prefetcher.Next());
    if (!batch) break;
    ARROW_RETURN_NOT_OK(file->Write(*batch));
    stats.rows += batch->num_rows();
    if (progress) progress(prefetcher.position(), stats.input_bytes);
  }
  ARROW_ASSIGN_OR_RAISE(stats.output_bytes, file->Close());
  stats.skipped = SkippedRecords(*reader);
  return stats;
}

}  // namespace tickforge::dbn
