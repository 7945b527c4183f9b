// The check names of the quality checkers and `--fail-on`'s groups of them, applied to a
// store's quality summary (store/quality.h).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tickforge/util/status.h"

namespace tickforge::quality {

/// Every check name the checkers use.
[[nodiscard]] const std::vector<std::string>& CheckNames();

/// Expand `--fail-on` names into check names: a check's own name, or a group (gaps, crossed,
/// duplicates, time, prices, book, all). Unknown names are an error listing the known ones.
[[nodiscard]] Result<std::vector<std::string>> ExpandFailOn(const std::vector<std::string>& names);

/// Return (check, count) of the `checks` with defects in `quality` (StoreQuality's result).
[[nodiscard]] std::vector<std::pair<std::string, int64_t>> FailingChecks(const nlohmann::json& quality,
                                                                       const std::vector<std::string>& checks);

}  // namespace tickforge::quality
