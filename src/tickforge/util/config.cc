#include "tickforge/util/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tickforge::config {
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
      try {
        // Integers past int64 (a uint64 seed) and floats that stoll stopped short of.
        size_t used = 0;
        const unsigned long long u = std::stoull(text, &used);
        if (used == text.size() && text.front() != '-') return u;
      } catch (const std::exception&) {
      }
      return text;
    }
    default:
      return nullptr;
  }
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

Result<nlohmann::json> ParseText(std::string_view text, std::string_view source) {
  try {
    return FromYaml(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    return InputLineError(source, e.mark.line + 1, "{}", e.msg);
  }
}

Result<nlohmann::json> LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError(path, ": cannot open config file: ", std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  ARROW_ASSIGN_OR_RAISE(auto json, ParseText(text.str(), path));
  if (json.is_null()) json = nlohmann::json::object();
  return json;
}

Result<std::pair<std::string, nlohmann::json>> ParseAssignment(std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status::Invalid("'", assignment, "' is not of the form key=value");
  }
  // Built by fmt: GCC 12 warns falsely (-Wrestrict) on "'" + std::string.
  auto value = ParseText(assignment.substr(eq + 1), fmt::format("'{}'", assignment));
  if (!value.ok()) return value.status();
  return std::make_pair(std::string(assignment.substr(0, eq)), *std::move(value));
}

std::string NearestKey(std::string_view key, const std::vector<std::string>& known) {
  std::string best;
  size_t best_distance = std::string::npos;
  for (const auto& name : known) {
    const size_t d = EditDistance(key, name);
    if (d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  // Close enough to be a typo: a third of the key's length, at least one edit.
  return best_distance <= std::max<size_t>(1, key.size() / 3) ? best : std::string();
}

Status UnknownKey(std::string_view source, std::string_view key, const std::vector<std::string>& known) {
  std::vector<std::string> sorted = known;
  std::sort(sorted.begin(), sorted.end());
  std::string list;
  for (const auto& name : sorted) list += (list.empty() ? "" : ", ") + name;
  const std::string near = NearestKey(key, known);
  return Status::Invalid(source, ": unknown key '", key, "' (",
                         near.empty() ? std::string() : "did you mean '" + near + "'? ", "known keys: ", list, ")");
}

Status WrongType(std::string_view source, std::string_view key, std::string_view what, const nlohmann::json& value) {
  return Status::Invalid(source, ": key '", key, "': expected ", what, ", got ", value.dump());
}

}  // namespace tickforge::config
