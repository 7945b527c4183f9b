#include "tickforge/dbn/to_parquet.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <gtest/gtest.h>
#include <parquet/arrow/reader.h>

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
