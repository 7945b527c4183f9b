// The data type rules (see store.h and rules_internal.h): partitions, natural keys, time and
// required columns of each type; partition values that are safe as folder names; write
// options' ranges; and how a dataset's schema takes in an input.
#include "tickforge/store/rules_internal.h"

#include <arrow/api.h>
#include <fmt/format.h>

#include <algorithm>

#include "tickforge/dbn/schema.h"
#include "tickforge/util/files.h"
#include "tickforge/util/parquet.h"

namespace tickforge::store {
namespace {

std::shared_ptr<arrow::DataType> PartitionType(const std::string& key) {
  if (key == "year") return arrow::int16();
  if (key == "month" || key == "day") return arrow::int8();
  return arrow::utf8();
}

std::shared_ptr<arrow::Schema> WithPartitionFields(arrow::FieldVector fields,
                                                   const std::vector<std::string>& keys) {
  for (const auto& key : keys) fields.push_back(arrow::field(key, PartitionType(key), false));
  return arrow::schema(std::move(fields));
}

}  // namespace

Result<DataTypeRules> RulesFor(const std::string& type) {
  using arrow::field;
  DataTypeRules rules;
  rules.type = type;
  if (type == "klines") {
    rules.partition_keys = kKlineKeys;
    rules.natural_key = {"timestamp"};
    rules.time_column = "timestamp";
    rules.required = WithPartitionFields(
        {field("timestamp", arrow::int64(), false), field("open", arrow::float64()),
         field("high", arrow::float64()), field("low", arrow::float64()),
         field("close", arrow::float64()), field("volume", arrow::float64())},
        kKlineKeys);
  } else if (type == "aggtrades") {
    rules.partition_keys = kBinanceKeys;
    rules.natural_key = {"trade_id"};
    rules.time_column = "timestamp";
    rules.required = WithPartitionFields(
        {field("timestamp", arrow::int64(), false), field("trade_id", arrow::int64(), false),
         field("trade_price", arrow::float64()), field("trade_quantity", arrow::float64()),
         field("trade_is_buyer_maker", arrow::boolean())},
        kBinanceKeys);
  } else if (type == "funding" || type == "futures") {
    rules.type = "funding";
    rules.partition_keys = kBinanceKeys;
    rules.natural_key = {"timestamp"};
    rules.time_column = "timestamp";
    rules.required = WithPartitionFields(
        {field("timestamp", arrow::int64(), false), field("funding_rate", arrow::float64())},
        kBinanceKeys);
  } else if (type == "generic" || type == "unified" || type == "labeled") {
    rules.partition_keys = {"symbol", "year", "month", "day"};
    rules.time_column = "timestamp";
    rules.required = WithPartitionFields({}, {"symbol"});
  } else {
    // A DBN schema's dataset: mbp10, mbp1, mbo, trades, tbbo, ohlcv, definition, ...
    bool known = false;
    for (int id = 0; id < 64 && !known; ++id) {
      std::string name(dbn::SchemaName(static_cast<dbn::Schema>(id)));
      if (name.empty() || name.find('?') != std::string::npos) continue;
      name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
      if (name.rfind("ohlcv", 0) == 0) name = "ohlcv";
      known = name == type;
    }
    if (!known) {
      return Status::Invalid("unknown data type '", type,
                             "' (klines, aggtrades, funding, generic, or a DBN schema such as mbp10, "
                             "mbo, trades, ohlcv)");
    }
    rules.partition_keys = kDbnKeys;
    rules.required = WithPartitionFields({}, {"dataset", "symbol"});
    // The time column is the DBN index column (ts_recv, or ts_event for bars); set on ingest.
  }
  return rules;
}

Status ValidatePartitionValue(const std::string& key, const std::string& value) {
  auto bad = [&](const char* why) {
    return Status::Invalid("invalid value for partition key '", key, "': '", value, "' (", why, ")");
  };
  if (value.empty()) return bad("empty");
  if (value == "." || value.find("..") != std::string::npos) return bad("'..' could leave the dataset folder");
  if (IsHiddenName(value)) return bad("a leading '.' or '_' hides the file from readers");
  for (unsigned char c : value) {
    if (c == '/' || c == '\\') return bad("path separator");
    if (c == '%' || c == '=') return bad("'%' and '=' are read back differently by Hive readers");
    if (c < 0x20 || c == 0x7f) return bad("control character");
  }
  return Status::OK();
}

Status WriteOptions::Validate() const {
  ARROW_RETURN_NOT_OK(ParquetCompression(compression).status());
  if (max_rows_per_file <= 0 || min_rows_per_group <= 0 || max_rows_per_group <= 0) {
    return Status::Invalid("max_rows_per_file, min_rows_per_group and max_rows_per_group must be positive");
  }
  if (min_rows_per_group > max_rows_per_group) {
    return Status::Invalid("min_rows_per_group (", min_rows_per_group, ") exceeds max_rows_per_group (",
                           max_rows_per_group, ")");
  }
  if (min_rows_per_group >= max_rows_per_file) {
    return Status::Invalid("min_rows_per_group (", min_rows_per_group,
                           ") must be smaller than max_rows_per_file (", max_rows_per_file, ")");
  }
  for (const auto& [key, value] : constants) ARROW_RETURN_NOT_OK(ValidatePartitionValue(key, value));
  return Status::OK();
}

/// Append to `fields` those of `more` whose names it lacks (first type seen wins).
void AddMissingFields(arrow::FieldVector& fields, const arrow::FieldVector& more) {
  for (const auto& field : more) {
    bool present = false;
    for (const auto& have : fields) present = present || have->name() == field->name();
    if (!present) fields.push_back(field);
  }
}

/// Make `dataset` (new or existing) able to hold the columns of `input`: a new dataset takes
/// the rules' required columns first, then the input's others; an existing one gains the
/// input's new columns (older files read them as null).
Result<DatasetEntry*> DatasetFor(Snapshot& next, const std::string& name, const std::string& type,
                                 const std::string& time_column, DataTypeRules* rules, bool* is_new) {
  ARROW_ASSIGN_OR_RAISE(*rules, RulesFor(type));
  if (rules->time_column.empty()) rules->time_column = time_column;
  *is_new = !next.datasets.count(name);
  DatasetEntry& dataset = next.datasets[name];
  dataset.name = name;
  if (!*is_new && dataset.type != rules->type) {
    return Status::Invalid("dataset '", name, "' holds ", dataset.type, ", not ", rules->type);
  }
  return &dataset;
}

Status PrepareDataset(DatasetEntry& dataset, const DataTypeRules& rules, const arrow::Schema& input,
                      bool is_new) {
  arrow::FieldVector fields;
  auto is_key = [&](const std::string& name) {
    return std::find(rules.partition_keys.begin(), rules.partition_keys.end(), name) != rules.partition_keys.end();
  };
  if (is_new) {
    dataset.type = rules.type;
    dataset.partition_keys = rules.partition_keys;
    dataset.natural_key = rules.natural_key;
    dataset.time_column = rules.time_column;
    for (const auto& field : rules.required->fields()) {
      if (!is_key(field->name())) fields.push_back(field);
    }
  } else {
    for (const auto& field : dataset.schema->fields()) {
      if (!is_key(field->name())) fields.push_back(field);
    }
  }
  arrow::FieldVector added;
  for (const auto& field : input.fields()) {
    if (!is_key(field->name())) added.push_back(is_new ? field : field->WithNullable(true));
  }
  AddMissingFields(fields, added);
  // Required columns must be in the input (or already in the dataset for older files).
  for (const auto& field : rules.required->fields()) {
    if (is_key(field->name())) continue;
    if (input.GetFieldIndex(field->name()) < 0) {
      return Status::Invalid("dataset '", dataset.name, "' (", rules.type, ") needs column '", field->name(),
                             "' (", field->type()->ToString(), "); the input has: ",
                             fmt::format("{}", fmt::join(input.field_names(), ", ")));
    }
  }
  if (is_new && rules.type == "generic" && input.GetFieldIndex(dataset.time_column) < 0) {
    // No `timestamp` column: the first column of timestamp type is the time column.
    for (const auto& field : input.fields()) {
      if (field->type()->id() == arrow::Type::TIMESTAMP) {
        dataset.time_column = field->name();
        break;
      }
    }
  }
  if (dataset.time_column.empty()) return Status::Invalid("dataset '", dataset.name, "' has no time column");
  dataset.schema = WithPartitionFields(fields, dataset.partition_keys);
  // Partitions by day come from the time column: it must be there, as int64 ms or a timestamp.
  const auto time_field = dataset.schema->GetFieldByName(dataset.time_column);
  const auto time_type = time_field ? time_field->type()->id() : arrow::Type::NA;
  if (time_type != arrow::Type::INT64 && time_type != arrow::Type::TIMESTAMP) {
    std::vector<std::string> columns;
    for (const auto& field : input.fields()) columns.push_back(field->name() + " (" + field->type()->ToString() + ")");
    return Status::Invalid("dataset '", dataset.name, "' (", rules.type, ") needs its time column '",
                           dataset.time_column, "' as int64 milliseconds or a timestamp",
                           rules.type == "generic" ? " (or a column of timestamp type)" : "",
                           "; the input has: ", fmt::format("{}", fmt::join(columns, ", ")));
  }
  return Status::OK();
}

Status ValidateDatasetName(const std::string& name) {
  ARROW_RETURN_NOT_OK(ValidatePartitionValue("dataset name", name));
  return Status::OK();
}

}  // namespace tickforge::store
