// The Python binding: type conversion and error translation only. Tables leave through the
// Arrow C stream interface, so pyarrow takes them over without copying.
#include <arrow/c/abi.h>
#include <arrow/c/bridge.h>
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

#include "tickforge/binance/binance.h"
#include "tickforge/dbn/to_arrow.h"
#include "tickforge/dbn/to_parquet.h"
#include "tickforge/features/depth_image.h"
#include "tickforge/label/label.h"
#include "tickforge/label/movement.h"
#include "tickforge/loader/loader.h"
#include "tickforge/panel/config.h"
#include "tickforge/panel/panel.h"
#include "tickforge/store/convert.h"
#include "tickforge/store/options.h"
#include "tickforge/store/store.h"
#include "tickforge/synth/binance.h"
#include "tickforge/synth/synth.h"
#include "tickforge/util/time.h"
#include "tickforge/util/version.h"

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
  options.start_date = Unwrap(ParseIsoDate(start_date));
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

features::ImageOptions ImageOptionsFor(const std::vector<std::string>& names, int time_bins, int ticks_per_bin,
                                       double micro_pip_size) {
  features::ImageOptions options;
  options.time_bins = time_bins;
  options.ticks_per_bin = ticks_per_bin;
  options.micro_pip_size = micro_pip_size;
  options.features.clear();
  for (const auto& name : names) options.features.push_back(Unwrap(features::FeatureFromName(name)));
  Check(options.Validate());
  return options;
}

// Returns (402, T) for one feature and (N, 402, T) for several; numpy owns the buffer.
nb::ndarray<nb::numpy, float> Render(const std::string& dataset, std::optional<int64_t> row, std::optional<int64_t> ts,
                                     const std::vector<std::string>& names, int time_bins, int ticks_per_bin,
                                     double micro_pip_size) {
  if (row.has_value() == ts.has_value()) throw nb::value_error("give exactly one of row= and ts=");
  const auto options = ImageOptionsFor(names, time_bins, ticks_per_bin, micro_pip_size);
  auto* image = new std::vector<float>();
  {
    nb::gil_scoped_release release;
    const int64_t at = row ? *row : Unwrap(features::RowAtOrBefore(dataset, *ts));
    try {
      *image = Unwrap(features::RenderDatasetRow(dataset, at, options));
    } catch (...) {
      delete image;
      throw;
    }
  }
  nb::capsule owner(image, [](void* p) noexcept { delete static_cast<std::vector<float>*>(p); });
  const auto planes = options.features.size();
  if (planes == 1) {
    return nb::ndarray<nb::numpy, float>(image->data(), {size_t{features::kImageRows}, size_t(time_bins)}, owner);
  }
  return nb::ndarray<nb::numpy, float>(image->data(), {planes, size_t{features::kImageRows}, size_t(time_bins)}, owner);
}

// Movements and labels of one series held in memory (DESIGN.md §3.2-3.3), the kernel label
// build runs per symbol: movement NaN and label -1 where undefined.
nb::tuple ComputeLabels(nb::ndarray<const int64_t, nb::ndim<1>, nb::c_contig> bid,
                        nb::ndarray<const int64_t, nb::ndim<1>, nb::c_contig> ask, std::vector<double> boundaries,
                        int64_t lookback, int64_t forward, int64_t offset) {
  if (bid.shape(0) != ask.shape(0)) throw nb::value_error("bid and ask differ in length");
  if (lookback < 1 || forward < 1 || offset < 0) throw nb::value_error("need lookback, forward >= 1 and offset >= 0");
  const auto n = static_cast<int64_t>(bid.shape(0));
  auto* movement = new std::vector<double>(static_cast<size_t>(n));
  auto* labels = new std::vector<int16_t>(static_cast<size_t>(n));
  {
    nb::gil_scoped_release release;
    label::MovementWindow window(lookback, offset, forward);
    const int64_t last = window.LastDefined(n);
    int64_t next = 0;
    const int64_t* b = bid.data();
    const int64_t* a = ask.data();
    for (int64_t i = 0; i < n; ++i) {
      window.Push(b[i] + a[i]);
      for (; next < window.size(); ++next) {
        const bool defined = next >= lookback && next <= last;
        if (defined && !window.Ready(next)) break;
        const double m = defined ? window.Movement(next) : std::nan("");
        (*movement)[static_cast<size_t>(next)] = m;
        (*labels)[static_cast<size_t>(next)] = defined ? static_cast<int16_t>(label::Digitize(m, boundaries)) : -1;
      }
    }
  }
  nb::capsule own_m(movement, [](void* p) noexcept { delete static_cast<std::vector<double>*>(p); });
  nb::capsule own_l(labels, [](void* p) noexcept { delete static_cast<std::vector<int16_t>*>(p); });
  return nb::make_tuple(nb::ndarray<nb::numpy, double>(movement->data(), {size_t(n)}, own_m),
                        nb::ndarray<nb::numpy, int16_t>(labels->data(), {size_t(n)}, own_l));
}

