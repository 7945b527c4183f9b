// The training-data loader from Python: batches come out as numpy arrays over the engine's
// batch buffers, without a copy.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "tickforge/loader/loader.h"
#include "tickforge/loader/options.h"
#include "tickforge/python/bindings.h"
#include "tickforge/python/errors.h"

namespace nb = nanobind;

namespace tickforge::python {
namespace {

// The loader's options arrive as one JSON object with the Python keyword names, holding only
// what the caller set; the engine's option structs supply every default.
loader::LoaderConfig ReadLoaderConfig(const std::string& json) {
  loader::LoaderConfig config;
  Check(loader::ApplyLoaderJson(nlohmann::json::parse(json), &config, "loader options"));
  Check(config.engine.image.Validate());
  return config;
}

// Return the options with every default filled in, as JSON.
std::string LoaderConfigJson(const std::string& json) {
  return loader::LoaderConfigTable().ToJson(ReadLoaderConfig(json)).dump();
}

std::unique_ptr<loader::Loader> OpenLoader(const std::string& json) {
  auto options = ReadLoaderConfig(json).engine;
  nb::gil_scoped_release release;
  return Unwrap(loader::Loader::Open(std::move(options)));
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
  const auto& options = self.options();
  const auto& image = options.image;
  const auto B = static_cast<size_t>(batch->size);
  const auto planes = image.features.size();
  const auto T = static_cast<size_t>(image.time_bins);
  const auto rows = static_cast<size_t>(options.window), width = static_cast<size_t>(4 * options.levels);
  nb::object features = options.snapshots()
      ? (options.channel_dim ? nb::cast(View(batch->features, {B, size_t{1}, rows, width}, batch))
                             : nb::cast(View(batch->features, {B, rows, width}, batch)))
      : planes == 1
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

}  // namespace

void BindLoader(nb::module_& m) {
  m.def("loader_config", &LoaderConfigJson, nb::arg("options"),
        "Return the loader options (JSON) with every key the caller left out at its default.");
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
      .def("class_counts", &loader::Loader::class_counts)
      .def("report", [](const loader::Loader& self) { return self.Report().dump(); });
}

}  // namespace tickforge::python
