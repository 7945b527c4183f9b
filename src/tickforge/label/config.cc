#include "tickforge/label/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace tickforge::label {
namespace {

// YAML scalars carry no type; map them to what JSON would hold so one parser serves both.
nlohmann::json FromYaml(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: {
      auto out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(FromYaml(item));
      return out;
    }
    case YAML::NodeType::Map: {
      auto out = nlohmann::json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = FromYaml(item.second);
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string text = node.Scalar();
      if (node.Tag() == "!") return text;  // quoted
      if (text == "true" || text == "True") return true;
      if (text == "false" || text == "False") return false;
      if (text == "null" || text == "~") return nullptr;
      try {
        size_t used = 0;
        const long long i = std::stoll(text, &used);
        if (used == text.size()) return i;
        const double d = std::stod(text, &used);
        if (used == text.size()) return d;
      } catch (const std::exception&) {
      }
      return text;
    }
    default:
      return nullptr;
  }
}

template <typename T>
Status Read(const nlohmann::json& value, std::string_view key, std::string_view source, T* out) {
  try {
    if constexpr (std::is_same_v<T, double>) {
      if (!value.is_number()) throw std::runtime_error("expected a number");
    } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      if (!value.is_number_integer()) throw std::runtime_error("expected an integer");
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!value.is_boolean()) throw std::runtime_error("expected true or false");
    }
    *out = value.get<T>();
  } catch (const std::exception& e) {
    return Status::Invalid(source, ": key '", key, "': ", e.what(), ", got ", value.dump());
  }
  return Status::OK();
}

}  // namespace

std::string_view ModeName(Mode mode) { return mode == Mode::kGlobal ? "global" : "per-symbol"; }

Status ApplyJson(const nlohmann::json& json, LabelConfig* c, std::string_view source) {
  if (!json.is_object()) return Status::Invalid(source, ": a config must be a mapping of keys to values");
  using Setter = std::function<Status(const nlohmann::json&, std::string_view)>;
  const auto number = [&](auto* field) -> Setter {
    return [field, source](const nlohmann::json& v, std::string_view key) { return Read(v, key, source, field); };
  };
  const auto optional_price = [&](std::optional<double>* field) -> Setter {
    return [field, source](const nlohmann::json& v, std::string_view key) -> Status {
      if (v.is_null()) {
        field->reset();
        return Status::OK();
      }
      double value;
      ARROW_RETURN_NOT_OK(Read(v, key, source, &value));
      *field = value;
      return Status::OK();
    };
  };
  const std::map<std::string, Setter, std::less<>> setters = {
      {"currency", number(&c->currency)},
      {"features", number(&c->features)},
      {"lookback_rows", number(&c->lookback_rows)},
      {"lookforward_input", number(&c->lookforward_input)},
      {"lookforward_offset", number(&c->lookforward_offset)},
      {"nbins", number(&c->nbins)},
      {"fit_fraction", number(&c->fit_fraction)},
      {"file_sample_fraction", number(&c->file_sample_fraction)},
      {"jump_size", number(&c->jump_size)},
      {"max_samples_per_file", number(&c->max_samples_per_file)},
      {"max_abs_movement", number(&c->max_abs_movement)},
      {"min_symbol_samples", number(&c->min_symbol_samples)},
      {"min_price", optional_price(&c->min_price)},
      {"max_price", optional_price(&c->max_price)},
      {"keep_intermediate", number(&c->keep_intermediate)},
      {"seed", number(&c->seed)},
      {"mode",
       [c, source](const nlohmann::json& v, std::string_view key) -> Status {
         std::string mode;
         ARROW_RETURN_NOT_OK(Read(v, key, source, &mode));
         if (mode == "global") {
           c->mode = Mode::kGlobal;
         } else if (mode == "per-symbol") {
           c->mode = Mode::kPerSymbol;
         } else {
           return Status::Invalid(source, ": key 'mode': expected 'global' or 'per-symbol', got '", mode, "'");
         }
         return Status::OK();
       }},
  };
  for (const auto& [key, value] : json.items()) {
    auto it = setters.find(key);
    if (it == setters.end()) {
      std::string known;
      for (const auto& [name, _] : setters) known += (known.empty() ? "" : ", ") + name;
      return Status::Invalid(source, ": unknown key '", key, "' (known keys: ", known, ")");
    }
    ARROW_RETURN_NOT_OK(it->second(value, key));
    c->explicit_keys.insert(key);
  }
  return Status::OK();
}

Status ApplyFile(const std::string& path, LabelConfig* config) {
  std::ifstream in(path);
  if (!in) return Status::IOError(path, ": cannot open config file");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json;
  try {
    // JSON is a subset of YAML, so the YAML reader serves both.
    json = FromYaml(YAML::Load(text.str()));
  } catch (const YAML::Exception& e) {
    return Status::Invalid(path, ": line ", e.mark.line + 1, ": ", e.msg);
  }
  if (json.is_null()) json = nlohmann::json::object();
  return ApplyJson(json, config, path);
}

Status ApplyAssignment(const std::string& assignment, LabelConfig* config) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::Invalid("'", assignment, "' is not of the form key=value");
  }
  nlohmann::json json = nlohmann::json::object();
  try {
    json[assignment.substr(0, eq)] = FromYaml(YAML::Load(assignment.substr(eq + 1)));
  } catch (const YAML::Exception& e) {
    return Status::Invalid("'", assignment, "': ", e.msg);
  }
  return ApplyJson(json, config, "command line");
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
  for (const auto& feature : features) {
    if (feature != "volume" && feature != "variance" && feature != "trade_counts") {
      return fail("unknown feature '", feature, "' (volume, variance, trade_counts)");
    }
  }
  return Status::OK();
}

nlohmann::ordered_json LabelConfig::ToJson() const {
  nlohmann::ordered_json j;
  j["currency"] = currency;
  j["features"] = features;
  j["lookback_rows"] = lookback_rows;
  j["lookforward_input"] = lookforward_input;
  j["lookforward_offset"] = lookforward_offset;
  j["nbins"] = nbins;
  j["fit_fraction"] = fit_fraction;
  j["file_sample_fraction"] = file_sample_fraction;
  j["jump_size"] = jump_size;
  j["max_samples_per_file"] = max_samples_per_file;
  j["max_abs_movement"] = max_abs_movement;
  j["min_symbol_samples"] = min_symbol_samples;
  j["min_price"] = min_price ? nlohmann::ordered_json(*min_price) : nullptr;
  j["max_price"] = max_price ? nlohmann::ordered_json(*max_price) : nullptr;
  j["keep_intermediate"] = keep_intermediate;
  j["seed"] = seed;
  j["mode"] = std::string(ModeName(mode));
  return j;
}

}  // namespace tickforge::label
