// The checker frame (see checker.h): errors become notes, repeats and edges, the choice of
// checks per data type, and the boundaries between a series' partitions.
#include "tickforge/quality/checker.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>

#include <algorithm>

#include "tickforge/quality/checkers_internal.h"
#include "tickforge/util/time.h"

namespace tickforge::quality {

void Checker::Consume(const arrow::RecordBatch& batch, const std::string& file, int64_t first_row) {
  if (stopped_ || batch.num_rows() == 0) return;
  report_.files[file].rows += batch.num_rows();
  Status status = DoConsume(batch, file, first_row);
  if (!status.ok()) {
    // Quality never fails a write: the rest of the partition goes unchecked, and says why.
    stopped_ = true;
    report_.notes.push_back(file + ": checks stopped at row " + std::to_string(first_row) + ": " + status.message());
  }
}

void Checker::Repeat(const std::string& file, int64_t row) {
  if (!stopped_) Flag(repeat_check(), file, row);
}

void Checker::Finish() {
  if (!stopped_) DoFinish();
}

void Checker::Touch(const std::string& file, int64_t row, int64_t time, int64_t id) {
  last_ = Edge{file, row, time, id};
  if (!first_) first_ = last_;
}

std::unique_ptr<Checker> MakeChecker(const std::string& type, const arrow::Schema& schema,
                                     const std::vector<std::pair<std::string, std::string>>& values,
                                     const Options& options) {
  if (type == "klines") {
    std::optional<int64_t> interval;
    for (const auto& [key, value] : values) {
      if (key == "timeframe") interval = KlineIntervalMillis(value);
    }
    return MakeKlinesChecker(interval, options);
  }
  if (type == "aggtrades") return MakeAggTradesChecker(options);
  if (type == "funding") return MakeFundingChecker(options);
  const bool book = schema.GetFieldIndex("bid_px_00") >= 0 && schema.GetFieldIndex("ask_px_00") >= 0;
  const bool dbn = type != "generic" && type != "unified" && type != "labeled";
  if (book) return MakeBookChecker(dbn, options);
  if (dbn) return MakeDbnChecker(options);
  return nullptr;
}

Report FinishAll(std::vector<std::pair<std::string, Checker*>> checkers, const std::string& type,
                 const Options& options) {
  for (auto& [_, checker] : checkers) checker->Finish();
  std::erase_if(checkers, [](const auto& entry) { return entry.second->empty(); });
  // Consecutive partitions of a series, by where their rows start.
  std::sort(checkers.begin(), checkers.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return a.second->first().time < b.second->first().time;
  });
  for (size_t i = 1; i < checkers.size(); ++i) {
    if (checkers[i].first == checkers[i - 1].first) checkers[i - 1].second->Join(*checkers[i].second);
  }
  Report report;
  report.type = type;
  for (auto& [_, checker] : checkers) report.Merge(checker->report(), options.max_examples);
  return report;
}

Result<NumericColumn> NumericColumn::Of(const arrow::RecordBatch& batch, const std::string& name, bool required) {
  NumericColumn column;
  auto array = batch.GetColumnByName(name);
  if (!array) {
    if (required) return Status::Invalid("no column '", name, "'");
    return column;
  }
  switch (array->type_id()) {
    case arrow::Type::INT64:
    case arrow::Type::TIMESTAMP:
    case arrow::Type::DATE64:
    case arrow::Type::DURATION: {
      ARROW_ASSIGN_OR_RAISE(column.array_, array->View(arrow::int64()));
      column.ints_ = static_cast<const arrow::Int64Array&>(*column.array_).raw_values();
      return column;
    }
    case arrow::Type::DOUBLE:
      column.array_ = array;
      column.doubles_ = static_cast<const arrow::DoubleArray&>(*array).raw_values();
      return column;
    case arrow::Type::FLOAT: {
      ARROW_ASSIGN_OR_RAISE(auto cast, arrow::compute::Cast(*array, arrow::float64()));
      column.array_ = cast;
      column.doubles_ = static_cast<const arrow::DoubleArray&>(*cast).raw_values();
      return column;
    }
    default:
      if (!arrow::is_integer(array->type_id())) {
        return Status::TypeError("column '", name, "' is ", array->type()->ToString(), ", not a number");
      }
      ARROW_ASSIGN_OR_RAISE(auto cast, arrow::compute::Cast(*array, arrow::int64()));
      column.array_ = cast;
      column.ints_ = static_cast<const arrow::Int64Array&>(*cast).raw_values();
      return column;
  }
}

}  // namespace tickforge::quality
