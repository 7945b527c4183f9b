// The loader's keys, as the Python keywords and a loader config file (YAML or JSON) spell them,
// read through the one config layer onto LoaderOptions, whose defaults are the only ones.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "tickforge/loader/loader.h"
#include "tickforge/util/config.h"
#include "tickforge/util/status.h"

namespace tickforge::loader {

/// The engine's options plus the two the Python face acts on.
struct LoaderConfig {
  LoaderOptions engine;
  /// Yield each batch's index (symbol, ts_event, sequence, row) with it.
  bool return_index = false;
  /// Copy batches to page-locked memory when CUDA is available.
  bool pin_memory = false;
};

/// Return the table of the loader's keys.
[[nodiscard]] const config::Table<LoaderConfig>& LoaderConfigTable();

/// Apply `json` onto `config`. A "config" key names a YAML or JSON file whose keys are applied
/// first; the other keys of `json` win over it. Errors name `source` (or the file) and the key.
[[nodiscard]] Status ApplyLoaderJson(const nlohmann::json& json, LoaderConfig* config, std::string_view source);

}  // namespace tickforge::loader
