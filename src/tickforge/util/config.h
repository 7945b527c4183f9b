// The one config layer: YAML or JSON in (JSON is YAML), a table of the keys an options struct
// accepts with their types, one message for an unknown key (naming the source and the key and
// suggesting the nearest known one) or a mistyped value, and the options back out as JSON (for
// --help, docstrings and the records a build writes). Defaults live only in the option structs:
// a table reads and writes their fields, it holds no values of its own.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/util/status.h"

namespace tickforge::config {

/// Parse YAML (or JSON) text into JSON, with YAML's untyped scalars typed as JSON would hold
/// them (integers, floats, booleans, null; quoted scalars stay strings). Errors name `source`
/// and the line.
[[nodiscard]] Result<nlohmann::json> ParseText(std::string_view text, std::string_view source);

/// Read a YAML or JSON file (told apart by content, not name); an empty file is an empty mapping.
[[nodiscard]] Result<nlohmann::json> LoadFile(const std::string& path);

/// Split a command line's "key=value" into the key and its value read as YAML.
[[nodiscard]] Result<std::pair<std::string, nlohmann::json>> ParseAssignment(std::string_view assignment);

/// Return the known key nearest to `key` by edit distance, or "" when none is close.
[[nodiscard]] std::string NearestKey(std::string_view key, const std::vector<std::string>& known);

/// Return the error for an unknown key: "<source>: unknown key '<key>' (did you mean '<near>'?
/// known keys: ...)".
[[nodiscard]] Status UnknownKey(std::string_view source, std::string_view key, const std::vector<std::string>& known);

/// Return the error for a value of the wrong type: "<source>: key '<key>': expected <what>, got <value>".
[[nodiscard]] Status WrongType(std::string_view source, std::string_view key, std::string_view what,
                               const nlohmann::json& value);

namespace internal {

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <typename T>
std::string_view TypeName() {
  if constexpr (std::is_same_v<T, bool>) {
    return "true or false";
  } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
    return "a non-negative integer";
  } else if constexpr (std::is_integral_v<T>) {
    return "an integer";
  } else if constexpr (std::is_floating_point_v<T>) {
    return "a number";
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::filesystem::path>) {
    return "a string";
  } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
    return "a mapping of strings to strings";
  } else {
    return "a list";
  }
}

template <typename T>
bool HasType(const nlohmann::json& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v.is_boolean();
  } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
    return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
  } else if constexpr (std::is_integral_v<T>) {
    return v.is_number_integer();
  } else if constexpr (std::is_floating_point_v<T>) {
    return v.is_number();
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::filesystem::path>) {
    return v.is_string();
  } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
    if (!v.is_object()) return false;
    for (const auto& [_, item] : v.items()) {
      if (!item.is_string()) return false;
    }
    return true;
  } else {
    if (!v.is_array()) return false;
    for (const auto& item : v) {
      if (!HasType<typename T::value_type>(item)) return false;
    }
    return true;
  }
}

}  // namespace internal

/// Read `value` into `out`, or fail naming the source and the key. `null` resets an optional.
template <typename T>
[[nodiscard]] Status Read(const nlohmann::json& value, std::string_view source, std::string_view key, T* out) {
  if constexpr (internal::IsOptional<T>::value) {
    if (value.is_null()) {
      out->reset();
      return Status::OK();
    }
    typename T::value_type inner{};
    ARROW_RETURN_NOT_OK(Read(value, source, key, &inner));
    *out = std::move(inner);
    return Status::OK();
  } else {
    if (!internal::HasType<T>(value)) return WrongType(source, key, internal::TypeName<T>(), value);
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      // Range-check before narrowing: nbins: 1e12 must not wrap into a valid-looking value.
      if (value.is_number_unsigned()) {
        const auto u = value.get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
          return WrongType(source, key, "an integer in range", value);
        }
      } else {
        const auto i = value.get<int64_t>();
        if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
            (i > 0 && static_cast<uint64_t>(i) > static_cast<uint64_t>(std::numeric_limits<T>::max()))) {
          return WrongType(source, key, "an integer in range", value);
        }
      }
      *out = value.get<T>();
    } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
      *out = value.get<std::string>();
    } else {
      *out = value.get<T>();
    }
    return Status::OK();
  }
}

/// Return `value` as JSON, the inverse of Read.
template <typename T>
[[nodiscard]] nlohmann::ordered_json Write(const T& value) {
  if constexpr (internal::IsOptional<T>::value) {
    return value ? Write(*value) : nlohmann::ordered_json(nullptr);
  } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
    return value.string();
  } else {
    return nlohmann::ordered_json(value);
  }
}

/// What a JSON null means for a key.
enum class Null {
  kReject,  ///< an error, like any other wrong type
  kClear,   ///< the field's empty value (T{}): "no target column", "no limit"
};

/// The keys of an options struct: for each, its name, a one-line help, how to read a value into
/// the struct and how to write the struct's value back out.
template <typename Options>
class Table {
 public:
  using Setter = std::function<Status(const nlohmann::json& value, Options* options, std::string_view source,
                                      std::string_view key)>;
  using Getter = std::function<nlohmann::ordered_json(const Options& options)>;

  struct Key {
    std::string name;
    std::string help;
    Setter set;
    Getter get;
  };

