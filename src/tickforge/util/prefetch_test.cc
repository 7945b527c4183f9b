#include "tickforge/util/prefetch.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tickforge/testing/assertions.h"

namespace tickforge {
namespace {

// Yields `batches` batches of `rows` rows (one int64 column counting up) and counts its reads.
class CountingReader : public arrow::RecordBatchReader {
 public:
  CountingReader(int batches, int64_t rows) : batches_(batches), rows_(rows) {}
  std::shared_ptr<arrow::Schema> schema() const override { return arrow::schema({arrow::field("i", arrow::int64())}); }
  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* out) override {
    if (read_ == batches_) {
      *out = nullptr;
      return arrow::Status::OK();
    }
    arrow::Int64Builder builder;
    for (int64_t r = 0; r < rows_; ++r) ARROW_RETURN_NOT_OK(builder.Append(read_ * rows_ + r));
    ARROW_ASSIGN_OR_RAISE(auto array, builder.Finish());
    *out = arrow::RecordBatch::Make(schema(), rows_, {array});
    ++read_;
    return arrow::Status::OK();
  }
  int read() const { return read_.load(); }

 private:
  int batches_;
  int64_t rows_;
  std::atomic<int> read_{0};
};

// Wait (5 s at most) until `reader` has read `n` batches, then a little longer, in which it
// must read no more; return how many it read.
int ReadsAfterWaitingFor(const CountingReader& reader, int n) {
  for (int i = 0; i < 500 && reader.read() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  return reader.read();
}

TEST(PrefetchTest, DeliversEveryBatchInOrder) {
  auto reader = std::make_shared<CountingReader>(20, 7);
  BatchPrefetcher prefetch(reader, 3);
  int64_t expected = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(auto batch, prefetch.Next());
    if (!batch) break;
    const auto& column = static_cast<const arrow::Int64Array&>(*batch->column(0));
    for (int64_t r = 0; r < column.length(); ++r) ASSERT_EQ(column.Value(r), expected++);
  }
  EXPECT_EQ(expected, 20 * 7);
  ASSERT_OK_AND_ASSIGN(auto after, prefetch.Next());
  EXPECT_EQ(after, nullptr);
}

TEST(PrefetchTest, ReadsAheadNoFurtherThanTheRowBound) {
  // 10-row batches, at most 35 rows ready: it reads a fourth batch while 30 rows are ready,
  // and no fifth, however long the consumer waits.
  auto reader = std::make_shared<CountingReader>(100, 10);
  BatchPrefetcher prefetch(reader, 64, {}, 35);
  for (int taken = 0; taken < 10; ++taken) {
    EXPECT_EQ(ReadsAfterWaitingFor(*reader, taken + 4), taken + 4) << "after taking " << taken;
    ASSERT_OK_AND_ASSIGN(auto batch, prefetch.Next());
    ASSERT_NE(batch, nullptr);
  }
}

TEST(PrefetchTest, WithoutARowBoundTheBatchCountBounds) {
  auto reader = std::make_shared<CountingReader>(100, 10);
  BatchPrefetcher prefetch(reader, 6);
  EXPECT_EQ(ReadsAfterWaitingFor(*reader, 6), 6);
}

}  // namespace
}  // namespace tickforge
