// DBN files from Python: streamed as Arrow batches, their metadata as JSON, and Parquet
// conversion.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <numeric>
#include <string>
#include <vector>

#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/to_arrow.h"
#include "tickforge/dbn/to_parquet.h"
#include "tickforge/python/arrow_stream.h"
#include "tickforge/python/bindings.h"
#include "tickforge/python/errors.h"
#include "tickforge/python/progress.h"

namespace nb = nanobind;

namespace tickforge::python {
namespace {

dbn::PriceType ParsePriceType(const std::string& name) {
  if (name == "float") return dbn::PriceType::kFloat;
  if (name == "fixed") return dbn::PriceType::kFixed;
  throw nb::value_error("price_type must be 'float' or 'fixed'");
}

dbn::DecoderOptions DecoderOptionsFor(std::optional<int> fragment_version) {
  dbn::DecoderOptions options;
  if (fragment_version) options.fragment_version = static_cast<uint8_t>(*fragment_version);
  return options;
}

nb::capsule OpenDbn(const std::string& path, const std::string& price_type, bool pretty_ts,
                    bool map_symbols, std::optional<std::string> schema,
                    std::optional<int> fragment_version, int64_t batch_size) {
  dbn::ArrowOptions options;
  options.price_type = ParsePriceType(price_type);
  options.pretty_ts = pretty_ts;
  options.map_symbols = map_symbols;
  options.batch_size = batch_size;
  if (schema) {
    options.schema = dbn::SchemaFromName(*schema);
    if (!options.schema) throw nb::value_error(("unknown DBN schema '" + *schema + "'").c_str());
  }
  std::shared_ptr<arrow::RecordBatchReader> reader;
  {
    nb::gil_scoped_release release;
    reader = Unwrap(dbn::OpenDbnReader(path, options, DecoderOptionsFor(fragment_version)));
  }
  return ExportReader(std::move(reader));
}

std::string ReadDbnMetadata(const std::string& path, std::optional<int> fragment_version) {
  nb::gil_scoped_release release;
  auto decoder = Unwrap(dbn::Decoder::Open(path, DecoderOptionsFor(fragment_version)));
  return dbn::MetadataToJson(decoder->metadata());
}

std::string DbnToParquet(const std::vector<std::string>& inputs, const std::string& out_dir,
                         const std::string& price_type, bool map_symbols,
                         const std::string& compression, int64_t row_group_rows, nb::object callback) {
  dbn::ParquetOptions options;
  options.arrow.price_type = ParsePriceType(price_type);
  options.arrow.map_symbols = map_symbols;
  options.parquet.compression = Unwrap(ParquetCompression(compression));
  options.parquet.row_group_rows = row_group_rows;
  PyProgress py_progress(std::move(callback));
  return py_progress.Run([&]() -> Result<std::string> {
    // One stage over all files, as `tickforge dbn to-parquet` reports it.
    ProgressReporter progress(py_progress.Fn());
    std::vector<std::string> written;
    auto converted = [&]() -> Result<std::string> {
      ARROW_ASSIGN_OR_RAISE(const auto outputs, dbn::ParquetOutputsFor(inputs, out_dir));
      const auto sizes = FileSizes(inputs);
      ARROW_RETURN_NOT_OK(progress.Begin("to-parquet", static_cast<int64_t>(inputs.size()), -1,
                                         std::accumulate(sizes.begin(), sizes.end(), int64_t{0})));
      nlohmann::json out = nlohmann::json::array();
      int64_t base = 0;
      for (size_t i = 0; i < inputs.size(); ++i) {
        ARROW_ASSIGN_OR_RAISE(auto stats, dbn::ConvertToParquet(inputs[i], outputs[i], options, progress.ForFile(base)));
        written.push_back(stats.output);
        base += sizes[i];
        ARROW_RETURN_NOT_OK(progress.Add(stats.rows, 0, 1));
        ARROW_RETURN_NOT_OK(progress.SetBytes(base));
        out.push_back({{"input", stats.input},
                       {"output", stats.output},
                       {"rows", stats.rows},
                       {"input_bytes", stats.input_bytes},
                       {"output_bytes", stats.output_bytes},
                       {"skipped_records", stats.skipped}});
      }
      ARROW_RETURN_NOT_OK(progress.End());
      return out.dump();
    }();
    // A stop asked for by the callback takes back the files this call wrote.
    if (!progress.status().ok()) RemoveFiles(written);
    return converted;
  });
}

}  // namespace

void BindDbn(nb::module_& m) {
  m.def("open_dbn", &OpenDbn);
  m.def("read_dbn_metadata", &ReadDbnMetadata);
  m.def("dbn_to_parquet", &DbnToParquet, nb::arg("inputs"), nb::arg("out_dir"), nb::arg("price_type"),
        nb::arg("map_symbols"), nb::arg("compression"), nb::arg("row_group_rows"), nb::arg("progress").none() = nb::none());
}

}  // namespace tickforge::python
