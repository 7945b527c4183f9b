#include "tickforge/label/config.h"

#include <cmath>

#include "tickforge/label/midprice.h"

namespace tickforge::label {

const config::Table<LabelConfig>& LabelConfigTable() {
  static const auto* table = [] {
    auto* t = new config::Table<LabelConfig>();
    using C = LabelConfig;
    t->Field("currency", &C::currency, "first part of each dataset's file name")
        .Field("features", &C::features, "depth-image features the datasets are meant for")
        .Field("lookback_rows", &C::lookback_rows, "L: rows of the lookback window")
        .Field("lookforward_input", &C::lookforward_input, "F: rows of the lookforward window")
        .Field("lookforward_offset", &C::lookforward_offset, "O: rows skipped before the lookforward window")
        .Field("nbins", &C::nbins, "classes (quantile bins)")
        .Field("fit_fraction", &C::fit_fraction, "first share of the files the thresholds are fit on")
        .Field("file_sample_fraction", &C::file_sample_fraction, "share of the fit files sampled")
        .Field("jump_size", &C::jump_size, "rows between fit candidates")
        .Field("max_samples_per_file", &C::max_samples_per_file, "fit samples kept per file")
        .Field("max_abs_movement", &C::max_abs_movement, "movements beyond this are dropped from the fit")
        .Field("min_symbol_samples", &C::min_symbol_samples, "symbols with fewer labeled rows are dropped")
        .Field("min_price", &C::min_price, "rows whose mid is below are invalid (null: no bound)")
        .Field("max_price", &C::max_price, "rows whose mid is above are invalid (null: no bound)")
        .Field("keep_intermediate", &C::keep_intermediate, "keep the scratch parts")
        .Field("seed", &C::seed, "seed of every sampled draw")
        .Choice("mode", &C::mode, std::vector<std::pair<std::string, Mode>>{{"global", Mode::kGlobal}, {"per-symbol", Mode::kPerSymbol}},
                "one threshold set for all symbols, or one per symbol")
        .Field("midprice_labels", &C::midprice_labels, "mid-price label schemes to add: deeplob, fi2010")
        .Field("midprice_horizons", &C::midprice_horizons, "horizons k (rows) of the mid-price labels")
        .Field("midprice_alpha", &C::midprice_alpha, "class threshold of the mid-price labels (null: fit to balance)")
        .Field("midprice_smoothing", &C::midprice_smoothing, "rows h of each mid mean (0: the horizon)")
        .Field("midprice_downsample", &C::midprice_downsample, "label every n-th valid row")
        .Field("micro_pip_size", &C::micro_pip_size,
               "depth images' price step recorded with the datasets, e.g. the tick size (null: not recorded)");
    return t;
  }();
  return *table;
}

std::string_view ModeName(Mode mode) { return mode == Mode::kGlobal ? "global" : "per-symbol"; }

Status ApplyJson(const nlohmann::json& json, LabelConfig* c, std::string_view source) {
  return LabelConfigTable().Apply(json, c, source, &c->explicit_keys);
}

Status ApplyFile(const std::string& path, LabelConfig* config) {
  ARROW_ASSIGN_OR_RAISE(auto json, config::LoadFile(path));
  return ApplyJson(json, config, path);
}

Status ApplyAssignment(const std::string& assignment, LabelConfig* config) {
  return LabelConfigTable().ApplyAssignment(assignment, config, &config->explicit_keys);
}

Status LabelConfig::Validate() const {
  const auto fail = [](auto&&... parts) { return Status::Invalid("config: ", parts...); };
  if (nbins < 2 || nbins > 255) return fail("nbins must be in 2..255, got ", nbins);
  if (lookback_rows < 1) return fail("lookback_rows must be >= 1, got ", lookback_rows);
  if (lookforward_input < 1) return fail("lookforward_input must be >= 1, got ", lookforward_input);
  if (lookforward_offset < 0) return fail("lookforward_offset must be >= 0, got ", lookforward_offset);
  if (!(fit_fraction > 0 && fit_fraction <= 1)) return fail("fit_fraction must be in (0, 1], got ", fit_fraction);
  if (!(file_sample_fraction > 0 && file_sample_fraction <= 1)) {
    return fail("file_sample_fraction must be in (0, 1], got ", file_sample_fraction);
  }
  if (jump_size < 1) return fail("jump_size must be >= 1, got ", jump_size);
  if (max_samples_per_file < 1) return fail("max_samples_per_file must be >= 1, got ", max_samples_per_file);
  if (!(max_abs_movement > 0)) return fail("max_abs_movement must be > 0, got ", max_abs_movement);
  if (min_symbol_samples < 0) return fail("min_symbol_samples must be >= 0, got ", min_symbol_samples);
  if (min_price && max_price && *min_price > *max_price) return fail("min_price is above max_price");
  if (currency.empty() || currency.find('/') != std::string::npos) return fail("currency must be a plain name");
  if (micro_pip_size) {
    const double units = *micro_pip_size * 1e9;
    if (!(units >= 1) || std::abs(units - std::round(units)) > 1e-6) {
      return fail("micro_pip_size must be a positive multiple of 1e-9, got ", *micro_pip_size);
    }
  }
  for (const auto& feature : features) {
    if (feature != "volume" && feature != "variance" && feature != "trade_counts") {
      return fail("unknown feature '", feature, "' (volume, variance, trade_counts)");
    }
  }
  std::set<std::string> columns;
  for (const auto& name : midprice_labels) {
    if (auto scheme = ParseMidScheme(name); !scheme.ok()) return fail(scheme.status().message());
  }
  if (!midprice_labels.empty() && midprice_horizons.empty()) return fail("midprice_horizons is empty");
  for (const auto& spec : MidLabels()) {
    ARROW_RETURN_NOT_OK(spec.Validate());
    if (!columns.insert(spec.Column()).second) return fail("mid-price label ", spec.Column(), " is asked for twice");
  }
  if (midprice_alpha && !(*midprice_alpha >= 0)) return fail("midprice_alpha must be >= 0, got ", *midprice_alpha);
  return Status::OK();
}

std::vector<MidLabelSpec> LabelConfig::MidLabels() const {
  std::vector<MidLabelSpec> out;
  for (const auto& name : midprice_labels) {
    auto scheme = ParseMidScheme(name);
    if (!scheme.ok()) continue;
    for (int64_t k : midprice_horizons) out.push_back({*scheme, k, midprice_smoothing, midprice_downsample});
  }
  return out;
}

nlohmann::ordered_json LabelConfig::ToJson() const { return LabelConfigTable().ToJson(*this); }

}  // namespace tickforge::label
