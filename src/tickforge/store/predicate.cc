// Filters: parsing `column op value` text, and binding predicates to Arrow expressions for
// scans and file pruning (see predicate_internal.h).
#include "tickforge/store/predicate_internal.h"

#include <algorithm>
#include <charconv>
#include <variant>

#include <arrow/api.h>
#include <arrow/compute/api.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <variant>

namespace tickforge::store {

namespace cp = arrow::compute;

namespace {

Value ParseValue(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  char* end = nullptr;
  errno = 0;
  long long integer = std::strtoll(text.c_str(), &end, 10);
  if (!text.empty() && end == text.c_str() + text.size() && errno == 0) return static_cast<int64_t>(integer);
  double number = std::strtod(text.c_str(), &end);
  if (!text.empty() && end == text.c_str() + text.size()) return number;
  return text;
}

std::string Trim(std::string text) {
  const auto begin = text.find_first_not_of(" \t");
  const auto end = text.find_last_not_of(" \t");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

}  // namespace

std::string ValueText(const Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) return v;
        else if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
        else return fmt::format("{}", v);
      },
      value);
}

Result<Predicate> ParsePredicate(const std::string& text) {
  Predicate predicate;
  const auto in_pos = text.find(" in ");
  if (in_pos != std::string::npos) {
    predicate.column = Trim(text.substr(0, in_pos));
    predicate.op = "in";
    std::string rest = text.substr(in_pos + 4);
    size_t start = 0;
    while (start <= rest.size()) {
      const auto comma = rest.find(',', start);
      const std::string item = Trim(rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (!item.empty()) predicate.values.push_back(ParseValue(item));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else {
    static const char* kOps[] = {"==", "!=", "<=", ">=", "=", "<", ">"};
    size_t pos = std::string::npos;
    for (const char* op : kOps) {
      pos = text.find(op);
      if (pos != std::string::npos) {
        predicate.op = op;
        break;
      }
    }
    if (pos == std::string::npos) {
      return Status::Invalid("cannot parse filter '", text, "' (COLUMN OP VALUE with OP one of == = != < <= > >=, or COLUMN in A,B)");
    }
    predicate.column = Trim(text.substr(0, pos));
    predicate.values.push_back(ParseValue(Trim(text.substr(pos + predicate.op.size()))));
  }
  if (predicate.column.empty() || predicate.values.empty()) {
    return Status::Invalid("cannot parse filter '", text, "': a column and a value are needed");
  }
  return predicate;
}

namespace {

Status CheckOp(const Predicate& p) {
  static const std::vector<std::string> kOps = {"==", "=", "!=", "<", "<=", ">", ">=", "in"};
  if (std::find(kOps.begin(), kOps.end(), p.op) == kOps.end()) {
    return Status::Invalid("filter on '", p.column, "': unknown operator '", p.op, "'");
  }
  if (p.values.empty() || (p.op != "in" && p.values.size() != 1)) {
    return Status::Invalid("filter on '", p.column, "': operator '", p.op, "' takes ",
                           p.op == "in" ? "one or more values" : "one value");
  }
  return Status::OK();
}

/// Return the literal of `value` in the column's type, with a clear error when it does not fit.
Result<arrow::Datum> Literal(const Value& value, const std::shared_ptr<arrow::DataType>& type,
                             const std::string& column) {
  std::shared_ptr<arrow::Scalar> scalar = std::visit(
      [](const auto& v) -> std::shared_ptr<arrow::Scalar> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) return arrow::MakeScalar(v);
        else if constexpr (std::is_same_v<T, bool>) return arrow::MakeScalar(v);
        else if constexpr (std::is_same_v<T, int64_t>) return arrow::MakeScalar(v);
        else return arrow::MakeScalar(v);
      },
      value);
  if (scalar->type->Equals(*type)) return arrow::Datum(scalar);
  auto cast = scalar->CastTo(type);
  if (!cast.ok()) {
    return Status::Invalid("filter on '", column, "': value '", ValueText(value), "' is not a ",
                           type->ToString());
  }
  return arrow::Datum(*cast);
}

}  // namespace

Result<cp::Expression> ToExpression(const Predicate& p, const arrow::Schema& schema) {
  ARROW_RETURN_NOT_OK(CheckOp(p));
  auto field = schema.GetFieldByName(p.column);
  if (!field) {
    return Status::KeyError("filter on unknown column '", p.column, "' (columns: ",
                            fmt::format("{}", fmt::join(schema.field_names(), ", ")), ")");
  }
  const cp::Expression ref = cp::field_ref(p.column);
  if (p.op == "in") {
    std::vector<cp::Expression> terms;
    for (const auto& value : p.values) {
      ARROW_ASSIGN_OR_RAISE(auto literal, Literal(value, field->type(), p.column));
      terms.push_back(cp::equal(ref, cp::literal(literal)));
    }
    return cp::or_(terms);
  }
  ARROW_ASSIGN_OR_RAISE(auto literal, Literal(p.values[0], field->type(), p.column));
  const cp::Expression rhs = cp::literal(literal);
  if (p.op == "==" || p.op == "=") return cp::equal(ref, rhs);
  if (p.op == "!=") return cp::not_equal(ref, rhs);
  if (p.op == "<") return cp::less(ref, rhs);
  if (p.op == "<=") return cp::less_equal(ref, rhs);
  if (p.op == ">") return cp::greater(ref, rhs);
  return cp::greater_equal(ref, rhs);
}

/// The partition values of a file as an expression Arrow can simplify filters against.
Result<cp::Expression> PartitionExpression(const FileEntry& file, const arrow::Schema& schema) {
  std::vector<cp::Expression> terms;
  for (const auto& [key, value] : file.partition) {
    auto field = schema.GetFieldByName(key);
    if (!field) return Status::Invalid("partition key '", key, "' is not in the dataset schema");
    ARROW_ASSIGN_OR_RAISE(auto literal, Literal(ParseValue(value), field->type(), key));
    if (field->type()->id() == arrow::Type::STRING) literal = arrow::Datum(arrow::MakeScalar(value));
    terms.push_back(cp::equal(cp::field_ref(key), cp::literal(literal)));
  }
  return terms.empty() ? cp::literal(true) : cp::and_(terms);
}

/// Whether a file's partition values and time range can hold rows that pass `filters`.
Result<bool> MayMatch(const FileEntry& file, const DatasetEntry& dataset, const std::vector<cp::Expression>& filters) {
  ARROW_ASSIGN_OR_RAISE(auto partition, PartitionExpression(file, *dataset.schema));
  std::vector<cp::Expression> guarantees = {partition};
  // The manifest's time range is a guarantee too (for int64 time columns).
  const auto time_field = dataset.schema->GetFieldByName(dataset.time_column);
  if (time_field && time_field->type()->id() == arrow::Type::INT64) {
    guarantees.push_back(cp::greater_equal(cp::field_ref(dataset.time_column), cp::literal(file.min_time)));
    guarantees.push_back(cp::less_equal(cp::field_ref(dataset.time_column), cp::literal(file.max_time)));
  }
  const cp::Expression guarantee = cp::and_(guarantees);
  for (size_t i = 0; i < filters.size(); ++i) {
    ARROW_ASSIGN_OR_RAISE(auto bound, filters[i].Bind(*dataset.schema));
    ARROW_ASSIGN_OR_RAISE(auto simplified, cp::SimplifyWithGuarantee(bound, guarantee));
    if (!simplified.IsSatisfiable()) return false;
  }
  return true;
}

FilePruner::FilePruner(const DatasetEntry& dataset, const std::vector<Predicate>& filters) {
  for (const auto& predicate : filters) {
    const auto field = dataset.schema->GetFieldByName(predicate.column);
    if (!field || predicate.values.empty()) continue;
    const bool is_key = std::find(dataset.partition_keys.begin(), dataset.partition_keys.end(), predicate.column) !=
                        dataset.partition_keys.end();
    const auto id = field->type()->id();
    if (is_key && (predicate.op == "==" || predicate.op == "=" || predicate.op == "in")) {
      if (id == arrow::Type::STRING) terms_.push_back({Kind::kStringKey, predicate});
      if (arrow::is_integer(id)) terms_.push_back({Kind::kIntegerKey, predicate});
    } else if (!is_key && predicate.column == dataset.time_column && id == arrow::Type::INT64) {
      terms_.push_back({Kind::kTime, predicate});
    }
  }
}

bool FilePruner::RulesOut(const FileEntry& file) const {
  for (const auto& term : terms_) {
    if (term.kind == Kind::kTime ? RulesOutTime(term, file) : RulesOutKey(term, file)) return true;
  }
  return false;
}

std::vector<std::pair<std::string, std::vector<std::string>>> FilePruner::KeyValues() const {
  std::vector<std::pair<std::string, std::vector<std::string>>> terms;
  for (const auto& term : terms_) {
    if (term.kind != Kind::kStringKey) continue;
    std::vector<std::string> values;
    for (const auto& wanted : term.predicate.values) {
      if (const auto* text = std::get_if<std::string>(&wanted)) values.push_back(*text);
    }
    // A value of another type converts and MayMatch decides (RulesOutKey keeps the file).
    if (values.size() == term.predicate.values.size()) terms.emplace_back(term.predicate.column, std::move(values));
  }
  return terms;
}

bool FilePruner::RulesOutKey(const Term& term, const FileEntry& file) {
  const std::string* value = nullptr;
  for (const auto& [key, v] : file.partition) {
    if (key == term.predicate.column) value = &v;
  }
  if (!value) return false;
  int64_t number = 0;
  if (term.kind == Kind::kIntegerKey) {
    const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), number);
    if (ec != std::errc() || end != value->data() + value->size()) return false;
  }
  for (const auto& wanted : term.predicate.values) {
    if (term.kind == Kind::kStringKey) {
      const auto* text = std::get_if<std::string>(&wanted);
      if (!text || *text == *value) return false;  // another type converts: MayMatch decides
    } else {
      const auto* integer = std::get_if<int64_t>(&wanted);
      if (!integer || *integer == number) return false;
    }
  }
  return true;
}

bool FilePruner::RulesOutTime(const Term& term, const FileEntry& file) {
  const Predicate& p = term.predicate;
  for (const auto& wanted : p.values) {
    if (!std::holds_alternative<int64_t>(wanted)) return false;
  }
  const int64_t v = std::get<int64_t>(p.values.front());
  if (p.op == "<") return file.min_time >= v;
  if (p.op == "<=") return file.min_time > v;
  if (p.op == ">") return file.max_time <= v;
  if (p.op == ">=") return file.max_time < v;
  if (p.op == "==" || p.op == "=" || p.op == "in") {
    for (const auto& wanted : p.values) {
      const int64_t x = std::get<int64_t>(wanted);
      if (x >= file.min_time && x <= file.max_time) return false;
    }
    return true;
  }
  return false;
}

}  // namespace tickforge::store
