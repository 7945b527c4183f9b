#include "tickforge/dbn/to_parquet.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <gtest/gtest.h>
#include <parquet/arrow/reader.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>

#include <algorithm>

#include <cstring>
#include <fstream>

#include "tickforge/dbn/encoder.h"

namespace tickforge::dbn {
namespace {

constexpr uint64_t kApril3 = 1'712'102'400'000'000'000ULL;

std::filesystem::path WriteSample(const std::filesystem::path& dir, int rows) {
  Metadata m;
  m.dataset = "GLBX.MDP3";
  m.schema = Schema::kMbp10;
  m.stype_in = 1;
  m.stype_out = 0;
  m.mappings = {{"M6AM4", {{20240403, 20240404, "42"}}}};
  const auto path = dir / "glbx-mdp3-20240403.mbp-10.dbn.zst";
  auto encoder = Encoder::Open(path, m);
  EXPECT_TRUE(encoder.ok());
  for (int i = 0; i < rows; ++i) {
    Mbp10Msg r;
    std::memset(&r, 0, sizeof r);
    r.hd = {LengthOf<Mbp10Msg>(), rtype::kMbp10, 1, 42, kApril3 + static_cast<uint64_t>(i)};
    r.ts_recv = r.hd.ts_event;
    for (int l = 0; l < 10; ++l) r.levels[l] = {650'000'000 - l, 650'000'010 + l, 1, 2, 3, 4};
    r.action = 'A';
    r.side = 'B';
    EXPECT_TRUE((*encoder)->Write(r).ok());
  }
  EXPECT_TRUE((*encoder)->Close().ok());
  return path;
}

Result<std::shared_ptr<arrow::Table>> ReadParquet(const std::filesystem::path& path) {
  ARROW_ASSIGN_OR_RAISE(auto file, arrow::io::ReadableFile::Open(path.string()));
  ARROW_ASSIGN_OR_RAISE(auto reader, parquet::arrow::OpenFile(file, arrow::default_memory_pool()));
  return reader->ReadTable();
}

TEST(ToParquetTest, NamesOutputsAfterTheInput) {
  EXPECT_EQ(ParquetNameFor("/x/glbx-mdp3-20240403.mbp-10.dbn.zst"), "glbx-mdp3-20240403.mbp-10.parquet");
  EXPECT_EQ(ParquetNameFor("a.dbn"), "a.parquet");
  EXPECT_EQ(ParquetNameFor("a.v1.dbn.frag.zst"), "a.v1.parquet");
}

TEST(ToParquetTest, WritesEveryRowWithMetadata) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "to_parquet";
  std::filesystem::remove_all(dir);
  const auto input = WriteSample(dir, 5000);
  ParquetOptions options;
  options.parquet.row_group_rows = 2048;
  options.arrow.batch_size = 1000;
  auto stats = ConvertToParquet(input.string(), dir / "out.parquet", options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows, 5000);
  auto table = ReadParquet(dir / "out.parquet");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ((*table)->num_rows(), 5000);
  EXPECT_EQ((*table)->num_columns(), 74);
  auto metadata = (*table)->schema()->metadata();
  ASSERT_NE(metadata, nullptr);
  auto json = metadata->Get("dbn.metadata");
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"dataset\":\"GLBX.MDP3\""), std::string::npos);
}

// Encodings per column (DESIGN.md §5): prices, flags and instrument ids dictionary-encoded,
// sizes and timestamps delta-encoded; a coding the caller names wins; values are unchanged.
TEST(ToParquetTest, CodesColumnsByWhatTheyHold) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "to_parquet_codings";
  std::filesystem::remove_all(dir);
  const auto input = WriteSample(dir, 3000);
  auto encodings_of = [](const std::filesystem::path& path, const std::string& column) {
    auto file = parquet::ParquetFileReader::OpenFile(path.string());
    auto group = file->metadata()->RowGroup(0);
    const int index = file->metadata()->schema()->ColumnIndex(column);
    EXPECT_GE(index, 0) << column;
    return group->ColumnChunk(index)->encodings();
  };
  auto has = [](const std::vector<parquet::Encoding::type>& encodings, parquet::Encoding::type e) {
    return std::find(encodings.begin(), encodings.end(), e) != encodings.end();
  };
  ParquetOptions options;
  ASSERT_TRUE(ConvertToParquet(input.string(), dir / "out.parquet", options).ok());
  for (const char* column : {"bid_px_00", "ask_px_09", "price", "flags", "depth", "instrument_id", "action", "symbol"}) {
    EXPECT_TRUE(has(encodings_of(dir / "out.parquet", column), parquet::Encoding::RLE_DICTIONARY)) << column;
  }
  for (const char* column : {"ts_recv", "ts_event", "sequence"}) {
    const auto encodings = encodings_of(dir / "out.parquet", column);
    EXPECT_TRUE(has(encodings, parquet::Encoding::DELTA_BINARY_PACKED)) << column;
    EXPECT_FALSE(has(encodings, parquet::Encoding::RLE_DICTIONARY)) << column;
  }
  for (const char* column : {"bid_sz_00", "ask_ct_09", "size", "ts_in_delta"}) {
    const auto encodings = encodings_of(dir / "out.parquet", column);
    EXPECT_TRUE(has(encodings, parquet::Encoding::BYTE_STREAM_SPLIT)) << column;
    EXPECT_FALSE(has(encodings, parquet::Encoding::RLE_DICTIONARY)) << column;
  }
  auto table = ReadParquet(dir / "out.parquet");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto combined = (*table)->CombineChunksToBatch();
  ASSERT_TRUE(combined.ok());
  auto bid = std::static_pointer_cast<arrow::DoubleArray>((*combined)->GetColumnByName("bid_px_03"));
  auto ask_sz = std::static_pointer_cast<arrow::UInt32Array>((*combined)->GetColumnByName("ask_sz_03"));
  auto ts = std::static_pointer_cast<arrow::TimestampArray>((*combined)->GetColumnByName("ts_event"));
  for (int64_t i = 0; i < 3000; ++i) {
    ASSERT_EQ(bid->Value(i), (650'000'000 - 3) / 1e9);
    ASSERT_EQ(ask_sz->Value(i), 2u);
    ASSERT_EQ(static_cast<uint64_t>(ts->Value(i)), kApril3 + static_cast<uint64_t>(i));
  }

  options.parquet.columns["bid_px_00"] = ParquetColumnCoding{};
  ASSERT_TRUE(ConvertToParquet(input.string(), dir / "plain.parquet", options).ok());
  EXPECT_FALSE(has(encodings_of(dir / "plain.parquet", "bid_px_00"), parquet::Encoding::RLE_DICTIONARY));
  EXPECT_TRUE(has(encodings_of(dir / "plain.parquet", "bid_px_01"), parquet::Encoding::RLE_DICTIONARY));
}

TEST(ToParquetTest, FailureLeavesNothingBehind) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "to_parquet_fail";
  std::filesystem::remove_all(dir);
  const auto input = WriteSample(dir / "in", 20000);
  // Cut the compressed file in the middle.
  std::filesystem::resize_file(input, std::filesystem::file_size(input) / 2);
  const auto out = dir / "out";
  auto stats = ConvertToParquet(input.string(), out / "x.parquet");
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().message().find(input.string()), std::string::npos) << stats.status().message();
  EXPECT_TRUE(!std::filesystem::exists(out) || std::filesystem::is_empty(out));
}

}  // namespace
}  // namespace tickforge::dbn
