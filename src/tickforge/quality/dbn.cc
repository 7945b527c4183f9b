// DBN datasets without a book (mbo, trades, ohlcv, ...): duplicate records, i.e. rows equal
// in every column to an earlier row of the partition in this commit (the writer finds them
// with its whole-row keys, see Checker::Repeat).
#include "tickforge/quality/checkers_internal.h"

namespace tickforge::quality {
namespace {

class DbnChecker final : public Checker {
 public:
  using Checker::Checker;
  bool WantsRowRepeats() const override { return true; }

 protected:
  Status DoConsume(const arrow::RecordBatch& batch, const std::string& file, int64_t first_row) override {
    Touch(file, first_row + batch.num_rows() - 1, 0, 0);
    return Status::OK();
  }
  std::string_view repeat_check() const override { return "duplicate_record"; }
};

}  // namespace

std::unique_ptr<Checker> MakeDbnChecker(const Options& options) { return std::make_unique<DbnChecker>(options); }

}  // namespace tickforge::quality