// The loader's options arrive as one JSON object with the Python keyword names.
std::unique_ptr<loader::Loader> OpenLoader(const std::string& json) {
  const auto j = nlohmann::json::parse(json);
  loader::LoaderOptions o;
  o.parquet_dir = j.at("parquet_dir").get<std::string>();
  o.batch_size = j.at("batch_size").get<int64_t>();
  o.image = ImageOptionsFor(j.at("features").get<std::vector<std::string>>(), j.at("time_bins").get<int>(),
                            j.at("ticks_per_bin").get<int>(), j.at("micro_pip_size").get<double>());
  const auto& shuffle = j.at("shuffle");
  if (shuffle.is_string()) {
    if (shuffle.get<std::string>() != "local") throw nb::value_error("shuffle must be True, False or 'local'");
    o.shuffle = o.locality = true;
  } else {
    o.shuffle = shuffle.get<bool>();
  }
  o.sample_fraction = j.at("sample_fraction").get<double>();
  if (!j.at("symbols").is_null()) o.symbols = j.at("symbols").get<std::vector<std::string>>();
  o.seed = j.at("seed").get<uint64_t>();
  if (!j.at("split").is_null()) o.split = j.at("split").get<std::string>();
  const auto fractions = j.at("split_fractions").get<std::vector<double>>();
  if (fractions.size() != 3) throw nb::value_error("split_fractions needs three shares (train, val, test)");
  o.split_fractions = {fractions[0], fractions[1], fractions[2]};
  o.stride = j.at("stride").is_null() ? 0 : j.at("stride").get<int64_t>();
  o.rank = j.at("rank").get<int>();
  o.world_size = j.at("world_size").get<int>();
  o.cache_bytes = j.at("cache_bytes").get<int64_t>();
  o.threads = j.at("threads").get<int>();
  o.prefetch = j.at("prefetch").get<int>();
  nb::gil_scoped_release release;
  return Unwrap(loader::Loader::Open(std::move(o)));
}

template <typename T>
nb::ndarray<nb::numpy, T> View(std::vector<T>& values, std::initializer_list<size_t> shape,
                               const std::shared_ptr<loader::Batch>& batch) {
  // Each array keeps the batch alive; its buffers return to the pool when the last one goes.
  auto* keep = new std::shared_ptr<loader::Batch>(batch);
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<std::shared_ptr<loader::Batch>*>(p); });
  return nb::ndarray<nb::numpy, T>(values.data(), shape, owner);
}

