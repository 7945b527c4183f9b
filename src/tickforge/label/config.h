// The labeling configuration (docs/labeling.md): one struct, read from YAML or JSON with
// unknown keys rejected, and written back into thresholds.json.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/label/midprice.h"
#include "tickforge/util/config.h"
#include "tickforge/util/status.h"

namespace tickforge::label {

enum class Mode { kGlobal, kPerSymbol };

struct LabelConfig {
  std::string currency = "AUDUSD";
  std::vector<std::string> features = {"volume"};
  int64_t lookback_rows = 5000;
  int64_t lookforward_input = 5000;
  int64_t lookforward_offset = 500;
  int nbins = 13;
  double fit_fraction = 0.5;
  double file_sample_fraction = 1.0;
  int64_t jump_size = 100;
  int64_t max_samples_per_file = 10000;
  double max_abs_movement = 0.1;
  int64_t min_symbol_samples = 1000;
  std::optional<double> min_price;
  std::optional<double> max_price;
  bool keep_intermediate = false;
  uint64_t seed = 0;
  Mode mode = Mode::kGlobal;
  /// Mid-price label columns (DESIGN.md §3.7): one per scheme ("deeplob", "fi2010") and
  /// horizon, label_<scheme>_k<k>; none when the list is empty.
  std::vector<std::string> midprice_labels;
  std::vector<int64_t> midprice_horizons = {10, 20, 50, 100};
  /// α of the three classes; unset: fit on the fit part so its classes are balanced.
  std::optional<double> midprice_alpha;
  /// h, the rows each mid mean covers; 0: the horizon k.
  int64_t midprice_smoothing = 0;
  /// Label every n-th valid row (FI-2010 used 10); horizons count those rows.
  int64_t midprice_downsample = 1;
  /// The depth images' price step for this data (e.g. the instrument's tick size: 0.1 for
  /// BTCUSDT, 1e-5 for AUDUSD), recorded in each labeled dataset's metadata for render and the
  /// loader; unset: not recorded (their default applies).
  std::optional<double> micro_pip_size;

  /// The keys a file or caller set explicitly (so a conflict with thresholds.json is seen).
  std::set<std::string> explicit_keys;

  /// Check ranges (nbins 2..255, fractions in (0, 1], positive windows, ...).
  [[nodiscard]] Status Validate() const;
  /// Return the mid-price label columns, scheme by scheme, horizon by horizon (checked by Validate).
  [[nodiscard]] std::vector<MidLabelSpec> MidLabels() const;
  /// Return every key, as a config file would hold it.
  [[nodiscard]] nlohmann::ordered_json ToJson() const;
};

/// Apply the keys of `json` onto `config`; an unknown key or a wrong type is an error naming it.
[[nodiscard]] Status ApplyJson(const nlohmann::json& json, LabelConfig* config, std::string_view source);

/// Apply one "key=value" assignment from a command line; the value is read as YAML.
[[nodiscard]] Status ApplyAssignment(const std::string& assignment, LabelConfig* config);

/// Read a YAML or JSON config file (detected by content) onto `config`.
[[nodiscard]] Status ApplyFile(const std::string& path, LabelConfig* config);

[[nodiscard]] std::string_view ModeName(Mode mode);

/// Return the table of the keys a labeling config accepts.
[[nodiscard]] const config::Table<LabelConfig>& LabelConfigTable();

}  // namespace tickforge::label
