#include "tickforge/panel/config.h"

namespace tickforge::panel {

const config::Table<PanelOptions>& PanelOptionsTable() {
  static const auto* table = [] {
    auto* t = new config::Table<PanelOptions>();
    using O = PanelOptions;
    using config::Null;
    t->Field("symbol_column", &O::symbol_column, "column holding each row's symbol")
        .Field("target_column", &O::target_column, "skip symbols without it (null: no target)", Null::kClear)
        .Field("time_column", &O::time_column, "timestamp column (null: ts, timestamp, or the only one)", Null::kClear)
        .Field("columns", &O::columns, "read only these columns (empty: all)")
        .Field("metadata_columns", &O::metadata_columns, "columns never cast to float32")
        .Field("use_float32", &O::use_float32, "cast float64 columns to float32")
        .Field("streaming_collect", &O::streaming, "spill time-order inputs to bound memory")
        .Field("min_cs", &O::min_cs, "keep timestamps with at least this many targets (0: off)", Null::kClear)
        .Field("max_cs_samples", &O::max_cs_samples, "at most this many symbols per timestamp (0: off)", Null::kClear)
        .Choice("order", &O::order, std::vector<std::pair<std::string, Order>>{{"symbol", Order::kSymbol}, {"time", Order::kTime}},
                "row order of the panel")
        .Field("seed", &O::seed, "seed of the max_cs_samples draw")
        .Field("release_inputs", &O::release_inputs, "drop each in-memory input once emitted")
        .Field("batch_rows", &O::batch_rows, "rows per output batch")
        .Field("merge_memory", &O::merge_memory, "bytes for the time-order merge buffers")
        .Field("spill_dir", &O::spill_dir, "where time order spills (empty: beside the output)");
    return t;
  }();
  return *table;
}

Status ApplyPipelineConfig(const std::string& path, PanelOptions* options) {
  ARROW_ASSIGN_OR_RAISE(auto root, config::LoadFile(path));
  if (!root.is_object()) return Status::Invalid(path, ": a config must be a mapping");
  // The seed's pipeline.yaml: only the two keys the panel honours; the others there belong to
  // other stages.
  if (const auto lazy = root.find("intelligent_training"); lazy != root.end() && lazy->is_object()) {
    if (const auto section = lazy->find("lazy_loading"); section != lazy->end() && section->is_object()) {
      nlohmann::json honoured = nlohmann::json::object();
      for (const char* key : {"use_float32", "streaming_collect"}) {
        if (section->contains(key)) honoured[key] = (*section)[key];
      }
      ARROW_RETURN_NOT_OK(PanelOptionsTable().Apply(honoured, options, path));
    }
  }
  if (const auto section = root.find("panel"); section != root.end()) {
    if (!section->is_object()) return Status::Invalid(path, ": 'panel' must be a mapping");
    ARROW_RETURN_NOT_OK(PanelOptionsTable().Apply(*section, options, path + ": panel"));
  }
  return Status::OK();
}

Status ApplyPanelSetting(const std::string& assignment, PanelOptions* options) {
  return PanelOptionsTable().ApplyAssignment(assignment, options);
}

}  // namespace tickforge::panel
