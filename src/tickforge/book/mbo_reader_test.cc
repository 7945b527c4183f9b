#include "tickforge/book/mbo_reader.h"

#include <arrow/api.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "tickforge/book/test_common.h"
#include "tickforge/synth/synth.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/testdata.h"

namespace tickforge::book {
namespace {

using dbn::flag::kLast;

Result<std::shared_ptr<arrow::Table>> ReadRows(const std::string& path, BookOptions options = {},
                                               BookStats* stats = nullptr) {
  ARROW_ASSIGN_OR_RAISE(auto reader, MboBookReader::Open(path, options));
  ARROW_ASSIGN_OR_RAISE(auto table, reader->ToTable());
  if (stats) *stats = reader->stats();
  return table->CombineChunks();
}

template <typename T = arrow::Int64Array>
auto Col(const arrow::Table& t, const std::string& name) {
  return std::static_pointer_cast<T>(t.GetColumnByName(name)->chunk(0));
}

class MboReaderTest : public BookTest {};

TEST_F(MboReaderTest, OneRowAfterEachEvent) {
  // An event of two records, a cancel on its own, and a trade whose event never ends.
  const auto path = WriteMbo("a.mbo.dbn.zst", {{'A', 'B', M1, 2, 1, 0, 10},
                                               {'A', 'B', P0, 3, 2, kLast, 10},
                                               {'A', 'A', P1, 4, 3, kLast, 11},
                                               {'C', 'B', P0, 1, 2, kLast, 12},
                                               {'T', 'A', P0, 1, 0, 0, 13}});
  BookStats stats;
  ASSERT_OK_AND_ASSIGN(auto t, ReadRows(path, {}, &stats));
  ASSERT_EQ(t->num_rows(), 3);
  EXPECT_EQ(stats.records, 5);
  EXPECT_EQ(stats.messages, 5);
  EXPECT_EQ(stats.events, 3);
  EXPECT_EQ(stats.rows, 3);
  EXPECT_EQ(stats.trailing, 1);
  EXPECT_EQ(stats.books, 1);
  EXPECT_EQ(stats.orders, 3);
  EXPECT_EQ(stats.anomalies.total(), 0);
  // The book after each event, best first.
  EXPECT_EQ(Col(*t, "bid_px_00")->Value(0), P0);
  EXPECT_EQ(Col(*t, "bid_px_01")->Value(0), M1);
  EXPECT_EQ(Col(*t, "ask_px_00")->Value(0), dbn::kUndefPrice);
  EXPECT_EQ(Col(*t, "ask_px_00")->Value(1), P1);
  EXPECT_EQ(Col<arrow::UInt32Array>(*t, "bid_sz_00")->Value(2), 2u);
  EXPECT_EQ(Col<arrow::UInt32Array>(*t, "bid_ct_00")->Value(2), 1u);
  // The event fields are those of the record that ended it.
  EXPECT_EQ(Col<arrow::StringArray>(*t, "action")->GetString(2), "C");
  EXPECT_EQ(Col<arrow::StringArray>(*t, "side")->GetString(1), "A");
  EXPECT_EQ(Col(*t, "price")->Value(1), P1);
  EXPECT_EQ(Col<arrow::UInt32Array>(*t, "size")->Value(2), 1u);
  EXPECT_EQ(Col<arrow::UInt32Array>(*t, "sequence")->Value(2), 12u);
  EXPECT_EQ(Col<arrow::UInt8Array>(*t, "flags")->Value(0), kLast);
  EXPECT_EQ(Col<arrow::TimestampArray>(*t, "ts_event")->Value(0), static_cast<int64_t>(kT0 + 1000));
  EXPECT_EQ(Col<arrow::TimestampArray>(*t, "ts_recv")->Value(0), static_cast<int64_t>(kT0 + 1100));
  EXPECT_EQ(Col<arrow::Int32Array>(*t, "ts_in_delta")->Value(0), 7);
  EXPECT_EQ(Col<arrow::UInt8Array>(*t, "rtype")->Value(0), dbn::rtype::kMbp10);
  EXPECT_EQ(Col<arrow::StringArray>(*t, "symbol")->GetString(0), "ESH4");
  // Depth: the levels better than the record's price; the bid at M1 sits behind P0.
  EXPECT_EQ(Col<arrow::UInt8Array>(*t, "depth")->Value(0), 0);
}

TEST_F(MboReaderTest, DepthIsTheLevelTheRecordTouched) {
  const auto path = WriteMbo("a.mbo.dbn", {{'A', 'B', P0, 2, 1}, {'A', 'B', M1, 2, 2}, {'A', 'B', M1 - kTick, 2, 3},
                                           {'C', 'B', M1, 2, 2}, {'T', 'B', P0, 2, 0}},
                             MboMetadata(), /*zstd=*/false);
  ASSERT_OK_AND_ASSIGN(auto t, ReadRows(path));
  const auto depth = Col<arrow::UInt8Array>(*t, "depth");
  EXPECT_EQ(depth->Value(1), 1);
  EXPECT_EQ(depth->Value(2), 2);
  EXPECT_EQ(depth->Value(3), 1);  // a cancel that removed its level: where the level was
  EXPECT_EQ(depth->Value(4), 0);  // trades have no book level
}

TEST_F(MboReaderTest, AnomaliesAreCountedOrStrictlyAnError) {
  const auto path = WriteMbo("bad.mbo.dbn.zst", {{'A', 'B', P0, 2, 1, kLast, 5},
                                                 {'C', 'B', P0, 2, 77, kLast, 6},
                                                 {'M', 'A', P1, 2, 78, kLast, 4}});
  BookStats stats;
  ASSERT_OK_AND_ASSIGN(auto t, ReadRows(path, {}, &stats));
  EXPECT_EQ(t->num_rows(), 3);
  EXPECT_EQ(stats.anomalies[Anomaly::kUnknownCancel], 1);
  EXPECT_EQ(stats.anomalies[Anomaly::kUnknownModify], 1);
  EXPECT_EQ(stats.anomalies[Anomaly::kSequenceBackwards], 1);
  EXPECT_EQ(stats.ToJson()["anomalies"]["unknown_cancel"], 1);
  EXPECT_EQ(stats.ToJson()["anomaly_total"], 3);

  auto strict = ReadRows(path, {.strict = true});
  ASSERT_FALSE(strict.ok());
  const std::string message = strict.status().message();
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("record 1 "), std::string::npos) << message;
  EXPECT_NE(message.find("a Cancel of an order id the book does not hold"), std::string::npos) << message;
  EXPECT_NE(message.find("order id 77"), std::string::npos) << message;
}

TEST_F(MboReaderTest, TruncatedInputNamesTheFileAndTheOffset) {
  const auto path = WriteMbo("t.mbo.dbn", {{'A', 'B', P0, 2, 1}, {'A', 'B', P0, 2, 2}}, MboMetadata(), false);
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 10);
  auto result = ReadRows(path);
  ASSERT_FALSE(result.ok());
  const std::string message = result.status().message();
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("byte " + std::to_string(size - 56)), std::string::npos) << message;
}

