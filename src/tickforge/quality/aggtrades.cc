// aggTrades checks: id gaps, repeats and ids going backwards, times going backwards,
// microseconds in the millisecond column, non-positive prices.
#include "tickforge/quality/checkers_internal.h"

namespace tickforge::quality {
namespace {

class AggTradesChecker final : public Checker {
 public:
  using Checker::Checker;

  void Join(Checker& next_checker) override {
    auto& next = static_cast<AggTradesChecker&>(next_checker);
    const Edge& a = last();
    const Edge& b = next.first();
    next.CheckStep(a.id, b.id, a.time, b.time, b.file, b.row);
  }

 protected:
  Status DoConsume(const arrow::RecordBatch& batch, const std::string& file, int64_t first_row) override {
    ARROW_ASSIGN_OR_RAISE(auto ts, NumericColumn::Of(batch, "timestamp"));
    ARROW_ASSIGN_OR_RAISE(auto id, NumericColumn::Of(batch, "trade_id"));
    ARROW_ASSIGN_OR_RAISE(auto price, NumericColumn::Of(batch, "trade_price"));
    if (!ts.is_integer() || !id.is_integer()) return Status::TypeError("timestamp and trade_id must be integers");
    const int64_t n = batch.num_rows();
    for (int64_t i = 0; i < n; ++i) {
      const int64_t row = first_row + i;
      const int64_t t = ts.Int(i);
      if (t >= kMicrosInMillisThreshold) {
        // A time in the wrong unit is no trade time: the order checks skip it, ids included.
        Flag("time_unit", file, row);
      } else {
        if (has_prev_) CheckStep(prev_id_, id.Int(i), prev_time_, t, file, row);
        has_prev_ = true;
        prev_id_ = id.Int(i);
        prev_time_ = t;
      }
      if (price.valid(i) && !(price.Double(i) > 0)) Flag("non_positive_price", file, row);
    }
    Touch(file, first_row, ts.Int(0), id.Int(0));
    Touch(file, first_row + n - 1, ts.Int(n - 1), id.Int(n - 1));
    return Status::OK();
  }

  std::string_view repeat_check() const override { return "id_repeat"; }

 private:
  void CheckStep(int64_t id_before, int64_t id, int64_t time_before, int64_t time, const std::string& file,
                 int64_t row) {
    if (id == id_before) Flag("id_repeat", file, row);
    else if (id < id_before) Flag("id_backwards", file, row);
    else if (id > id_before + 1) Flag("id_gap", file, row);
    if (time < time_before) Flag("time_backwards", file, row);
  }

  bool has_prev_ = false;
  int64_t prev_id_ = 0;
  int64_t prev_time_ = 0;
};

}  // namespace

std::unique_ptr<Checker> MakeAggTradesChecker(const Options& options) {
  return std::make_unique<AggTradesChecker>(options);
}

}  // namespace tickforge::quality
