#include "tickforge/label/series_internal.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <arrow/ipc/api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"

namespace tickforge::label::internal {
namespace {

using testing::ScopedTempDir;

struct Row {
  int64_t ts;
  uint32_t seq;
  int64_t bid;  // tags the row: unique in each test
};

// A scratch part as Split writes them, reduced to three columns, cut into batches of `batch`.
class SeriesTest : public ::testing::Test {
 protected:
  void AddPart(int file, const std::vector<Row>& rows, int64_t batch = 1 << 16) {
    const auto schema = arrow::schema({arrow::field("ts_event", arrow::timestamp(arrow::TimeUnit::NANO, "UTC")),
                                       arrow::field("sequence", arrow::uint32()),
                                       arrow::field(kBestBid, arrow::int64())});
    arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::NANO, "UTC"), arrow::default_memory_pool());
    arrow::UInt32Builder seq;
    arrow::Int64Builder bid;
    for (const auto& r : rows) {
      ASSERT_OK(ts.Append(r.ts));
      ASSERT_OK(seq.Append(r.seq));
      ASSERT_OK(bid.Append(r.bid));
    }
    std::shared_ptr<arrow::Array> a, b, c;
    ASSERT_OK(ts.Finish(&a));
    ASSERT_OK(seq.Finish(&b));
    ASSERT_OK(bid.Finish(&c));
    const auto record_batch = arrow::RecordBatch::Make(schema, static_cast<int64_t>(rows.size()), {a, b, c});
    const auto path = dir_.path() / ("part" + std::to_string(info_.parts.size()) + ".arrow");
    ASSERT_OK_AND_ASSIGN(auto out, arrow::io::FileOutputStream::Open(path.string()));
    ASSERT_OK_AND_ASSIGN(auto writer, arrow::ipc::MakeFileWriter(out, schema));
    for (int64_t offset = 0; offset < record_batch->num_rows(); offset += batch) {
      ASSERT_OK(writer->WriteRecordBatch(*record_batch->Slice(offset, batch)));
    }
    ASSERT_OK(writer->Close());
    ASSERT_OK(out->Close());
    info_.parts.push_back(Part{file, path, static_cast<int64_t>(rows.size()), Key{rows.front().ts, rows.front().seq},
                               Key{rows.back().ts, rows.back().seq}});
    info_.valid += static_cast<int64_t>(rows.size());
  }

  // Read the whole series: (bid tag, file) of each row, and the rows of each chunk.
  void ReadAll(int max_file, std::vector<std::string> columns, std::vector<std::pair<int64_t, int32_t>>* rows,
               std::vector<int64_t>* chunk_rows = nullptr) {
    SeriesReader reader(info_, max_file, std::move(columns));
    while (true) {
      ASSERT_OK_AND_ASSIGN(auto chunk, reader.Next());
      if (!chunk) break;
      ASSERT_EQ(chunk->file.size(), static_cast<size_t>(chunk->rows->num_rows()));
      const auto& bid = Column<arrow::Int64Array>(*chunk->rows, kBestBid);
      for (int64_t i = 0; i < chunk->rows->num_rows(); ++i) rows->emplace_back(bid.Value(i), chunk->file[static_cast<size_t>(i)]);
      if (chunk_rows) chunk_rows->push_back(chunk->rows->num_rows());
    }
  }

  ScopedTempDir dir_{"tickforge_label_series"};
  SymbolInfo info_;
};

TEST_F(SeriesTest, PartsThatInterleaveAreMergedByKeyThenFileThenPosition) {
  // Files 0 and 1 overlap in time (an instrument whose sessions straddle two files), with one
  // key in both; file 2 starts after both end and streams in batches of 2.
  AddPart(0, {{10, 1, 100}, {20, 1, 101}, {30, 5, 102}, {40, 1, 103}});
  AddPart(1, {{15, 1, 200}, {30, 5, 201}, {35, 0, 202}});
  AddPart(2, {{50, 0, 300}, {51, 0, 301}, {52, 0, 302}}, /*batch=*/2);
  std::vector<std::pair<int64_t, int32_t>> rows;
  std::vector<int64_t> chunks;
  ReadAll(3, {}, &rows, &chunks);
  const std::vector<std::pair<int64_t, int32_t>> expected = {{100, 0}, {200, 1}, {101, 0}, {102, 0}, {201, 1},
                                                             {202, 1}, {103, 0}, {300, 2}, {301, 2}, {302, 2}};
  EXPECT_EQ(rows, expected);
  // One merged chunk for the first two parts, then the third part's batches as they are.
  EXPECT_EQ(chunks, (std::vector<int64_t>{7, 2, 1}));
}

TEST_F(SeriesTest, ReadsOnlyThePartsOfEarlierFiles) {
  AddPart(0, {{10, 0, 100}, {20, 0, 101}});
  AddPart(1, {{30, 0, 200}});
  AddPart(2, {{40, 0, 300}});
  std::vector<std::pair<int64_t, int32_t>> rows;
  ReadAll(2, {}, &rows);
  EXPECT_EQ(rows, (std::vector<std::pair<int64_t, int32_t>>{{100, 0}, {101, 0}, {200, 1}}));
  rows.clear();
  ReadAll(0, {}, &rows);
  EXPECT_TRUE(rows.empty());
}

TEST_F(SeriesTest, NamedColumnsAlwaysBringTheOrderingColumns) {
  AddPart(0, {{10, 0, 100}, {30, 0, 101}});
  AddPart(1, {{20, 0, 200}});
  for (int max_file : {1, 2}) {  // streamed, then merged
    SeriesReader reader(info_, max_file, {kBestBid});
    ASSERT_OK_AND_ASSIGN(auto chunk, reader.Next());
    ASSERT_TRUE(chunk.has_value());
    std::vector<std::string> names = chunk->rows->schema()->field_names();
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{kBestBid, "sequence", "ts_event"}));
  }
}

}  // namespace
}  // namespace tickforge::label::internal