TEST_F(MboReaderTest, OtherSchemasAreRejected) {
  synth::SynthOptions options;
  options.days = 1;
  options.rows_per_day = 10;
  ASSERT_OK_AND_ASSIGN(auto files, synth::WriteMbp10Days(dir_.string(), options));
  auto result = MboBookReader::Open(files.front().path);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("holds mbp-10"), std::string::npos) << result.status().message();
}

TEST_F(MboReaderTest, RowsShowTheBookOfTheirOwnVenue) {
  Mbo other{'A', 'A', P1 + kTick, 9, 1};
  other.publisher_id = 2;
  const auto path = WriteMbo("v.mbo.dbn.zst", {{'A', 'A', P1, 4, 1}, other});
  BookStats stats;
  ASSERT_OK_AND_ASSIGN(auto t, ReadRows(path, {}, &stats));
  EXPECT_EQ(stats.books, 2);
  EXPECT_EQ(Col<arrow::UInt16Array>(*t, "publisher_id")->Value(1), 2);
  EXPECT_EQ(Col(*t, "ask_px_00")->Value(1), P1 + kTick);  // not the other venue's better P1
  EXPECT_EQ(Col(*t, "ask_px_01")->Value(1), dbn::kUndefPrice);
}

TEST_F(MboReaderTest, LevelsAndBatchesAreOptions) {
  std::vector<Mbo> records;
  for (uint64_t i = 0; i < 30; ++i) records.push_back({'A', 'B', P0 - static_cast<int64_t>(i) * kTick, 1, i + 1});
  const auto path = WriteMbo("l.mbo.dbn.zst", records);
  ASSERT_OK_AND_ASSIGN(auto reader, MboBookReader::Open(path, {.levels = 20, .batch_rows = 7}));
  EXPECT_EQ(reader->schema()->GetFieldIndex("bid_px_19") >= 0, true);
  std::shared_ptr<arrow::RecordBatch> batch;
  std::vector<int64_t> sizes;
  while (true) {
    ASSERT_OK(reader->ReadNext(&batch));
    if (!batch) break;
    sizes.push_back(batch->num_rows());
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{7, 7, 7, 7, 2}));
  ASSERT_OK_AND_ASSIGN(auto t, ReadRows(path, {.levels = 20}));
  EXPECT_EQ(Col(*t, "bid_px_19")->Value(29), P0 - 19 * kTick);
  EXPECT_EQ(Col(*t, "bid_px_19")->Value(18), dbn::kUndefPrice);
}

