// The per-symbol build (docs/labeling.md "Labels", "Outputs"): one symbol's series, every row
// with its movement and class, written as a labeled dataset through dataset/, with the class
// counts on the fit part and on the rest.
#pragma once

#include <arrow/api.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/label/config.h"
#include "tickforge/label/midprice.h"
#include "tickforge/label/split_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::label::internal {

/// A mid-price label column to build, with the α of this symbol.
struct MidColumn {
  MidLabelSpec spec;
  double alpha = 0;
};

/// Return the boundaries `thresholds` holds for `symbol`: the global set, or the symbol's own
/// (a KeyError when it has none).
[[nodiscard]] Result<std::vector<double>> BoundariesFrom(const nlohmann::ordered_json& thresholds,
                                                         const std::string& symbol);

/// Return the mid-price columns `thresholds` records, with `symbol`'s α; a KeyError when the
/// symbol has no α of its own (per-symbol mode, too few fit rows).
[[nodiscard]] Result<std::vector<MidColumn>> MidColumnsFrom(const nlohmann::ordered_json& thresholds,
                                                            const LabelConfig& config, const std::string& symbol);

/// Return `given` with the keys thresholds.json decides (windows, nbins, mode, price bounds,
/// mid-price labels) taken from the fit; an error where `given` sets one explicitly to another value.
[[nodiscard]] Result<LabelConfig> ConfigForThresholds(const nlohmann::ordered_json& thresholds,
                                                      const LabelConfig& given);

/// What building one symbol's dataset gave.
struct SymbolResult {
  int64_t labeled = 0;               ///< rows with a movement (and so a class)
  std::vector<int64_t> classes_fit;  ///< class counts of the rows in_fit says are fit rows
  std::vector<int64_t> classes_rest;
  int64_t output_bytes = 0;
  /// Per mid-price column, its class counts (3) on the fit part and on the rest.
  std::vector<std::vector<int64_t>> mid_fit;
  std::vector<std::vector<int64_t>> mid_rest;
};

/// Label the series of `info` against `boundaries` and write it to `path` as a labeled
/// dataset of `base_schema`'s columns plus price_movement, classification_label and a column
/// per entry of `mid` (its classes against its α).
/// in_fit(file, t) says whether row t (from input file `file`) counts as a fit row.
[[nodiscard]] Result<SymbolResult> BuildSymbol(const SymbolInfo& info, const std::vector<double>& boundaries,
                                               const LabelConfig& config,
                                               const std::function<bool(int32_t, int64_t)>& in_fit,
                                               const std::shared_ptr<arrow::Schema>& base_schema,
                                               const std::filesystem::path& path,
                                               const std::vector<MidColumn>& mid = {}, int size_scale = 0);

/// Return, per input of `ws`, whether `thresholds` lists it among its fit files.
[[nodiscard]] std::vector<bool> FitFileFlags(const Workspace& ws, const nlohmann::ordered_json& thresholds);

/// Build the dataset of `info` (a symbol of `ws`) into `out_dir` when it has enough valid rows
/// and thresholds, and return its build_report.json entry (the reason it got none, else its
/// counts and "output").
[[nodiscard]] Result<nlohmann::ordered_json> BuildSymbolEntry(const Workspace& ws, const SymbolInfo& info,
                                                              const nlohmann::ordered_json& thresholds,
                                                              const LabelConfig& config,
                                                              const std::vector<bool>& file_in_fit,
                                                              const std::filesystem::path& out_dir);

/// Return the build report of `ws` with `symbols` (its symbols' BuildSymbolEntry, by name, in
/// name order) and the time the build took.
[[nodiscard]] nlohmann::ordered_json BuildReport(const Workspace& ws, const nlohmann::ordered_json& thresholds,
                                                 const LabelConfig& config, nlohmann::ordered_json symbols,
                                                 double seconds);

}  // namespace tickforge::label::internal
