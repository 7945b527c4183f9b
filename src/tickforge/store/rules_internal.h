// What the data type rules decide beyond RulesFor(): the partition keys of each family, which
// keys come from the time column, and how a dataset's schema grows to hold an input.
#pragma once

#include <arrow/type.h>

#include <string>
#include <vector>

#include "tickforge/store/manifest.h"
#include "tickforge/store/store.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// Partition keys of Binance aggtrades and funding, of klines, and of DBN datasets.
inline const std::vector<std::string> kBinanceKeys = {"exchange", "symbol", "year", "month", "day"};
inline const std::vector<std::string> kKlineKeys = {"exchange", "symbol", "timeframe", "year", "month", "day"};
inline const std::vector<std::string> kDbnKeys = {"dataset", "symbol", "year", "month", "day"};

/// Return whether partition key `key` is one the time column gives (year, month, day).
[[nodiscard]] inline bool IsDateKey(const std::string& key) { return key == "year" || key == "month" || key == "day"; }

/// Append to `fields` those of `more` whose names it lacks (first type seen wins).
void AddMissingFields(arrow::FieldVector& fields, const arrow::FieldVector& more);

/// Return the dataset `name` of the snapshot being committed, added when new (`*is_new` says
/// which), for rows of `type`; `*rules` gets the type's rules, with `time_column` where the type
/// names none. An existing dataset of another type is an error.
[[nodiscard]] Result<DatasetEntry*> DatasetFor(Snapshot& next, const std::string& name, const std::string& type,
                                               const std::string& time_column, DataTypeRules* rules, bool* is_new);

/// Make `dataset` (new or existing) able to hold the columns of `input`: a new dataset takes
/// the rules' required columns first, then the input's others; an existing one gains the
/// input's new columns (older files read them as null). Partition keys come last.
[[nodiscard]] Status PrepareDataset(DatasetEntry& dataset, const DataTypeRules& rules, const arrow::Schema& input,
                                    bool is_new);

/// Check a dataset name as a partition value: it names a folder under the store root.
[[nodiscard]] Status ValidateDatasetName(const std::string& name);

}  // namespace tickforge::store
