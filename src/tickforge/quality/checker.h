// Data-quality checks run while the store writes: one Checker per partition of a commit sees
// the rows in the order they go into the partition's files (no second pass), and Finish()
// leaves a Report of counts and example rows per file. The checks of each data type are in
// their own file (klines.cc, aggtrades.cc, funding.cc, book.cc, dbn.cc); docs/quality.md
// lists them.
#pragma once

#include <arrow/type_fwd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tickforge/quality/options.h"
#include "tickforge/quality/report.h"
#include "tickforge/util/status.h"

namespace tickforge::quality {

/// Where a partition's rows start and end, for the checks across partitions of one series.
struct Edge {
  std::string file;
  int64_t row = 0;
  int64_t time = 0;
  /// The type's running id (aggTrades id, book sequence); 0 when it has none.
  int64_t id = 0;
};

class Checker {
 public:
  explicit Checker(const Options& options) : options_(options) {}
  virtual ~Checker() = default;
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  /// Check `batch`, whose row 0 is row `first_row` of store file `file`. An unexpected column
  /// stops the checks with a note in the report; it never fails the write.
  void Consume(const arrow::RecordBatch& batch, const std::string& file, int64_t first_row);
  /// Count a row the writer saw earlier in this commit (same natural key, or the same whole
  /// row without one), which sits next to row `row` of `file`.
  void Repeat(const std::string& file, int64_t row);
  /// Whether Repeat() needs whole-row keys the writer computes only for this (dedup off).
  [[nodiscard]] virtual bool WantsRowRepeats() const { return false; }
  /// End the checks (checks that need the whole partition, such as mid jumps, run now).
  void Finish();
  /// Give back what the checks hold for the rest of the partition (the writer dropped its
  /// state to bound memory): mid jumps settle their threshold on the changes seen so far.
  void Release() {
    if (!stopped_) DoRelease();
  }
  /// Check the boundary from this partition to `next`, the following one of the same series
  /// (same symbol, exchange, interval, ...) in this commit; findings go to `next`'s report.
  virtual void Join(Checker& next) { (void)next; }

  [[nodiscard]] bool empty() const { return !first_.has_value(); }
  [[nodiscard]] const Edge& first() const { return *first_; }
  [[nodiscard]] const Edge& last() const { return last_; }
  [[nodiscard]] Report& report() { return report_; }

 protected:
  [[nodiscard]] virtual Status DoConsume(const arrow::RecordBatch& batch, const std::string& file,
                                         int64_t first_row) = 0;
  virtual void DoFinish() {}
  virtual void DoRelease() {}
  /// The check a repeated row counts as.
  [[nodiscard]] virtual std::string_view repeat_check() const = 0;
  /// Count `n` defects of `check` at `row` of `file`.
  void Flag(std::string_view check, const std::string& file, int64_t row, int64_t n = 1) {
    report_.Add(check, file, row, n, options_.max_examples);
  }
  /// Record where the rows begin (first call) and end (every call).
  void Touch(const std::string& file, int64_t row, int64_t time, int64_t id);

  Options options_;
  Report report_;

 private:
  std::optional<Edge> first_;
  Edge last_;
  bool stopped_ = false;
};

/// Return the checker for a partition of a dataset of `type` with file columns `schema` and
/// partition `values` (key, value); none (nullptr) for types without checks.
[[nodiscard]] std::unique_ptr<Checker> MakeChecker(const std::string& type, const arrow::Schema& schema,
                                                   const std::vector<std::pair<std::string, std::string>>& values,
                                                   const Options& options = {});

/// Finish `checkers` (the partitions of one dataset in one commit, with their series ids),
/// check the boundaries between consecutive partitions of each series, and return the
/// merged report.
[[nodiscard]] Report FinishAll(std::vector<std::pair<std::string, Checker*>> checkers, const std::string& type,
                               const Options& options = {});

}  // namespace tickforge::quality
