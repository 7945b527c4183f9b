// The Python binding: type conversion and error translation only. Tables leave through the
// Arrow C stream interface, so pyarrow takes them over without copying.
#include <arrow/c/abi.h>
#include <arrow/c/bridge.h>
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

#include "tickforge/dbn/to_arrow.h"
#include "tickforge/dbn/to_parquet.h"
#include "tickforge/label/label.h"
#include "tickforge/panel/config.h"
#include "tickforge/panel/panel.h"
#include "tickforge/synth/synth.h"

namespace nb = nanobind;

namespace tickforge {
namespace {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void Check(const Status& status) {
  if (!status.ok()) throw Error(status.message());
}

template <typename T>
T Unwrap(Result<T> result) {
  Check(result.status());
  return std::move(result).ValueUnsafe();
}

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
  auto* stream = new ArrowArrayStream;
  stream->release = nullptr;
  Check(arrow::ExportRecordBatchReader(reader, stream));
  return nb::capsule(stream, "arrow_array_stream", [](void* p) noexcept {
    auto* s = static_cast<ArrowArrayStream*>(p);
    if (s->release != nullptr) s->release(s);
    delete s;
  });
}

std::string ReadDbnMetadata(const std::string& path, std::optional<int> fragment_version) {
  nb::gil_scoped_release release;
  auto decoder = Unwrap(dbn::Decoder::Open(path, DecoderOptionsFor(fragment_version)));
  return dbn::MetadataToJson(decoder->metadata());
}

std::string DbnToParquet(const std::vector<std::string>& inputs, const std::string& out_dir,
                         const std::string& price_type, bool map_symbols,
                         const std::string& compression, int64_t row_group_rows) {
  dbn::ParquetOptions options;
  options.arrow.price_type = ParsePriceType(price_type);
  options.arrow.map_symbols = map_symbols;
  options.parquet.compression = Unwrap(ParquetCompression(compression));
  options.parquet.row_group_rows = row_group_rows;
  nb::gil_scoped_release release;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& input : inputs) {
    auto stats = Unwrap(dbn::ConvertToParquet(
        input, std::filesystem::path(out_dir) / dbn::ParquetNameFor(input), options));
    out.push_back({{"input", stats.input},
                   {"output", stats.output},
                   {"rows", stats.rows},
                   {"input_bytes", stats.input_bytes},
                   {"output_bytes", stats.output_bytes}});
  }
  return out.dump();
}

std::vector<std::string> SynthDbn(const std::string& out_dir, int symbols, int days,
                                  int64_t rows_per_day, uint64_t seed, const std::string& start_date,
                                  bool zstd) {
  synth::SynthOptions options;
  options.symbols = symbols;
  options.days = days;
  options.rows_per_day = rows_per_day;
  options.seed = seed;
  options.start_date = Unwrap(dbn::ParseIsoDate(start_date));
  options.zstd = zstd;
  nb::gil_scoped_release release;
  std::vector<std::string> paths;
  for (const auto& file : Unwrap(synth::WriteMbp10Days(out_dir, options))) paths.push_back(file.path);
  return paths;
}

// The config arrives as a file path (or none) plus a JSON object of keyword overrides.
label::LabelConfig LabelConfigFrom(const std::optional<std::string>& config_file, const std::string& overrides) {
  label::LabelConfig config;
  if (config_file) Check(label::ApplyFile(*config_file, &config));
  Check(label::ApplyJson(nlohmann::json::parse(overrides), &config, "arguments"));
  return config;
}

std::string LabelFit(const std::vector<std::string>& inputs, const std::string& out,
                     std::optional<std::string> config_file, const std::string& overrides, bool skip_bad_files) {
  auto config = LabelConfigFrom(config_file, overrides);
  nb::gil_scoped_release release;
  return Unwrap(label::Fit(inputs, config, out, {skip_bad_files})).dump();
}

std::string LabelBuild(const std::vector<std::string>& inputs, const std::string& thresholds,
                       const std::string& out_dir, std::optional<std::string> config_file,
                       const std::string& overrides, bool skip_bad_files) {
  auto config = LabelConfigFrom(config_file, overrides);
  nb::gil_scoped_release release;
  const auto doc = nlohmann::ordered_json::parse(thresholds);
  return Unwrap(label::Build(inputs, doc, config, out_dir, {skip_bad_files})).dump();
}

std::string LabelRun(const std::vector<std::string>& inputs, const std::string& out_dir,
                     std::optional<std::string> config_file, const std::string& overrides, bool skip_bad_files) {
  auto config = LabelConfigFrom(config_file, overrides);
  nb::gil_scoped_release release;
  return Unwrap(label::Run(inputs, config, out_dir, {skip_bad_files})).dump();
}

