// The plan of a panel, made once before any row is read: which symbols it includes, its output
// schema, its time column, what each input reads, and the cross-sectional filters' first pass
// (per timestamp: kept or not, and the selection threshold).
#pragma once

#include <arrow/type_fwd.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tickforge/panel/panel.h"
#include "tickforge/panel/selection_internal.h"
#include "tickforge/panel/source_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::panel {

/// Everything a reader of the panel needs, fixed before the first row is read.
struct PanelBuilder::Plan {
  PanelOptions options;
  std::vector<std::shared_ptr<Source>> sources;  // included, sorted by symbol
  std::vector<uint64_t> symbol_hashes;
  std::shared_ptr<arrow::Schema> schema;  // output
  int symbol_field = -1;
  std::vector<std::string> read_columns;  // read from each input; empty: all
  std::string time_column;
  bool filtered = false;
  uint64_t seed_hash = 0;
  // Per distinct time key with a present target: how many symbols, and the largest selected key.
  std::vector<int64_t> cs_time;
  std::vector<uint8_t> cs_keep;
  std::vector<SelectionKey> cs_threshold;
  PanelReport report;
};

using Plan = PanelBuilder::Plan;

/// Plan the panel of `sources` (by symbol): read the Parquet footers (filling in each source's
/// schema, size, footers and null-free columns), skip symbols without the target, unify the
/// schemas, resolve the time column, and with min_cs or max_cs_samples count the cross-sections.
/// Errors name the input that does not fit.
[[nodiscard]] Result<std::shared_ptr<Plan>> BuildPlan(const PanelOptions& requested,
                                                      const std::map<std::string, std::shared_ptr<Source>>& sources);

}  // namespace tickforge::panel
