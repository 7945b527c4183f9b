#include "tickforge/book/build.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <parquet/arrow/reader.h>

#include "tickforge/book/test_common.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::book {
namespace {

using dbn::flag::kLast;

Result<std::shared_ptr<arrow::Table>> ReadParquet(const std::filesystem::path& path) {
  ARROW_ASSIGN_OR_RAISE(auto file, arrow::io::ReadableFile::Open(path.string()));
  ARROW_ASSIGN_OR_RAISE(auto reader, parquet::arrow::OpenFile(file, arrow::default_memory_pool()));
  return reader->ReadTable();
}

// Entries of `dir`, hidden temporary files included.
std::vector<std::string> Listing(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class BuildTest : public BookTest {};

TEST(BookParquetNameTest, TheDepthReplacesMbo) {
  EXPECT_EQ(BookParquetNameFor("/d/esh4-glbx-mdp3-20231225.mbo.dbn.zst", 10), "esh4-glbx-mdp3-20231225.mbp-10.parquet");
  EXPECT_EQ(BookParquetNameFor("x.dbn", 10), "x.mbp-10.parquet");
  EXPECT_EQ(BookParquetNameFor("x.mbo.dbn", 5), "x.mbp-5.parquet");
}

TEST_F(BuildTest, WritesTheRowsTheReaderGivesWithTheirMetadata) {
  std::vector<Mbo> records;
  for (uint64_t i = 0; i < 500; ++i) {
    records.push_back({'A', i % 2 ? 'A' : 'B', kMid + (i % 2 ? 1 : -1) * static_cast<int64_t>(i % 13 + 1) * kTick,
                       static_cast<uint32_t>(i % 7 + 1), i + 1, static_cast<uint8_t>(i % 3 ? kLast : 0)});
  }
  const auto input = WriteMbo("d.mbo.dbn.zst", records);
  const auto output = dir_ / "out" / BookParquetNameFor(input, 10);
  BuildOptions options;
  options.book.batch_rows = 100;
  options.parquet.row_group_rows = 64;
  ASSERT_OK_AND_ASSIGN(auto stats, BuildBookFile(input, output, options));
  EXPECT_EQ(stats.output, output.string());
  EXPECT_EQ(stats.messages, 500);
  EXPECT_EQ(stats.rows, 333);
  EXPECT_GT(stats.output_bytes, 0);
  EXPECT_EQ(stats.output_bytes, static_cast<int64_t>(std::filesystem::file_size(output)));

  ASSERT_OK_AND_ASSIGN(auto written, ReadParquet(output));
  ASSERT_OK_AND_ASSIGN(auto reader, MboBookReader::Open(input));
  ASSERT_OK_AND_ASSIGN(auto expected, reader->ToTable());
  EXPECT_TRUE(written->Equals(*expected));
  const auto& kv = written->schema()->metadata();
  ASSERT_NE(kv, nullptr);
  const auto dbn_metadata = nlohmann::json::parse(kv->Get("dbn.metadata").ValueOrDie());
  EXPECT_EQ(dbn_metadata["schema"], "mbp-10");
  EXPECT_EQ(dbn_metadata["dataset"], "GLBX.MDP3");
  const auto build = nlohmann::json::parse(kv->Get("tickforge.book").ValueOrDie());
  EXPECT_EQ(build["source"], "d.mbo.dbn.zst");
  EXPECT_EQ(build["options"]["levels"], 10);
}

TEST_F(BuildTest, BadInputLeavesNoOutput) {
  const auto input = WriteMbo("t.mbo.dbn", {{'A', 'B', kMid, 2, 1}, {'A', 'B', kMid, 2, 2}}, MboMetadata(), false);
  std::filesystem::resize_file(input, std::filesystem::file_size(input) - 1);
  const auto out = dir_ / "out";
  auto result = BuildBookFile(input, out / "t.mbp-10.parquet");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find(input), std::string::npos);
  EXPECT_TRUE(!std::filesystem::exists(out) || Listing(out).empty()) << ::testing::PrintToString(Listing(out));

  // A strict anomaly stops the build the same way.
  const auto strict_input = WriteMbo("s.mbo.dbn.zst", {{'A', 'B', kMid, 2, 1}, {'C', 'B', kMid, 2, 5}});
  BuildOptions strict;
  strict.book.strict = true;
  result = BuildBookFile(strict_input, out / "s.mbp-10.parquet", strict);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("record 1 "), std::string::npos) << result.status().message();
  EXPECT_TRUE(!std::filesystem::exists(out) || Listing(out).empty()) << ::testing::PrintToString(Listing(out));
}

}  // namespace
}  // namespace tickforge::book
