// Labeling from Python: fit, build, run and update, the pipeline file, and the labels of a series in memory.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tickforge/label/commit.h"
#include "tickforge/label/config.h"
#include "tickforge/label/label.h"
#include "tickforge/label/movement.h"
#include "tickforge/label/source.h"
#include "tickforge/label/update.h"
#include "tickforge/pipeline/config.h"
#include "tickforge/pipeline/run.h"
#include "tickforge/python/bindings.h"
#include "tickforge/python/errors.h"
#include "tickforge/python/progress.h"

namespace nb = nanobind;

namespace tickforge::python {
namespace {

// The config arrives as a file path (or none) plus a JSON object of keyword overrides.
label::LabelConfig LabelConfigFrom(const std::optional<std::string>& config_file, const std::string& overrides) {
  label::LabelConfig config;
  if (config_file) Check(label::ApplyFile(*config_file, &config));
  Check(label::ApplyJson(nlohmann::json::parse(overrides), &config, "arguments"));
  return config;
}

label::BuildOptions BuildOptionsOf(bool skip_bad_files, PyProgress& progress) {
  label::BuildOptions options;
  options.skip_bad_files = skip_bad_files;
  options.progress = progress.Fn();
  return options;
}

std::string LabelFit(const std::vector<std::string>& inputs, const std::string& out,
                     std::optional<std::string> config_file, const std::string& overrides, bool skip_bad_files,
                     nb::object callback) {
  auto config = LabelConfigFrom(config_file, overrides);
  PyProgress progress(std::move(callback));
  const auto options = BuildOptionsOf(skip_bad_files, progress);
  return progress.Run([&] { return label::Fit(inputs, config, out, options); }).dump();
}

std::string LabelBuild(const std::vector<std::string>& inputs, const std::string& thresholds,
                       const std::string& out_dir, std::optional<std::string> config_file,
                       const std::string& overrides, bool skip_bad_files, nb::object callback) {
  auto config = LabelConfigFrom(config_file, overrides);
  PyProgress progress(std::move(callback));
  const auto options = BuildOptionsOf(skip_bad_files, progress);
  const auto doc = nlohmann::ordered_json::parse(thresholds);
  return progress.Run([&] { return label::Build(inputs, doc, config, out_dir, options); }).dump();
}

std::string LabelRun(const std::vector<std::string>& inputs, const std::string& out_dir,
                     std::optional<std::string> config_file, const std::string& overrides, bool skip_bad_files,
                     nb::object callback) {
  auto config = LabelConfigFrom(config_file, overrides);
  PyProgress progress(std::move(callback));
  const auto options = BuildOptionsOf(skip_bad_files, progress);
  return progress.Run([&] { return label::Run(inputs, config, out_dir, options); }).dump();
}

// Fit, build or run with a store snapshot as the input and/or a store commit as the output.
// `request` (JSON): inputs (raw files) or store, dataset, version, symbols, start, end; out (a
// folder; for fit the thresholds.json path) or into + name; thresholds (build only).
std::string LabelStore(const std::string& verb, const std::string& request_text, std::optional<std::string> config_file,
                       const std::string& overrides, bool skip_bad_files, nb::object callback) {
  auto config = LabelConfigFrom(config_file, overrides);
  const auto request = nlohmann::ordered_json::parse(request_text);
  PyProgress progress(std::move(callback));
  const auto options = BuildOptionsOf(skip_bad_files, progress);
  return progress.Run([&]() -> Result<std::string> {
    std::vector<label::InputFile> files;
    nlohmann::ordered_json source;
    const bool into = request.contains("into");
    if (request.contains("store")) {
      label::StoreSelection selection;
      selection.root = request.at("store").get<std::string>();
      selection.dataset = request.value("dataset", selection.dataset);
      if (request.contains("version")) selection.version = request.at("version").get<int64_t>();
      selection.symbols = request.value("symbols", std::vector<std::string>{});
      selection.start = request.value("start", std::string());
      selection.end = request.value("end", std::string());
      ARROW_ASSIGN_OR_RAISE(auto resolved, label::ListStoreInputs(selection));
      files = std::move(resolved.files);
      source = std::move(resolved.lineage);
    } else {
      ARROW_ASSIGN_OR_RAISE(files, label::ListInputs(request.at("inputs").get<std::vector<std::string>>()));
      if (into) {
        ARROW_ASSIGN_OR_RAISE(source, label::RawLineage(files));
      }
    }
    if (verb == "fit") {
      ARROW_ASSIGN_OR_RAISE(auto doc, label::FitInputs(files, config, request.at("out").get<std::string>(), options));
      return doc.dump();
    }
    std::optional<nlohmann::ordered_json> thresholds;
    if (verb == "build") thresholds = request.at("thresholds");
    if (into) {
      ARROW_ASSIGN_OR_RAISE(auto result, label::LabelIntoStore(files, thresholds ? &*thresholds : nullptr, config,
                                                                {request.at("into").get<std::string>(),
                                                                 request.at("name").get<std::string>()},
                                                                source, options));
      auto doc = result.report;
      doc["committed"] = {{"dataset", result.dataset}, {"version", result.version}, {"lineage", result.lineage}};
      return doc.dump();
    }
    const std::string out = request.at("out").get<std::string>();
    ARROW_ASSIGN_OR_RAISE(auto doc, thresholds ? label::BuildInputs(files, *thresholds, config, out, options)
                                               : label::RunInputs(files, config, out, options));
    return doc.dump();
  });
}

// Extend labeled/<name> to the newest source snapshot (docs/labeling.md "Updating").
std::string LabelUpdate(const std::string& root, const std::string& name, bool rebuild, nb::object callback) {
  PyProgress progress(std::move(callback));
  const label::UpdateOptions options{.rebuild = rebuild, .progress = progress.Fn()};
  return label::UpdateJson(progress.Run([&] { return label::UpdateLabeled(root, name, options); })).dump();
}

// Run a pipeline file: ingest, then label build or update (docs/pipeline.md).
std::string PipelineRun(const std::string& path, nb::object callback) {
  PyProgress progress(std::move(callback));
  return pipeline::PipelineJson(progress.Run([&]() -> Result<pipeline::PipelineResult> {
           ARROW_ASSIGN_OR_RAISE(const auto options, pipeline::LoadPipeline(path));
           return pipeline::RunPipeline(options, progress.Fn());
         }))
      .dump();
}

// Movements and labels of one series held in memory (DESIGN.md §3.2-3.3), the kernel label
// build runs per symbol: movement NaN and label -1 where undefined.
nb::tuple ComputeLabels(nb::ndarray<const int64_t, nb::ndim<1>, nb::c_contig> bid,
                        nb::ndarray<const int64_t, nb::ndim<1>, nb::c_contig> ask, std::vector<double> boundaries,
                        int64_t lookback, int64_t forward, int64_t offset) {
  if (bid.shape(0) != ask.shape(0)) throw nb::value_error("bid and ask differ in length");
  if (lookback < 1 || forward < 1 || offset < 0) throw nb::value_error("need lookback, forward >= 1 and offset >= 0");
  const auto n = static_cast<size_t>(bid.shape(0));
  label::SeriesLabels labels;
  {
    nb::gil_scoped_release release;
    labels = Unwrap(label::ComputeLabels(std::span(bid.data(), n), std::span(ask.data(), n), boundaries, lookback,
                                         offset, forward));
  }
  auto* movement = new std::vector<double>(std::move(labels.movement));
  nb::capsule own_m(movement, [](void* p) noexcept { delete static_cast<std::vector<double>*>(p); });
  auto* label = new std::vector<int16_t>(std::move(labels.label));
  nb::capsule own_l(label, [](void* p) noexcept { delete static_cast<std::vector<int16_t>*>(p); });
  return nb::make_tuple(nb::ndarray<nb::numpy, double>(movement->data(), {n}, own_m),
                        nb::ndarray<nb::numpy, int16_t>(label->data(), {n}, own_l));
}

}  // namespace

void BindLabel(nb::module_& m) {
  // progress: None or a callable taking one dict per update (python/progress.h).
  m.def("label_fit", &LabelFit, nb::arg("inputs"), nb::arg("out"), nb::arg("config_file").none(), nb::arg("overrides"),
        nb::arg("skip_bad_files"), nb::arg("progress").none() = nb::none());
  m.def("label_build", &LabelBuild, nb::arg("inputs"), nb::arg("thresholds"), nb::arg("out_dir"),
        nb::arg("config_file").none(), nb::arg("overrides"), nb::arg("skip_bad_files"),
        nb::arg("progress").none() = nb::none());
  m.def("label_run", &LabelRun, nb::arg("inputs"), nb::arg("out_dir"), nb::arg("config_file").none(),
        nb::arg("overrides"), nb::arg("skip_bad_files"), nb::arg("progress").none() = nb::none());
  m.def("label_store", &LabelStore, nb::arg("verb"), nb::arg("request"), nb::arg("config_file").none(),
        nb::arg("overrides"), nb::arg("skip_bad_files"), nb::arg("progress").none() = nb::none());
  m.def("label_update", &LabelUpdate, nb::arg("root"), nb::arg("name"), nb::arg("rebuild"),
        nb::arg("progress").none() = nb::none());
  m.def("pipeline_run", &PipelineRun, nb::arg("path"), nb::arg("progress").none() = nb::none());
  m.def("compute_labels", &ComputeLabels);
}

}  // namespace tickforge::python