nb::capsule ExportReader(std::shared_ptr<arrow::RecordBatchReader> reader) {
  auto* stream = new ArrowArrayStream;
  stream->release = nullptr;
  Check(arrow::ExportRecordBatchReader(std::move(reader), stream));
  return nb::capsule(stream, "arrow_array_stream", [](void* p) noexcept {
    auto* s = static_cast<ArrowArrayStream*>(p);
    if (s->release != nullptr) s->release(s);
    delete s;
  });
}

// The panel builder as Python sees it: options arrive as a config file plus a JSON object of
// keyword settings; inputs as Arrow C streams or Parquet paths.
class PyPanel {
 public:
  PyPanel(std::optional<std::string> config_file, const std::string& settings) {
    panel::PanelOptions options;
    if (config_file) Check(panel::ApplyPipelineConfig(*config_file, &options));
    const auto parsed = nlohmann::json::parse(settings);
    for (const auto& [key, value] : parsed.items()) {
      // JSON is YAML, so one reader serves the command line, config files and Python.
      Check(panel::ApplyPanelSetting(key + "=" + value.dump(), &options));
    }
    Check(options.Validate());
    builder_ = std::make_unique<panel::PanelBuilder>(std::move(options));
  }

  void AddStream(const std::string& symbol, nb::capsule capsule) {
    auto* stream = static_cast<ArrowArrayStream*>(PyCapsule_GetPointer(capsule.ptr(), "arrow_array_stream"));
    if (stream == nullptr) throw nb::python_error();
    nb::gil_scoped_release release;
    auto reader = Unwrap(arrow::ImportRecordBatchReader(stream));
    auto table = Unwrap(reader->ToTable());
    reader.reset();
    Check(builder_->AddTable(symbol, table));
  }

  void AddParquet(const std::string& symbol, const std::vector<std::string>& paths) {
    Check(builder_->AddParquet(symbol, paths));
  }

  void AddDirectory(const std::string& dir) {
    nb::gil_scoped_release release;
    Check(builder_->AddDirectory(dir));
  }

  nb::capsule Open() {
    std::shared_ptr<panel::PanelReader> reader;
    {
      nb::gil_scoped_release release;
      reader = Unwrap(builder_->Open());
    }
    last_ = reader;
    return ExportReader(std::move(reader));
  }

  nb::capsule Schema() {
    std::shared_ptr<arrow::Schema> schema;
    {
      nb::gil_scoped_release release;
      schema = Unwrap(builder_->Schema());
    }
    auto* c_schema = new ArrowSchema;
    c_schema->release = nullptr;
    Check(arrow::ExportSchema(*schema, c_schema));
    return nb::capsule(c_schema, "arrow_schema", [](void* p) noexcept {
      auto* s = static_cast<ArrowSchema*>(p);
      if (s->release != nullptr) s->release(s);
      delete s;
    });
  }

  // The report of the last read, or of the plan when nothing was read yet.
  std::string Report() {
    if (last_) return last_->report().ToJson().dump();
    if (last_report_) return *last_report_;
    nb::gil_scoped_release release;
    return Unwrap(builder_->Describe()).ToJson().dump();
  }

  std::string WriteParquet(const std::string& path, const std::string& compression, int64_t row_group_rows) {
    ParquetWriteOptions write;
    write.compression = Unwrap(ParquetCompression(compression));
    write.row_group_rows = row_group_rows;
    nb::gil_scoped_release release;
    last_report_ = Unwrap(builder_->WriteParquet(path, write)).ToJson().dump();
    last_.reset();
    return *last_report_;
  }

 private:
  std::unique_ptr<panel::PanelBuilder> builder_;
  // Kept for its report; it holds no rows once read to the end.
  std::shared_ptr<panel::PanelReader> last_;
  std::optional<std::string> last_report_;
};

}  // namespace
}  // namespace tickforge

NB_MODULE(_tickforge, m) {
  using namespace tickforge;
  m.attr("__version__") = TICKFORGE_VERSION;
  nb::exception<Error>(m, "TickforgeError", PyExc_ValueError);
  m.def("open_dbn", &OpenDbn);
  m.def("read_dbn_metadata", &ReadDbnMetadata);
  m.def("dbn_to_parquet", &DbnToParquet);
  m.def("synth_dbn", &SynthDbn);
  m.def("label_fit", &LabelFit);
  m.def("label_build", &LabelBuild);
  m.def("label_run", &LabelRun);
  nb::class_<PyPanel>(m, "PanelBuilder")
      .def(nb::init<std::optional<std::string>, const std::string&>())
      .def("add_stream", &PyPanel::AddStream)
      .def("add_parquet", &PyPanel::AddParquet)
      .def("add_directory", &PyPanel::AddDirectory)
      .def("open", &PyPanel::Open)
      .def("schema", &PyPanel::Schema)
      .def("report", &PyPanel::Report)
      .def("write_parquet", &PyPanel::WriteParquet);
}
