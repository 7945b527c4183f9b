// The market-data store from Python: options arrive as JSON objects (the keyword arguments),
// results leave as JSON text or Arrow C streams.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tickforge/label/commit.h"
#include "tickforge/python/arrow_stream.h"
#include "tickforge/python/bindings.h"
#include "tickforge/python/errors.h"
#include "tickforge/python/progress.h"
#include "tickforge/store/quality.h"
#include "tickforge/store/convert.h"
#include "tickforge/store/options.h"
#include "tickforge/store/staging.h"
#include "tickforge/store/store.h"
#include "tickforge/store/synthetic.h"

namespace nb = nanobind;

namespace tickforge::python {
namespace {

// The store as Python sees it: options arrive as JSON objects (the keyword arguments), results
// leave as JSON text or Arrow C streams.
class PyStore {
 public:
  PyStore(const std::string& root, bool create, const std::string& options) {
    auto parsed = Unwrap(store::StoreOptionsFromJson(nlohmann::json::parse(options)));
    store_ = Unwrap(store::Store::Open(root, create, parsed));
  }

  std::string Ingest(const std::vector<std::string>& paths, const std::string& options, nb::object callback) {
    auto parsed = Unwrap(store::IngestOptionsFromJson(nlohmann::json::parse(options)));
    PyProgress progress(std::move(callback));
    parsed.progress = progress.Fn();
    return store::ToJson(progress.Run([&] { return store_->Ingest(paths, parsed); })).dump();
  }

  // One commit of the attempts a staged job's tasks returned (staging.h); options as ingest's.
  std::string CommitStaged(const std::string& job, const std::vector<std::string>& manifests,
                           const std::string& options) {
    auto parsed = Unwrap(store::IngestOptionsFromJson(nlohmann::json::parse(options)));
    nb::gil_scoped_release release;
    return store::ToJson(Unwrap(store::CommitStaged(store_->paths(), store_->options(), job, manifests,
                                                    parsed.write))).dump();
  }

  void DiscardStagedJob(const std::string& job) {
    Check(store::DiscardStagedJob(store_->paths(), job));
  }

