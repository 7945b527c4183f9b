#include "tickforge/features/options.h"

#include <string>
#include <vector>

namespace tickforge::features {

const config::Table<ImageOptions>& ImageOptionsTable() {
  static const auto* table = [] {
    using nlohmann::json;
    auto* t = new config::Table<ImageOptions>();
    t->Custom(
         "features",
         [](const json& value, ImageOptions* o, std::string_view source, std::string_view key) -> Status {
           const json names = value.is_string() ? json::array({value}) : value;
           std::vector<std::string> list;
           ARROW_RETURN_NOT_OK(config::Read(names, source, key, &list));
           o->features.clear();
           for (const auto& name : list) {
             auto feature = FeatureFromName(name);
             if (!feature.ok()) return Status::Invalid(source, ": key '", key, "': ", feature.status().message());
             o->features.push_back(*feature);
           }
           return Status::OK();
         },
         [](const ImageOptions& o) -> nlohmann::ordered_json {
           auto out = nlohmann::ordered_json::array();
           for (auto feature : o.features) out.push_back(FeatureName(feature));
           return out;
         },
         "volume, variance and/or trade_counts")
        .Field("time_bins", &ImageOptions::time_bins, "T: columns of each image")
        .Field("ticks_per_bin", &ImageOptions::ticks_per_bin, "rows per column")
        .Field("micro_pip_size", &ImageOptions::micro_pip_size, "price of one image row");
    return t;
  }();
  return *table;
}

}  // namespace tickforge::features
