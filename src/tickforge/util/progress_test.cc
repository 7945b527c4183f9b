#include "tickforge/util/progress.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tickforge/testing/assertions.h"

namespace tickforge {
namespace {

// An update as the callback saw it (its stage copied: the view lives only for the call).
struct Seen {
  std::string stage;
  ProgressUpdate update;
};

ProgressFn Record(std::vector<Seen>* seen) {
  return [seen](const ProgressUpdate& u) { seen->push_back({std::string(u.stage), u}); };
}

TEST(ProgressReporterTest, WithoutACallbackEveryCallIsOk) {
  ProgressReporter progress(nullptr);
  EXPECT_FALSE(progress.enabled());
  ASSERT_OK(progress.Begin("x", 3));
  ASSERT_OK(progress.Add(10, 5, 1));
  ASSERT_OK(progress.End());
  EXPECT_FALSE(progress.ForFile(0));
}

TEST(ProgressReporterTest, ReportsEveryCallWithoutAThrottle) {
  std::vector<Seen> seen;
  ProgressReporter progress(Record(&seen), std::chrono::nanoseconds(0));
  ASSERT_OK(progress.Begin("split", 2, -1, 300));
  ASSERT_OK(progress.Add(10));
  ASSERT_OK(progress.Add(5, 100, 1));
  ASSERT_OK(progress.SetBytes(250));
  ASSERT_OK(progress.SetBytes(200));  // never backwards
  ASSERT_OK(progress.Add(7, 50, 1));
  ASSERT_OK(progress.End());
  ASSERT_EQ(seen.size(), 7u);
  EXPECT_EQ(seen[0].stage, "split");
  EXPECT_EQ(seen[0].update.files_total, 2);
  EXPECT_EQ(seen[0].update.rows_done, 0);
  EXPECT_EQ(seen[1].update.rows_done, 10);
  EXPECT_EQ(seen[2].update.files_done, 1);
  EXPECT_EQ(seen[3].update.bytes_done, 250);
  EXPECT_EQ(seen[4].update.bytes_done, 250);
  EXPECT_EQ(seen[5].update.bytes_done, 300);
  const auto& last = seen.back().update;
  EXPECT_TRUE(last.final);
  EXPECT_EQ(last.files_done, 2);
  EXPECT_EQ(last.rows_done, 22);
  // An unknown total is the count at the end.
  EXPECT_EQ(last.rows_total, 22);
  EXPECT_EQ(last.bytes_total, 300);
  for (size_t i = 0; i + 1 < seen.size(); ++i) EXPECT_FALSE(seen[i].update.final);
}

TEST(ProgressReporterTest, ThrottleKeepsTheFirstAndTheLastOfEachStage) {
  std::vector<Seen> seen;
  ProgressReporter progress(Record(&seen), std::chrono::hours(1));
  ASSERT_OK(progress.Begin("a", 100));
  for (int i = 0; i < 100; ++i) ASSERT_OK(progress.Add(1, 0, 1));
  ASSERT_OK(progress.End());
  ASSERT_OK(progress.Begin("b"));
  ASSERT_OK(progress.Add(4));
  ASSERT_OK(progress.End());
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[1].stage, "a");
  EXPECT_EQ(seen[1].update.files_done, 100);
  EXPECT_TRUE(seen[1].update.final);
  EXPECT_EQ(seen[2].stage, "b");
  EXPECT_EQ(seen[2].update.rows_done, 0);  // counts restart with a stage
  EXPECT_EQ(seen[3].update.rows_done, 4);
}

TEST(ProgressReporterTest, ACallbackThatThrowsCancelsAndIsNotCalledAgain) {
  int calls = 0;
  ProgressReporter progress(
      [&](const ProgressUpdate& u) {
        ++calls;
        if (u.rows_done >= 20) throw std::runtime_error("stop here");
      },
      std::chrono::nanoseconds(0));
  ASSERT_OK(progress.Begin("x"));
  ASSERT_OK(progress.Add(10));
  const Status status = progress.Add(10);
  EXPECT_TRUE(status.IsCancelled());
  EXPECT_NE(status.message().find("stop here"), std::string::npos);
  EXPECT_TRUE(progress.Add(1).IsCancelled());
  EXPECT_TRUE(progress.End().IsCancelled());
  EXPECT_TRUE(progress.status().IsCancelled());
  EXPECT_EQ(calls, 3);
}

TEST(ProgressReporterTest, ForFileSetsBytesFromTheFilesBase) {
  std::vector<Seen> seen;
  ProgressReporter progress(Record(&seen), std::chrono::nanoseconds(0));
  ASSERT_OK(progress.Begin("convert", 2, -1, 1000));
  progress.ForFile(400)(150, 600);
  EXPECT_EQ(seen.back().update.bytes_done, 550);
}

TEST(ProgressReporterTest, CountsFromManyThreadsAddUp) {
  std::atomic<int64_t> last_rows{0};
  bool monotone = true;
  ProgressReporter progress(
      [&](const ProgressUpdate& u) {
        if (u.rows_done < last_rows.load()) monotone = false;
        last_rows = u.rows_done;
      },
      std::chrono::nanoseconds(0));
  ASSERT_OK(progress.Begin("x"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) (void)progress.Add(1);
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_OK(progress.End());
  EXPECT_EQ(last_rows.load(), 4000);
  EXPECT_TRUE(monotone);
}

// A reader of `batches` batches of `rows` rows each.
std::shared_ptr<arrow::RecordBatchReader> Batches(int batches, int64_t rows) {
  auto schema = arrow::schema({arrow::field("i", arrow::int64())});
  std::vector<std::shared_ptr<arrow::RecordBatch>> list;
  for (int b = 0; b < batches; ++b) {
    arrow::Int64Builder builder;
    for (int64_t r = 0; r < rows; ++r) EXPECT_TRUE(builder.Append(r).ok());
    list.push_back(arrow::RecordBatch::Make(schema, rows, {builder.Finish().ValueOrDie()}));
  }
  return arrow::RecordBatchReader::Make(list, schema).ValueOrDie();
}

TEST(ReportRowsTest, CountsRowsPerBatchAndOneFileAtTheEnd) {
  std::vector<Seen> seen;
  ProgressReporter progress(Record(&seen), std::chrono::nanoseconds(0));
  ASSERT_OK(progress.Begin("ingest", 1));
  auto reader = ReportRows(Batches(3, 5), &progress, 123);
  ASSERT_OK_AND_ASSIGN(auto table, reader->ToTable());
  EXPECT_EQ(table->num_rows(), 15);
  ASSERT_OK(progress.End());
  EXPECT_EQ(seen.back().update.rows_done, 15);
  EXPECT_EQ(seen.back().update.files_done, 1);
  EXPECT_EQ(seen.back().update.bytes_done, 123);
}

TEST(ReportRowsTest, ACancelEndsTheStream) {
  ProgressReporter progress([](const ProgressUpdate& u) {
    if (u.rows_done > 0) throw std::runtime_error("enough");
  }, std::chrono::nanoseconds(0));
  ASSERT_OK(progress.Begin("ingest"));
  auto reader = ReportRows(Batches(3, 5), &progress);
  EXPECT_TRUE(reader->ToTable().status().IsCancelled());
}

TEST(ReportRowsTest, WithoutACallbackTheReaderIsReturnedAsIs) {
  ProgressReporter progress(nullptr);
  auto reader = Batches(1, 1);
  EXPECT_EQ(ReportRows(reader, &progress), reader);
  EXPECT_EQ(ReportRows(reader, nullptr), reader);
}

}  // namespace
}  // namespace tickforge