  std::string Write(const std::string& dataset, const std::string& type, nb::capsule capsule,
                    const std::string& options) {
    auto parsed = Unwrap(store::WriteOptionsFromJson(nlohmann::json::parse(options)));
    auto reader = ImportReader(capsule);
    nb::gil_scoped_release release;
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

  // (schema capsule, JSON of the plan: version, the dataset's rules, the selected files with
  // where each lies now).
  nb::tuple Plan(const std::string& dataset, const std::string& options) {
    auto parsed = Unwrap(store::ScanOptionsFromJson(nlohmann::json::parse(options)));
    store::ScanPlan plan;
    {
      nb::gil_scoped_release release;
      plan = Unwrap(store_->Plan(dataset, parsed));
    }
    nlohmann::json files = nlohmann::json::array();
    for (size_t i = 0; i < plan.files.size(); ++i) {
      auto file = store::ToJson(plan.files[i]);
      file["location"] = plan.locations[i].string();
      files.push_back(std::move(file));
    }
    nlohmann::json report = {{"version", plan.version},
                             {"type", plan.dataset.type},
                             {"partition_keys", plan.dataset.partition_keys},
                             {"time_column", plan.dataset.time_column},
                             {"files_total", plan.files_total},
                             {"files", std::move(files)}};
    return nb::make_tuple(ExportSchema(*plan.dataset.schema), report.dump());
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

  std::string Quality(const std::string& options) {
    auto query = Unwrap(store::QualityQueryFromJson(nlohmann::json::parse(options)));
    nb::gil_scoped_release release;
    return Unwrap(store::StoreQuality(store_->paths(), query)).dump();
  }

  std::string Info(std::optional<int64_t> version) {
    return store::SummaryJson(Unwrap(store_->ReadSnapshot(version))).dump();
  }

  // The file entries of a dataset at a version, as JSON.
  std::string Files(const std::string& dataset, std::optional<int64_t> version) {
    nlohmann::json files = nlohmann::json::array();
    {
      nb::gil_scoped_release release;
      auto snapshot = Unwrap(store_->ReadSnapshot(version));
      for (const auto& file : Unwrap(snapshot.Find(dataset))->files) files.push_back(store::ToJson(file));
    }
    return files.dump();
  }

  std::string Vacuum(const std::string& options) {
    auto parsed = Unwrap(store::VacuumOptionsFromJson(nlohmann::json::parse(options)));
    nb::gil_scoped_release release;
    return store::ToJson(Unwrap(store_->Vacuum(parsed))).dump();
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

int64_t WriteFlatParquet(nb::capsule capsule, const std::string& path, const std::string& options) {
  auto parsed = Unwrap(store::WriteOptionsFromJson(nlohmann::json::parse(options)));
  auto reader = ImportReader(capsule);
  nb::gil_scoped_release release;
  return Unwrap(store::WriteFlatParquet(*reader, path, parsed));
}

}  // namespace

void BindStore(nb::module_& m) {
  nb::class_<PyStore>(m, "Store")
      .def(nb::init<const std::string&, bool, const std::string&>())
      .def("ingest", &PyStore::Ingest, nb::arg("paths"), nb::arg("options"), nb::arg("progress").none() = nb::none())
      .def("write", &PyStore::Write)
      .def("scan", &PyStore::Scan)
      .def("plan", &PyStore::Plan)
      .def("latest_timestamp", &PyStore::LatestTimestamp)
      .def("compact", &PyStore::Compact)
      .def("migrate", &PyStore::Migrate)
      .def("materialize", &PyStore::Materialize)
      .def("cached", &PyStore::Cached)
      .def("clear_cache", &PyStore::ClearCache)
      .def("info", &PyStore::Info)
      .def("quality", &PyStore::Quality)
      .def("files", &PyStore::Files)
      .def("vacuum", &PyStore::Vacuum)
      .def("commit_staged", &PyStore::CommitStaged)
      .def("discard_staged_job", &PyStore::DiscardStagedJob);
  // A task of a staged ingest (tickforge.ray): its inputs into an attempt folder of the job;
  // returns the attempt's manifest (JSON text) for the driver's commit.
  m.def("stage_ingest", [](const std::string& root, const std::string& job, const std::string& task,
                           const std::vector<std::string>& paths, const std::string& options) {
    auto parsed = Unwrap(store::IngestOptionsFromJson(nlohmann::json::parse(options)));
    nb::gil_scoped_release release;
    return Unwrap(store::StageIngest(root, job, task, paths, parsed));
  });
  m.def("convert_consolidated", &ConvertConsolidated);
  m.def("memory_pool_stats", [] { return store::MemoryPoolJson().dump(); });
  m.def("write_flat_parquet", &WriteFlatParquet);
  // Benchmarks only: list synthetic file entries without writing their files (synthetic.h).
  m.def("store_append_synthetic_listing",
        [](const std::string& root, const std::string& dataset, int64_t files, int64_t symbols, int64_t commits) {
          store::SyntheticListingOptions options;
          options.dataset = dataset;
          options.files = files;
          options.symbols = symbols;
          options.commits = commits;
          nb::gil_scoped_release release;
          return Unwrap(store::AppendSyntheticListing(root, options));
        });
  // A labeled dataset's files at one committed version, and the lineage of its commit (JSON).
  m.def("labeled_snapshot", [](const std::string& root, const std::string& dataset, std::optional<int64_t> version) {
    label::LabeledSnapshot snapshot;
    {
      nb::gil_scoped_release release;
      snapshot = Unwrap(label::ResolveLabeled(root, dataset, version));
    }
    nlohmann::ordered_json doc = {
        {"version", snapshot.version}, {"files", snapshot.files}, {"stats_dir", snapshot.stats_dir}};
    doc["lineage"] = snapshot.lineage ? *snapshot.lineage : nlohmann::ordered_json();
    return doc.dump();
  });
}

}  // namespace tickforge::python
