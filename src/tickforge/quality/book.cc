// Book checks for MBP-10 files and rebuilt books (any rows with bid_px_00/ask_px_00 columns):
// crossed and locked tops, undefined levels above defined ones, sequence gaps, times going
// backwards, and mid jumps beyond mid_jump_mads MADs of the partition's mid changes.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tickforge/dbn/records.h"
#include "tickforge/quality/checkers_internal.h"

namespace tickforge::quality {
namespace {

/// One side's price columns, best first.
struct Side {
  std::vector<NumericColumn> levels;
  /// Return whether level `k` has a price at row `i` (DBN's undefined price, null or NaN: none).
  bool Defined(size_t k, int64_t i) const {
    const auto& c = levels[k];
    if (!c.valid(i)) return false;
    return c.is_integer() ? c.Int(i) != dbn::kUndefPrice : !std::isnan(c.Double(i));
  }
};

class BookChecker final : public Checker {
 public:
  BookChecker(bool dbn, const Options& options) : Checker(options), dbn_(dbn) {}

  bool WantsRowRepeats() const override { return dbn_; }

  void Join(Checker& next_checker) override {
    auto& next = static_cast<BookChecker&>(next_checker);
    const Edge& a = last();
    const Edge& b = next.first();
    if (b.time < a.time) next.Flag("time_backwards", b.file, b.row);
    if (a.id > 0 && b.id > a.id + 1) next.Flag("sequence_gap", b.file, b.row);
  }

 protected:
  Status DoConsume(const arrow::RecordBatch& batch, const std::string& file, int64_t first_row) override {
    const char* time_name = batch.GetColumnByName("ts_recv")    ? "ts_recv"
                            : batch.GetColumnByName("ts_event") ? "ts_event"
                                                                : "timestamp";
    ARROW_ASSIGN_OR_RAISE(auto ts, NumericColumn::Of(batch, time_name));
    ARROW_ASSIGN_OR_RAISE(auto sequence, NumericColumn::Of(batch, "sequence", false));
    Side bid, ask;
    for (int k = 0; k < 100; ++k) {
      ARROW_ASSIGN_OR_RAISE(auto b, NumericColumn::Of(batch, fmt::format("bid_px_{:02d}", k), false));
      ARROW_ASSIGN_OR_RAISE(auto a, NumericColumn::Of(batch, fmt::format("ask_px_{:02d}", k), false));
      if (!b.present() || !a.present()) break;
      bid.levels.push_back(std::move(b));
      ask.levels.push_back(std::move(a));
    }
    if (bid.levels.empty()) return Status::Invalid("no bid_px_00/ask_px_00 columns");
    if (!ts.is_integer()) return Status::TypeError("column '", time_name, "' is not an integer time");
    file_index_ = FileIndex(file);
    const int64_t n = batch.num_rows();
    int64_t first_id = 0, last_id = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t row = first_row + i;
      const int64_t t = ts.Int(i);
      if (has_prev_time_ && t < prev_time_) Flag("time_backwards", file, row);
      has_prev_time_ = true;
      prev_time_ = t;
      if (sequence.valid(i) && sequence.Int(i) != 0) {
        const int64_t seq = sequence.Int(i);
        if (prev_sequence_ > 0 && seq > prev_sequence_ + 1) Flag("sequence_gap", file, row);
        prev_sequence_ = seq;
        if (first_id == 0) first_id = seq;
        last_id = seq;
      }
      if (Hole(bid, i) || Hole(ask, i)) Flag("undefined_level", file, row);
      if (!bid.Defined(0, i) || !ask.Defined(0, i)) continue;
      const double b = bid.levels[0].Double(i), a = ask.levels[0].Double(i);
      if (b > a) {
        Flag("crossed", file, row);
        continue;
      }
      if (b == a) Flag("locked", file, row);
      const double mid = (b + a) / 2;
      if (has_mid_ && mid != prev_mid_) MidChange(mid - prev_mid_, row);
      has_mid_ = true;
      prev_mid_ = mid;
    }
    // The sequence of a partition's edges: the first and last nonzero of the batch.
    Touch(file, first_row, ts.Int(0), empty() ? first_id : last().id);
    Touch(file, first_row + n - 1, ts.Int(n - 1), last_id != 0 ? last_id : last().id);
    return Status::OK();
  }

  void DoFinish() override { DoRelease(); }

  void DoRelease() override {
    if (!frozen_) FlagWindow();
    frozen_ = true;
    window_.clear();
    window_.shrink_to_fit();
  }

  std::string_view repeat_check() const override { return "duplicate_record"; }

 private:
  struct Change {
    double delta;
    uint32_t file;
    int64_t row;
  };

  /// Whether a side has an undefined level above a defined one.
  static bool Hole(const Side& side, int64_t i) {
    bool undefined_above = false;
    for (size_t k = 0; k < side.levels.size(); ++k) {
      const bool defined = side.Defined(k, i);
      if (defined && undefined_above) return true;
      undefined_above = undefined_above || !defined;
    }
    return false;
  }

  uint32_t FileIndex(const std::string& file) {
    if (files_.empty() || files_.back() != file) files_.push_back(file);
    return static_cast<uint32_t>(files_.size() - 1);
  }

  /// The first mad_window changes are kept until their MAD is known; later ones are compared
  /// with that threshold at once, so memory stays bounded.
  void MidChange(double delta, int64_t row) {
    if (frozen_) {
      if (std::abs(delta) > threshold_) Flag("mid_jump", files_[file_index_], row);
      return;
    }
    window_.push_back(Change{delta, file_index_, row});
    if (static_cast<int64_t>(window_.size()) >= options_.mad_window) {
      FlagWindow();
      frozen_ = true;
      window_.clear();
    }
  }

  static double Median(std::vector<double> values) {
    const size_t n = values.size();
    std::nth_element(values.begin(), values.begin() + n / 2, values.end());
    double upper = values[n / 2];
    if (n % 2 == 1) return upper;
    double lower = *std::max_element(values.begin(), values.begin() + n / 2);
    return (lower + upper) / 2;
  }

  /// Set the threshold from the kept changes, k times the median of their sizes (the MAD
  /// about zero: a mid's changes center on zero, and about their own median a book that
  /// ticks up and down by one tick would have a MAD of zero), and flag those beyond it.
  void FlagWindow() {
    if (window_.empty()) return;
    std::vector<double> sizes;
    sizes.reserve(window_.size());
    for (const auto& c : window_) sizes.push_back(std::abs(c.delta));
    const double mad = Median(std::move(sizes));
    threshold_ = mad > 0 ? options_.mid_jump_mads * mad : INFINITY;
    for (const auto& c : window_) {
      if (std::abs(c.delta) > threshold_) Flag("mid_jump", files_[c.file], c.row);
    }
  }

  bool dbn_;
  bool has_prev_time_ = false;
  int64_t prev_time_ = 0;
  int64_t prev_sequence_ = 0;
  bool has_mid_ = false;
  double prev_mid_ = 0;
  std::vector<std::string> files_;
  uint32_t file_index_ = 0;
  std::vector<Change> window_;
  bool frozen_ = false;
  double threshold_ = INFINITY;
};

}  // namespace

std::unique_ptr<Checker> MakeBookChecker(bool dbn, const Options& options) {
  return std::make_unique<BookChecker>(dbn, options);
}

}  // namespace tickforge::quality
