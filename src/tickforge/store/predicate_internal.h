// Filters as Arrow expressions: a Predicate bound to a dataset's column types, a file's
// partition values as the guarantee Arrow simplifies filters against, and the pruning test
// that decides which files a scan opens.
#pragma once

#include <arrow/compute/expression.h>
#include <arrow/type_fwd.h>

#include <string>
#include <utility>
#include <vector>

#include "tickforge/store/manifest.h"
#include "tickforge/store/store.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// Return a filter value as text (true/false for booleans), for messages and cache keys.
[[nodiscard]] std::string ValueText(const Value& value);

/// Return `p` as an expression over `schema`, its values cast to the column's type. Errors: an
/// unknown operator, a wrong number of values, an unknown column (KeyError, listing the
/// columns), a value that does not convert.
[[nodiscard]] Result<arrow::compute::Expression> ToExpression(const Predicate& p, const arrow::Schema& schema);

/// Return the partition values of `file` as an expression (key == value, and-ed), each value in
/// its key's type in `schema`; `true` for an unpartitioned file.
[[nodiscard]] Result<arrow::compute::Expression> PartitionExpression(const FileEntry& file,
                                                                     const arrow::Schema& schema);

/// Return whether `file`'s partition values and time range (for an int64 time column) can hold
/// rows that pass every one of `filters`.
[[nodiscard]] Result<bool> MayMatch(const FileEntry& file, const DatasetEntry& dataset,
                                    const std::vector<arrow::compute::Expression>& filters);

/// The scan's fast path: rules files out by comparing their partition values and time range
/// with the filters' equality and range terms directly, without building an expression per
/// file, so a filtered scan of a million-file dataset plans in milliseconds. It only rules out
/// files MayMatch rejects too; what it cannot decide, MayMatch does.
class FilePruner {
 public:
  FilePruner(const DatasetEntry& dataset, const std::vector<Predicate>& filters);
  /// Return true when `file` certainly holds no row passing every filter.
  [[nodiscard]] bool RulesOut(const FileEntry& file) const;
  /// Return the text partition keys an equality or `in` term names, each with the values a
  /// file must have one of (any other value RulesOut rules out).
  [[nodiscard]] std::vector<std::pair<std::string, std::vector<std::string>>> KeyValues() const;

 private:
  enum class Kind { kStringKey, kIntegerKey, kTime };
  struct Term {
    Kind kind;
    Predicate predicate;
  };
  [[nodiscard]] static bool RulesOutKey(const Term& term, const FileEntry& file);
  [[nodiscard]] static bool RulesOutTime(const Term& term, const FileEntry& file);
  std::vector<Term> terms_;
};

}  // namespace tickforge::store
