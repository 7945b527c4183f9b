// Depth images from Python: one sample of a labeled dataset as a numpy array.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <string>
#include <vector>

#include "tickforge/features/depth_image.h"
#include "tickforge/python/bindings.h"
#include "tickforge/python/errors.h"

namespace nb = nanobind;

namespace tickforge::python {

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

namespace {

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

}  // namespace

void BindFeatures(nb::module_& m) { m.def("render", &Render); }

}  // namespace tickforge::python
