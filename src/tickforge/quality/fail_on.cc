#include "tickforge/quality/fail_on.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace tickforge::quality {

using nlohmann::json;

const std::vector<std::string>& CheckNames() {
  static const std::vector<std::string> names = {
      "missing_interval", "duplicate_interval", "time_backwards", "off_grid",   "time_unit",
      "non_positive_price", "ohlc_inconsistent", "id_gap",       "id_repeat",  "id_backwards",
      "crossed",          "locked",             "undefined_level", "sequence_gap", "mid_jump",
      "duplicate_record"};
  return names;
}

Result<std::vector<std::string>> ExpandFailOn(const std::vector<std::string>& names) {
  static const std::map<std::string, std::vector<std::string>> groups = {
      {"gaps", {"missing_interval", "id_gap", "sequence_gap"}},
      {"duplicates", {"duplicate_interval", "id_repeat", "duplicate_record"}},
      {"time", {"time_backwards", "off_grid", "time_unit", "id_backwards"}},
      {"prices", {"non_positive_price", "ohlc_inconsistent"}},
      {"book", {"crossed", "locked", "undefined_level", "sequence_gap", "mid_jump"}},
      {"all", CheckNames()},
  };
  std::vector<std::string> out;
  for (const auto& name : names) {
    if (name.empty()) continue;
    auto group = groups.find(name);
    if (group != groups.end()) {
      out.insert(out.end(), group->second.begin(), group->second.end());
    } else if (std::find(CheckNames().begin(), CheckNames().end(), name) != CheckNames().end()) {
      out.push_back(name);
    } else {
      std::vector<std::string> known;
      for (const auto& [g, _] : groups) known.push_back(g);
      known.insert(known.end(), CheckNames().begin(), CheckNames().end());
      return Status::Invalid("--fail-on: unknown check '", name, "' (known: ", fmt::format("{}", fmt::join(known, ", ")),
                             ")");
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::pair<std::string, int64_t>> FailingChecks(const json& quality, const std::vector<std::string>& checks) {
  std::vector<std::pair<std::string, int64_t>> failing;
  const auto& totals = quality.at("totals");
  for (const auto& check : checks) {
    if (totals.contains(check) && totals.at(check).get<int64_t>() > 0) {
      failing.emplace_back(check, totals.at(check).get<int64_t>());
    }
  }
  return failing;
}

}  // namespace tickforge::quality
