#include "tickforge/panel/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace tickforge::panel {
namespace {

template <typename T>
Status Read(const YAML::Node& node, std::string_view key, std::string_view source, T* out) {
  try {
    *out = node.as<T>();
  } catch (const YAML::Exception&) {
    return Status::Invalid(source, ": key '", key, "': cannot read '", YAML::Dump(node), "' as the expected type");
  }
  return Status::OK();
}

// Returns false when the key is not a panel key.
Result<bool> ApplyKey(const std::string& key, const YAML::Node& value, std::string_view source, PanelOptions* o) {
  using Setter = std::function<Status()>;
  const std::map<std::string, Setter> setters = {
      {"symbol_column", [&] { return Read(value, key, source, &o->symbol_column); }},
      {"target_column",
       [&] {
         if (value.IsNull()) {
           o->target_column.clear();
           return Status::OK();
         }
         return Read(value, key, source, &o->target_column);
       }},
      {"time_column",
       [&] {
         if (value.IsNull()) {
           o->time_column.clear();
           return Status::OK();
         }
         return Read(value, key, source, &o->time_column);
       }},
      {"columns", [&] { return Read(value, key, source, &o->columns); }},
      {"metadata_columns", [&] { return Read(value, key, source, &o->metadata_columns); }},
      {"use_float32", [&] { return Read(value, key, source, &o->use_float32); }},
      {"streaming_collect", [&] { return Read(value, key, source, &o->streaming); }},
      {"min_cs",
       [&] {
         if (value.IsNull()) {
           o->min_cs = 0;
           return Status::OK();
         }
         return Read(value, key, source, &o->min_cs);
       }},
      {"max_cs_samples",
       [&] {
         if (value.IsNull()) {
           o->max_cs_samples = 0;
           return Status::OK();
         }
         return Read(value, key, source, &o->max_cs_samples);
       }},
      {"order",
       [&]() -> Status {
         std::string name;
         ARROW_RETURN_NOT_OK(Read(value, key, source, &name));
         auto order = ParseOrder(name);
         if (!order.ok()) return Status::Invalid(source, ": key 'order': ", order.status().message());
         o->order = *order;
         return Status::OK();
       }},
      {"seed", [&] { return Read(value, key, source, &o->seed); }},
      {"release_inputs", [&] { return Read(value, key, source, &o->release_inputs); }},
      {"batch_rows", [&] { return Read(value, key, source, &o->batch_rows); }},
      {"merge_memory", [&] { return Read(value, key, source, &o->merge_memory); }},
      {"spill_dir",
       [&]() -> Status {
         std::string dir;
         ARROW_RETURN_NOT_OK(Read(value, key, source, &dir));
         o->spill_dir = dir;
         return Status::OK();
       }},
  };
  auto it = setters.find(key);
  if (it == setters.end()) return false;
  ARROW_RETURN_NOT_OK(it->second());
  return true;
}

std::string KnownKeys() {
  return "symbol_column, target_column, time_column, columns, metadata_columns, use_float32, streaming_collect, "
         "min_cs, max_cs_samples, order, seed, release_inputs, batch_rows, merge_memory, spill_dir";
}

}  // namespace

Status ApplyPipelineConfig(const std::string& path, PanelOptions* options) {
  std::ifstream in(path);
  if (!in) return Status::IOError(path, ": cannot open config file");
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    return Status::Invalid(path, ": line ", e.mark.line + 1, ": ", e.msg);
  }
  if (root.IsNull()) return Status::OK();
  if (!root.IsMap()) return Status::Invalid(path, ": a config must be a mapping");
  // The seed's pipeline.yaml: only the two keys the panel honours; the others there belong to
  // other stages.
  if (const auto lazy = root["intelligent_training"]; lazy && lazy.IsMap() && lazy["lazy_loading"]) {
    const auto section = lazy["lazy_loading"];
    for (const char* key : {"use_float32", "streaming_collect"}) {
      if (section[key]) ARROW_RETURN_NOT_OK(ApplyKey(key, section[key], path, options).status());
    }
  }
  if (const auto section = root["panel"]) {
    if (!section.IsMap()) return Status::Invalid(path, ": 'panel' must be a mapping");
    for (const auto& item : section) {
      const auto key = item.first.as<std::string>();
      ARROW_ASSIGN_OR_RAISE(bool known, ApplyKey(key, item.second, path, options));
      if (!known) return Status::Invalid(path, ": unknown key 'panel.", key, "' (known keys: ", KnownKeys(), ")");
    }
  }
  return Status::OK();
}

Status ApplyPanelSetting(const std::string& assignment, PanelOptions* options) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) return Status::Invalid("'", assignment, "' is not of the form key=value");
  const std::string key = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    return Status::Invalid("'", assignment, "': ", e.msg);
  }
  ARROW_ASSIGN_OR_RAISE(bool known, ApplyKey(key, value, "command line", options));
  if (!known) return Status::Invalid("unknown panel key '", key, "' (known keys: ", KnownKeys(), ")");
  return Status::OK();
}

}  // namespace tickforge::panel