nb::object NextBatch(loader::Loader& self) {
  std::shared_ptr<loader::Batch> batch;
  {
    nb::gil_scoped_release release;
    batch = Unwrap(self.Next());
  }
  if (!batch) return nb::none();
  const auto& image = self.options().image;
  const auto B = static_cast<size_t>(batch->size);
  const auto planes = image.features.size();
  const auto T = static_cast<size_t>(image.time_bins);
  nb::object features = planes == 1
      ? nb::cast(View(batch->features, {B, size_t{features::kImageRows}, T}, batch))
      : nb::cast(View(batch->features, {B, planes, size_t{features::kImageRows}, T}, batch));
  nb::object labels = nb::cast(View(batch->labels, {B}, batch));
  nb::dict index;
  index["symbol"] = nb::cast(View(batch->symbols, {B}, batch));
  index["row"] = nb::cast(View(batch->rows, {B}, batch));
  index["ts_event"] = nb::cast(View(batch->ts_event, {B}, batch));
  index["sequence"] = nb::cast(View(batch->sequence, {B}, batch));
  index["batch"] = batch->index;
  return nb::make_tuple(features, labels, index);
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

// The store as Python sees it: options arrive as JSON objects (the keyword arguments), results
// leave as JSON text or Arrow C streams.
class PyStore {
 public:
  PyStore(const std::string& root, bool create) { store_ = Unwrap(store::Store::Open(root, create)); }

  std::string Ingest(const std::vector<std::string>& paths, const std::string& options) {
    auto parsed = Unwrap(store::IngestOptionsFromJson(nlohmann::json::parse(options)));
    nb::gil_scoped_release release;
    return store::ToJson(Unwrap(store_->Ingest(paths, parsed))).dump();
  }

  std::string Write(const std::string& dataset, const std::string& type, nb::capsule capsule,
                    const std::string& options) {
    auto parsed = Unwrap(store::WriteOptionsFromJson(nlohmann::json::parse(options)));
    auto* stream = static_cast<ArrowArrayStream*>(PyCapsule_GetPointer(capsule.ptr(), "arrow_array_stream"));
    if (stream == nullptr) throw nb::python_error();
    nb::gil_scoped_release release;
    auto reader = Unwrap(arrow::ImportRecordBatchReader(stream));
    return store::ToJson(Unwrap(store_->Write(dataset, type, *reader, parsed))).dump();
  }

  nb::tuple Scan(const std::string& dataset, const std::string& options) {
    auto parsed = Unwrap(store::ScanOptionsFromJson(nlohmann::json::parse(options)));
    store::ScanStats stats;
    std::shared_ptr<arrow::RecordBatchReader> reader;
    {
      nb::gil_scoped_release release;
      reader = Unwrap(store_->Scan(dataset, parsed, &stats));
    }
    nlohmann::json report = {{"version", stats.version}, {"files_total", stats.files_total},
                             {"files_selected", stats.files_selected}};
    return nb::make_tuple(ExportReader(std::move(reader)), report.dump());
  }

  std::optional<int64_t> LatestTimestamp(const std::string& dataset, const std::string& symbol) {
    return Unwrap(store_->LatestTimestamp(dataset, symbol));
  }

  std::string Compact(const std::string& dataset, const std::string& options) {
    auto parsed = Unwrap(store::CompactOptionsFromJson(nlohmann::json::parse(options)));
    nb::gil_scoped_release release;
    return store::ToJson(Unwrap(store_->Compact(dataset, parsed))).dump();
  }

  std::string Migrate(const std::string& flat_dir, const std::string& dataset, const std::string& type,
                      const std::string& options) {
    auto parsed = Unwrap(store::WriteOptionsFromJson(nlohmann::json::parse(options)));
    nb::gil_scoped_release release;
    return store::ToJson(Unwrap(store_->Migrate(flat_dir, dataset, type, parsed))).dump();
  }

  std::string Materialize(const std::string& source, const std::string& projection, const std::string& target,
                          const std::string& options) {
    auto scan = Unwrap(store::ScanOptionsFromJson(nlohmann::json::parse(projection)));
    auto write = Unwrap(store::WriteOptionsFromJson(nlohmann::json::parse(options)));
    nb::gil_scoped_release release;
    return store::ToJson(Unwrap(store_->Materialize(source, scan, target, write))).dump();
  }

  nb::tuple Cached(const std::string& dataset, const std::string& projection, double ttl_seconds) {
    auto scan = Unwrap(store::ScanOptionsFromJson(nlohmann::json::parse(projection)));
    store::CachedProjection cached;
    {
      nb::gil_scoped_release release;
      cached = Unwrap(store_->Cached(dataset, scan, ttl_seconds));
    }
    return nb::make_tuple(cached.path.string(), cached.key, cached.hit, cached.rows);
  }

  int64_t ClearCache(bool expired_only) { return Unwrap(store_->ClearCache(expired_only)); }

  std::string Info(std::optional<int64_t> version) {
    return store::SummaryJson(Unwrap(store_->ReadSnapshot(version))).dump();
  }

 private:
  std::shared_ptr<store::Store> store_;
};

std::string ConvertConsolidated(const std::string& data_dir, const std::string& out, const std::string& options) {
  store::ConvertOptions convert;
  convert.out = out;
  convert.write = Unwrap(store::WriteOptionsFromJson(nlohmann::json::parse(options)));
  nb::gil_scoped_release release;
  return Unwrap(store::ConvertConsolidated(data_dir, convert)).dump();
}

// A Binance file (CSV, zip or consolidated Parquet) as an Arrow C stream of normalized batches.
nb::capsule OpenBinance(const std::string& path, std::optional<std::string> kind_name, int64_t batch_rows,
                        bool verify_checksum) {
  binance::ReadOptions options;
  options.batch_rows = batch_rows;
  options.verify_checksum = verify_checksum;
  std::shared_ptr<arrow::RecordBatchReader> reader;
  {
    nb::gil_scoped_release release;
    const binance::Kind kind = kind_name ? Unwrap(binance::ParseKind(*kind_name))
                                         : Unwrap(binance::InferFileInfo(path)).kind;
    reader = Unwrap(binance::OpenFile(path, kind, options));
  }
  return ExportReader(std::move(reader));
}

std::vector<std::string> SynthBinance(const std::string& out_dir, std::vector<std::string> symbols, int symbol_count,
                                      int days, const std::string& start, const std::string& market,
                                      const std::vector<std::string>& kinds, const std::string& interval,
                                      bool monthly, std::optional<bool> header, bool zip,
                                      double aggtrades_per_minute, uint64_t seed) {
  synth::BinanceOptions options;
  options.out_dir = out_dir;
  options.symbols = std::move(symbols);
  options.symbol_count = symbol_count;
  options.days = days;
  options.start_date = Unwrap(ParseIsoDate(start));
  options.market = market;
  options.kinds.clear();
  for (const auto& k : kinds) options.kinds.push_back(Unwrap(binance::ParseKind(k)));
  options.interval = interval;
  options.monthly = monthly;
  options.header = header;
  options.zip = zip;
  options.aggtrades_per_minute = aggtrades_per_minute;
  options.seed = seed;
  nb::gil_scoped_release release;
  std::vector<std::string> paths;
  for (const auto& file : Unwrap(synth::WriteBinanceDumps(options))) paths.push_back(file.path);
  return paths;
}

}  // namespace
}  // namespace tickforge

