// Labeling from Python: fit, build, run and update, the pipeline file, and the labels of a series in memory.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tickforge/label/commit.h"
#include "tickforge/label/config.h"
#include "tickforge/label/distributed.h"
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

// The inputs a label request names (`store` and its selection, or raw `inputs`) and, for a
// request that commits (`into`), their lineage.
struct RequestInputs {
  std::vector<label::InputFile> files;
  nlohmann::ordered_json source;
};

Result<RequestInputs> InputsOf(const nlohmann::ordered_json& request) {
  RequestInputs out;
  if (request.contains("store")) {
    label::StoreSelection selection;
    selection.root = request.at("store").get<std::string>();
    selection.dataset = request.value("dataset", selection.dataset);
    if (request.contains("version")) selection.version = request.at("version").get<int64_t>();
    selection.symbols = request.value("symbols", std::vector<std::string>{});
    selection.start = request.value("start", std::string());
    selection.end = request.value("end", std::string());
    ARROW_ASSIGN_OR_RAISE(auto resolved, label::ListStoreInputs(selection));
    out.files = std::move(resolved.files);
    out.source = std::move(resolved.lineage);
  } else {
    ARROW_ASSIGN_OR_RAISE(out.files, label::ListInputs(request.at("inputs").get<std::vector<std::string>>()));
    if (request.contains("into")) {
      ARROW_ASSIGN_OR_RAISE(out.source, label::RawLineage(out.files));
    }
  }
  return out;
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
    const bool into = request.contains("into");
    ARROW_ASSIGN_OR_RAISE(auto inputs, InputsOf(request));
    auto& [files, source] = inputs;
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

// -- Labeling as tasks (tickforge.ray; label/distributed.h): every document passes as JSON text,
// fit candidates as bytes.

using Json = nlohmann::ordered_json;

// Resolve a label_store request's inputs and config into the plan every task reads; return
// {"plan", "given_config" (the config as given, for the lineage), "source" (for a commit)}.
std::string LabelDistPlan(const std::string& verb, const std::string& request_text,
                          std::optional<std::string> config_file, const std::string& overrides, bool skip_bad_files) {
  auto given = LabelConfigFrom(config_file, overrides);
  const auto request = Json::parse(request_text);
  return Unwrap([&]() -> Result<std::string> {
           if (request.contains("into")) {
             ARROW_RETURN_NOT_OK(label::LabeledDatasetName(request.at("name").get<std::string>()).status());
           }
           ARROW_ASSIGN_OR_RAISE(auto inputs, InputsOf(request));
           auto& [files, source] = inputs;
           label::LabelConfig config = given;
           if (verb == "build") {
             ARROW_ASSIGN_OR_RAISE(config, label::distributed::BuildConfig(request.at("thresholds"), given));
           }
           ARROW_ASSIGN_OR_RAISE(auto plan, label::distributed::MakePlan(std::move(files), config, verb == "fit",
                                                                          skip_bad_files));
           return Json{{"plan", plan}, {"given_config", given.ToJson()}, {"source", source}}.dump();
         }());
}

std::string LabelDistScratch(const std::string& near) { return label::ScratchDirNear(near).string(); }

std::string LabelDistSplit(const std::string& plan, int index, const std::string& dir) {
  const auto doc = Json::parse(plan);
  nb::gil_scoped_release release;
  return Unwrap(label::distributed::SplitTask(doc, index, dir)).dump();
}

std::string LabelDistMerge(const std::string& plan, const std::vector<std::string>& results) {
  std::vector<Json> docs;
  for (const auto& r : results) docs.push_back(Json::parse(r));
  return Unwrap(label::distributed::MergeSplits(Json::parse(plan), docs)).dump();
}

nb::bytes LabelDistFitCandidates(const std::string& header, const std::string& symbol, const std::string& info) {
  const auto header_doc = Json::parse(header), info_doc = Json::parse(info);
  std::string blob;
  {
    nb::gil_scoped_release release;
    blob = Unwrap(label::distributed::FitCandidatesTask(header_doc, symbol, info_doc));
  }
  return nb::bytes(blob.data(), blob.size());
}

// Pool the candidates into the thresholds document; write it to `out` when given.
std::string LabelDistFitMerge(const std::string& merged, const std::vector<nb::bytes>& blobs,
                              std::optional<std::string> out) {
  std::vector<std::string> copies;
  for (const auto& b : blobs) copies.emplace_back(b.c_str(), b.size());
  const auto doc = Json::parse(merged);
  nb::gil_scoped_release release;
  auto thresholds = Unwrap(label::distributed::FitMerge(doc, copies));
  if (out) Check(label::distributed::WriteJsonDoc(*out, thresholds));
  return thresholds.dump();
}

std::string LabelDistBuild(const std::string& header, const std::string& symbol, const std::string& info,
                           const std::string& thresholds, const std::string& out_dir) {
  const auto header_doc = Json::parse(header), info_doc = Json::parse(info), thresholds_doc = Json::parse(thresholds);
  nb::gil_scoped_release release;
  return Unwrap(label::distributed::BuildTask(header_doc, symbol, info_doc, thresholds_doc, out_dir)).dump();
}

// The build report of the symbols' entries, written as out_dir/build_report.json (with
// "thresholds": "thresholds.json" after a fit, as label run writes it).
std::string LabelDistReport(const std::string& merged, const std::string& thresholds,
                            const std::vector<std::string>& symbols, const std::vector<std::string>& entries,
                            double seconds, const std::string& out_dir, bool fitted) {
  if (symbols.size() != entries.size()) throw nb::value_error("symbols and entries differ in length");
  auto by_name = Json::object();
  for (size_t i = 0; i < symbols.size(); ++i) by_name[symbols[i]] = Json::parse(entries[i]);
  auto report = Unwrap(label::distributed::BuildReportOf(Json::parse(merged), Json::parse(thresholds), by_name, seconds));
  if (fitted) report["thresholds"] = "thresholds.json";
  Check(label::distributed::WriteJsonDoc(std::filesystem::path(out_dir) / "build_report.json", report));
  return report.dump();
}

std::string LabelDistWriteJson(const std::string& path, const std::string& doc) {
  Check(label::distributed::WriteJsonDoc(path, Json::parse(doc)));
  return path;
}

// Commit a build's folder inside the store as labeled/<name>; return the report with
// "committed" as label_store gives it.
std::string LabelDistCommit(const std::string& root, const std::string& name, const std::string& dir,
                            const std::string& report_text, const std::string& given_config,
                            const std::string& source) {
  label::LabelConfig config;
  Check(label::ApplyJson(nlohmann::json::parse(given_config), &config, "the plan's config"));
  const auto report = Json::parse(report_text);
  auto result = Unwrap(label::CommitLabeledDir(root, name, dir, report, config, Json::parse(source)));
  auto doc = report;
  doc["committed"] = {{"dataset", result.dataset}, {"version", result.version}, {"lineage", result.lineage}};
  return doc.dump();
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
  m.def("label_dist_plan", &LabelDistPlan, nb::arg("verb"), nb::arg("request"), nb::arg("config_file").none(),
        nb::arg("overrides"), nb::arg("skip_bad_files"));
  m.def("label_dist_scratch", &LabelDistScratch);
  m.def("label_dist_split", &LabelDistSplit);
  m.def("label_dist_merge", &LabelDistMerge);
  m.def("label_dist_fit_candidates", &LabelDistFitCandidates);
  m.def("label_dist_fit_merge", &LabelDistFitMerge, nb::arg("merged"), nb::arg("blobs"), nb::arg("out").none());
  m.def("label_dist_build", &LabelDistBuild);
  m.def("label_dist_report", &LabelDistReport);
  m.def("label_dist_write_json", &LabelDistWriteJson);
  m.def("label_dist_commit", &LabelDistCommit);
}

}  // namespace tickforge::python
