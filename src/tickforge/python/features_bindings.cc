// Depth images from Python: one sample of a labeled dataset as a numpy array.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "tickforge/features/depth_image.h"
#include "tickforge/features/options.h"
#include "tickforge/python/bindings.h"
#include "tickforge/python/errors.h"

namespace nb = nanobind;

namespace tickforge::python {
namespace {

// Returns (402, T) for one feature and (N, 402, T) for several; numpy owns the buffer. The
// image options arrive as JSON holding only what the caller set.
nb::ndarray<nb::numpy, float> Render(const std::string& dataset, std::optional<int64_t> row, std::optional<int64_t> ts,
                                     const std::string& options_json) {
  if (row.has_value() == ts.has_value()) throw nb::value_error("give exactly one of row= and ts=");
  auto options = Unwrap(features::DatasetImageOptions(dataset));
  Check(features::ImageOptionsTable().Apply(nlohmann::json::parse(options_json), &options, "render options"));
  Check(options.Validate());
  const auto time_bins = options.time_bins;
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