NB_MODULE(_tickforge, m) {
  using namespace tickforge;
  m.attr("__version__") = std::string(kVersion);
  nb::exception<Error>(m, "TickforgeError", PyExc_ValueError);
  m.def("open_dbn", &OpenDbn);
  m.def("read_dbn_metadata", &ReadDbnMetadata);
  m.def("dbn_to_parquet", &DbnToParquet);
  m.def("synth_dbn", &SynthDbn);
  m.def("label_fit", &LabelFit);
  m.def("label_build", &LabelBuild);
  m.def("label_run", &LabelRun);
  m.def("render", &Render);
  m.def("compute_labels", &ComputeLabels);
  m.def("open_binance", &OpenBinance);
  m.def("synth_binance", &SynthBinance);

  nb::class_<loader::Loader>(m, "Loader")
      .def_static("open", &OpenLoader)
      .def_prop_ro("batches_per_epoch", &loader::Loader::batches_per_epoch)
      .def_prop_ro("num_classes", &loader::Loader::num_classes)
      .def_prop_ro("num_samples", &loader::Loader::num_samples)
      .def_prop_ro("symbols", &loader::Loader::symbol_names)
      .def("start",
           [](loader::Loader& self, int64_t epoch, int64_t first, int64_t step) { Check(self.Start(epoch, first, step)); },
           nb::arg("epoch"), nb::arg("first") = 0, nb::arg("step") = 1)
      .def("next", &NextBatch)
      .def("stop", [](loader::Loader& self) {
        nb::gil_scoped_release release;
        self.Stop();
      })
      .def("plan",
           [](const loader::Loader& self, int64_t epoch, int64_t index) {
             std::vector<std::tuple<int32_t, int64_t, int>> out;
             for (const auto& s : self.PlanBatch(epoch, index)) out.emplace_back(s.symbol, s.row, int{s.label});
             return out;
           })
      .def("cache_stats",
           [](const loader::Loader& self) {
             const auto s = self.cache_stats();
             nb::dict d;
             d["hits"] = s.hits;
             d["misses"] = s.misses;
             d["bytes"] = s.bytes;
             d["entries"] = s.entries;
             d["evictions"] = s.evictions;
             return d;
           })
      .def("class_counts", &loader::Loader::class_counts);
  nb::class_<PyPanel>(m, "PanelBuilder")
      .def(nb::init<std::optional<std::string>, const std::string&>())
      .def("add_stream", &PyPanel::AddStream)
      .def("add_parquet", &PyPanel::AddParquet)
      .def("add_directory", &PyPanel::AddDirectory)
      .def("open", &PyPanel::Open)
      .def("schema", &PyPanel::Schema)
      .def("report", &PyPanel::Report)
      .def("write_parquet", &PyPanel::WriteParquet);
  nb::class_<PyStore>(m, "Store")
      .def(nb::init<const std::string&, bool>())
      .def("ingest", &PyStore::Ingest)
      .def("write", &PyStore::Write)
      .def("scan", &PyStore::Scan)
      .def("latest_timestamp", &PyStore::LatestTimestamp)
      .def("compact", &PyStore::Compact)
      .def("migrate", &PyStore::Migrate)
      .def("materialize", &PyStore::Materialize)
      .def("cached", &PyStore::Cached)
      .def("clear_cache", &PyStore::ClearCache)
      .def("info", &PyStore::Info);
  m.def("convert_consolidated", &ConvertConsolidated);
  m.def("memory_pool_stats", [] { return store::MemoryPoolJson().dump(); });
  m.def("write_flat_parquet", [](nb::capsule capsule, const std::string& path, const std::string& options) {
    auto parsed = Unwrap(store::WriteOptionsFromJson(nlohmann::json::parse(options)));
    auto* stream = static_cast<ArrowArrayStream*>(PyCapsule_GetPointer(capsule.ptr(), "arrow_array_stream"));
    if (stream == nullptr) throw nb::python_error();
    nb::gil_scoped_release release;
    auto reader = Unwrap(arrow::ImportRecordBatchReader(stream));
    return Unwrap(store::WriteFlatParquet(*reader, path, parsed));
  });
}
