// The per-symbol build (docs/labeling.md "Labels", "Outputs"): one symbol's series, every row
// with its movement and class, written as a labeled dataset through dataset/, with the class
// counts on the fit part and on the rest.
#pragma once

#include <arrow/api.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "tickforge/label/config.h"
#include "tickforge/label/split_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::label::internal {

/// What building one symbol's dataset gave.
struct SymbolResult {
  int64_t labeled = 0;               ///< rows with a movement (and so a class)
  std::vector<int64_t> classes_fit;  ///< class counts of the rows in_fit says are fit rows
  std::vector<int64_t> classes_rest;
  int64_t output_bytes = 0;
};

/// Label the series of `info` against `boundaries` and write it to `path` as a labeled
/// dataset of `base_schema`'s columns plus price_movement and classification_label.
/// in_fit(file, t) says whether row t (from input file `file`) counts as a fit row.
[[nodiscard]] Result<SymbolResult> BuildSymbol(const SymbolInfo& info, const std::vector<double>& boundaries,
                                               const LabelConfig& config,
                                               const std::function<bool(int32_t, int64_t)>& in_fit,
                                               const std::shared_ptr<arrow::Schema>& base_schema,
                                               const std::filesystem::path& path);

}  // namespace tickforge::label::internal