  /// Add a key read into the field that `access(options)` returns a reference to (a member
  /// pointer, or a lambda for a nested field: `[](auto& o) -> auto& { return o.image.time_bins; }`).
  template <typename Access>
  Table& Field(std::string name, Access access, std::string help = {}, Null null = Null::kReject) {
    Setter set = [access, null](const nlohmann::json& value, Options* options, std::string_view source,
                                std::string_view key) -> Status {
      auto& field = Ref(access, *options);
      using T = std::remove_reference_t<decltype(field)>;
      if (null == Null::kClear && value.is_null()) {
        field = T{};
        return Status::OK();
      }
      return Read(value, source, key, &field);
    };
    Getter get = [access](const Options& options) { return Write(Ref(access, const_cast<Options&>(options))); };
    keys_.push_back({std::move(name), std::move(help), std::move(set), std::move(get)});
    return *this;
  }

  /// Add a key whose value is one of `names`, stored as the matching enumerator.
  template <typename Access, typename Enum>
  Table& Choice(std::string name, Access access, std::vector<std::pair<std::string, Enum>> names, std::string help = {}) {
    Setter set = [access, names](const nlohmann::json& value, Options* options, std::string_view source,
                                 std::string_view key) -> Status {
      std::string choices;
      for (const auto& [text, _] : names) choices += (choices.empty() ? "'" : ", '") + text + "'";
      if (value.is_string()) {
        for (const auto& [text, e] : names) {
          if (text == value.get<std::string>()) {
            Ref(access, *options) = e;
            return Status::OK();
          }
        }
      }
      return WrongType(source, key, "one of " + choices, value);
    };
    Getter get = [access, names](const Options& options) -> nlohmann::ordered_json {
      const auto current = Ref(access, const_cast<Options&>(options));
      for (const auto& [text, e] : names) {
        if (e == current) return text;
      }
      return nullptr;
    };
    keys_.push_back({std::move(name), std::move(help), std::move(set), std::move(get)});
    return *this;
  }

  /// Add every key of `inner`, read into and written from the struct `access(options)` returns.
  template <typename Inner, typename Access>
  Table& Include(const Table<Inner>& inner, Access access) {
    for (const auto& key : inner.keys()) {
      Setter set = [access, inner_set = key.set](const nlohmann::json& value, Options* options,
                                                 std::string_view source, std::string_view name) {
        return inner_set(value, &Ref(access, *options), source, name);
      };
      Getter get = [access, inner_get = key.get](const Options& options) {
        return inner_get(Ref(access, const_cast<Options&>(options)));
      };
      keys_.push_back({key.name, key.help, std::move(set), std::move(get)});
    }
    return *this;
  }

  /// Add a key with its own reading and writing.
  Table& Custom(std::string name, Setter set, Getter get, std::string help = {}) {
    keys_.push_back({std::move(name), std::move(help), std::move(set), std::move(get)});
    return *this;
  }

  /// Apply the keys of the mapping `object` onto `options`; an unknown key or a wrong value is an
  /// error naming `source`. The keys applied are added to `seen` when given.
  [[nodiscard]] Status Apply(const nlohmann::json& object, Options* options, std::string_view source,
                             std::set<std::string>* seen = nullptr) const {
    if (!object.is_object()) return Status::Invalid(source, ": a config must be a mapping of keys to values");
    for (const auto& [name, value] : object.items()) {
      const Key* key = Find(name);
      if (key == nullptr) return UnknownKey(source, name, names());
      ARROW_RETURN_NOT_OK(key->set(value, options, source, name));
      if (seen) seen->insert(name);
    }
    return Status::OK();
  }

  /// Apply one "key=value" from a command line.
  [[nodiscard]] Status ApplyAssignment(std::string_view assignment, Options* options,
                                       std::set<std::string>* seen = nullptr) const {
    ARROW_ASSIGN_OR_RAISE(auto pair, ParseAssignment(assignment));
    return Apply(nlohmann::json{{pair.first, pair.second}}, options, "command line", seen);
  }

  /// Return every key with its value in `options`, in the table's order.
  [[nodiscard]] nlohmann::ordered_json ToJson(const Options& options) const {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const auto& key : keys_) out[key.name] = key.get(options);
    return out;
  }

  /// Return "key: default  # help" lines for every key (a YAML config of the defaults), the
  /// defaults taken from a fresh Options.
  [[nodiscard]] std::string Help() const {
    std::string out;
    const Options defaults{};
    for (const auto& key : keys_) {
      out += "  " + key.name + ": " + key.get(defaults).dump();
      if (!key.help.empty()) out += "  # " + key.help;
      out += "\n";
    }
    return out;
  }

  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& key : keys_) out.push_back(key.name);
    return out;
  }
  [[nodiscard]] const Key* Find(std::string_view name) const {
    for (const auto& key : keys_) {
      if (key.name == name) return &key;
    }
    return nullptr;
  }
  [[nodiscard]] const std::vector<Key>& keys() const { return keys_; }

 private:
  template <typename Access>
  static auto& Ref(const Access& access, Options& options) {
    if constexpr (std::is_member_object_pointer_v<Access>) {
      return options.*access;
    } else {
      return access(options);
    }
  }

  std::vector<Key> keys_;
};

}  // namespace tickforge::config