TEST_F(MboReaderTest, RecordsWithTsOutKeepIt) {
  dbn::Metadata metadata = MboMetadata();
  metadata.ts_out = true;
  const auto path = dir_ / "o.mbo.dbn";
  {
    ASSERT_OK_AND_ASSIGN(auto encoder, dbn::Encoder::Open(path, metadata, dbn::EncoderOptions{false, 3}));
    for (uint64_t i = 0; i < 3; ++i) {
      struct {
        dbn::MboMsg msg;
        uint64_t ts_out;
      } record{Mbo{'A', 'B', P0, 1, i + 1}.Record(kT0 + i), kT0 + 500 + i};
      record.msg.hd.length = sizeof(record) / dbn::kLengthMultiplier;
      ASSERT_OK(encoder->Write(static_cast<const dbn::RecordHeader*>(&record.msg.hd)));
    }
    ASSERT_OK(encoder->Close());
  }
  ASSERT_OK_AND_ASSIGN(auto t, ReadRows(path.string()));
  ASSERT_EQ(t->num_rows(), 3);
  const auto ts_out = Col<arrow::TimestampArray>(*t, "ts_out");
  EXPECT_EQ(ts_out->Value(2), static_cast<int64_t>(kT0 + 502));
  EXPECT_EQ(t->schema()->field(t->num_columns() - 2)->name(), "ts_out");  // before symbol, as to_arrow
  EXPECT_EQ(Col<arrow::UInt32Array>(*t, "bid_sz_00")->Value(2), 3u);
}

TEST_F(MboReaderTest, ReplayCountsWhatTheReaderCounts) {
  TICKFORGE_SKIP_WITHOUT_TESTDATA();
  for (const auto& file : testing::TestDataFiles("nautilus/databento", ".mbo.dbn")) {
    BookStats read;
    ASSERT_OK_AND_ASSIGN(auto t, ReadRows(file.string(), {}, &read));
    ASSERT_OK_AND_ASSIGN(auto replayed, ReplayMbo(file.string()));
    EXPECT_EQ(read.rows, t->num_rows());
    EXPECT_EQ(read.rows, read.events);
    EXPECT_EQ(replayed.rows, 0);
    replayed.rows = read.rows;
    EXPECT_EQ(replayed.ToJson(), read.ToJson()) << file;
    EXPECT_GT(read.messages, 0);
  }
}

}  // namespace
}  // namespace tickforge::book
