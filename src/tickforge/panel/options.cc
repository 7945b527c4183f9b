// The panel's options (order names, range checks), the public selection hash, and the report
// as JSON.
#include "tickforge/panel/panel.h"

#include <string>
#include <string_view>

#include "tickforge/panel/selection_internal.h"
#include "tickforge/util/random.h"

namespace tickforge::panel {

Result<Order> ParseOrder(std::string_view name) {
  if (name == "symbol") return Order::kSymbol;
  if (name == "time") return Order::kTime;
  return Status::Invalid("order must be 'symbol' or 'time', got '", name, "'");
}

std::string_view OrderName(Order order) { return order == Order::kSymbol ? "symbol" : "time"; }

Status PanelOptions::Validate() const {
  if (symbol_column.empty()) return Status::Invalid("symbol_column must not be empty");
  if (min_cs < 0) return Status::Invalid("min_cs must be >= 0, got ", min_cs);
  if (max_cs_samples < 0) return Status::Invalid("max_cs_samples must be >= 0, got ", max_cs_samples);
  if (batch_rows < 1) return Status::Invalid("batch_rows must be >= 1, got ", batch_rows);
  if (merge_memory < 1) return Status::Invalid("merge_memory must be >= 1, got ", merge_memory);
  if (!target_column.empty() && target_column == symbol_column) {
    return Status::Invalid("target_column and symbol_column are both '", symbol_column, "'");
  }
  return Status::OK();
}

uint64_t SelectionHash(uint64_t seed, int64_t t, std::string_view symbol) {
  return SelectionHashOf(SplitMix64(seed), t, Fnv1a64(symbol));
}

nlohmann::ordered_json PanelReport::ToJson() const {
  nlohmann::ordered_json j;
  j["symbols_in"] = symbols_in;
  j["symbols"] = symbols;
  auto skipped_json = nlohmann::ordered_json::array();
  for (const auto& s : skipped) skipped_json.push_back({{"symbol", s.symbol}, {"reason", s.reason}});
  j["skipped"] = skipped_json;
  j["time_column"] = time_column.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(time_column);
  j["timestamps"] = timestamps;
  j["timestamps_kept"] = timestamps_kept;
  j["rows_out"] = rows_out;
  j["spilled_bytes"] = spilled_bytes;
  return j;
}

}  // namespace tickforge::panel
