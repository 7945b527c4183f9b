// ParquetFile's copied row groups: a file that starts with another file's row groups, copied
// as bytes, reads as those rows followed by the rows written.
#include <arrow/api.h>
#include <gtest/gtest.h>
#include <parquet/statistics.h>

#include <filesystem>

#include "tickforge/testing/assertions.h"
#include "tickforge/util/parquet.h"

namespace tickforge {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<arrow::Schema> SpliceSchema() {
  return arrow::schema({arrow::field("ts", arrow::int64()), arrow::field("name", arrow::utf8()),
                        arrow::field("value", arrow::float64()), arrow::field("label", arrow::uint8())});
}

// Rows [from, from + n): every column a function of the row, the label null on every 7th.
std::shared_ptr<arrow::RecordBatch> SpliceRows(int64_t from, int64_t n) {
  arrow::Int64Builder ts;
  arrow::StringBuilder name;
  arrow::DoubleBuilder value;
  arrow::UInt8Builder label;
  for (int64_t i = from; i < from + n; ++i) {
    EXPECT_TRUE(ts.Append(1'000'000 * i + (i * 7919) % 1000).ok());
    EXPECT_TRUE(name.Append(i % 3 == 0 ? "ESM4" : "NQM4").ok());
    EXPECT_TRUE(value.Append(0.25 * static_cast<double>(i) - 3.0).ok());
    EXPECT_TRUE((i % 7 == 0 ? label.AppendNull() : label.Append(static_cast<uint8_t>(i % 3))).ok());
  }
  return arrow::RecordBatch::Make(SpliceSchema(), n,
                                  {*ts.Finish(), *name.Finish(), *value.Finish(), *label.Finish()});
}

ParquetWriteOptions SmallGroups() {
  ParquetWriteOptions options;
  options.row_group_rows = 100;
  return options;
}

// Write rows [0, rows) in row groups of 100; return the file's footer.
std::shared_ptr<parquet::FileMetaData> WriteSource(const fs::path& path, int64_t rows) {
  auto file = ParquetFile::Create(path, SpliceSchema(), SmallGroups());
  EXPECT_TRUE(file.ok());
  EXPECT_TRUE((*file)->Write(*SpliceRows(0, rows)).ok());
  EXPECT_TRUE((*file)->Close().ok());
  auto reader = OpenParquet(path.string());
  EXPECT_TRUE(reader.ok());
  return (*reader)->parquet_reader()->metadata();
}

std::shared_ptr<arrow::Table> ReadAll(const fs::path& path) {
  auto reader = OpenParquet(path.string());
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  auto table = (*reader)->ReadTable();
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return *table;
}

TEST(ParquetSpliceTest, CopiedRowGroupsAreFollowedByTheRowsWritten) {
  const fs::path dir = fs::path(::testing::TempDir()) / "parquet_splice";
  fs::create_directories(dir);
  const auto source = WriteSource(dir / "source.parquet", 500);
  ASSERT_EQ(source->num_row_groups(), 5);

  ASSERT_OK_AND_ASSIGN(auto file, ParquetFile::Create(dir / "spliced.parquet", SpliceSchema(), SmallGroups(),
                                                      {(dir / "source.parquet").string(), source, 3}));
  // Rows that differ from the source's rows 300..: the splice must not read them back.
  ASSERT_OK(file->Write(*SpliceRows(1000, 120)));
  ASSERT_OK(file->Write(*SpliceRows(1120, 130)));
  ASSERT_OK_AND_ASSIGN(const int64_t size, file->Close());
  EXPECT_EQ(size, static_cast<int64_t>(fs::file_size(dir / "spliced.parquet")));

  const auto table = ReadAll(dir / "spliced.parquet");
  ASSERT_OK_AND_ASSIGN(auto expected, arrow::Table::FromRecordBatches(
                                          {SpliceRows(0, 300), SpliceRows(1000, 120), SpliceRows(1120, 130)}));
  ASSERT_OK_AND_ASSIGN(auto combined, expected->CombineChunks());
  ASSERT_OK_AND_ASSIGN(auto read, table->CombineChunks());
  EXPECT_TRUE(read->Equals(*combined));

  ASSERT_OK_AND_ASSIGN(auto reader, OpenParquet((dir / "spliced.parquet").string()));
  const auto metadata = reader->parquet_reader()->metadata();
  EXPECT_EQ(metadata->num_rows(), 550);
  ASSERT_EQ(metadata->num_row_groups(), 6);
  EXPECT_EQ(metadata->RowGroup(2)->num_rows(), 100);
  EXPECT_EQ(metadata->RowGroup(3)->num_rows(), 100);
  EXPECT_EQ(metadata->RowGroup(5)->num_rows(), 50);
  // The copied groups keep their statistics; the written ones have their own.
  const auto copied_ts = std::dynamic_pointer_cast<parquet::Int64Statistics>(metadata->RowGroup(2)->ColumnChunk(0)->statistics());
  ASSERT_TRUE(copied_ts && copied_ts->HasMinMax());
  EXPECT_EQ(copied_ts->min(), 1'000'000 * 200 + (200 * 7919) % 1000);
  const auto written_ts = std::dynamic_pointer_cast<parquet::Int64Statistics>(metadata->RowGroup(3)->ColumnChunk(0)->statistics());
  ASSERT_TRUE(written_ts && written_ts->HasMinMax());
  EXPECT_EQ(written_ts->min(), 1'000'000 * 1000 + (1000 * 7919) % 1000);
  // A range across the seam reads as one.
  ASSERT_OK_AND_ASSIGN(auto range, ReadRowRange(*reader, "spliced.parquet", 250, 350, {"ts", "label"}));
  ASSERT_OK_AND_ASSIGN(auto expected_range, arrow::Table::FromRecordBatches({SpliceRows(250, 50), SpliceRows(1000, 50)}));
  ASSERT_OK_AND_ASSIGN(auto expected_columns, expected_range->SelectColumns({0, 3}));
  EXPECT_TRUE(range->Equals(*expected_columns));
}

TEST(ParquetSpliceTest, AllRowGroupsCopiedAndNothingWritten) {
  const fs::path dir = fs::path(::testing::TempDir()) / "parquet_splice_all";
  fs::create_directories(dir);
  const auto source = WriteSource(dir / "source.parquet", 250);
  ASSERT_OK_AND_ASSIGN(auto file, ParquetFile::Create(dir / "copy.parquet", SpliceSchema(), SmallGroups(),
                                                      {(dir / "source.parquet").string(), source, 3}));
  ASSERT_OK(file->Close().status());
  const auto table = ReadAll(dir / "copy.parquet");
  ASSERT_OK_AND_ASSIGN(auto expected, arrow::Table::FromRecordBatches({SpliceRows(0, 250)}));
  EXPECT_TRUE(table->Equals(*expected)) << table->ToString();
}

TEST(ParquetSpliceTest, MoreRowGroupsThanTheFileHasIsAnErrorNamingIt) {
  const fs::path dir = fs::path(::testing::TempDir()) / "parquet_splice_bad";
  fs::create_directories(dir);
  const auto source = WriteSource(dir / "source.parquet", 150);
  auto file = ParquetFile::Create(dir / "out.parquet", SpliceSchema(), SmallGroups(),
                                  {(dir / "source.parquet").string(), source, 3});
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.status().message().find("source.parquet: has 2 row groups, not 3"), std::string::npos)
      << file.status().ToString();
  EXPECT_FALSE(fs::exists(dir / "out.parquet"));
}

TEST(ParquetSpliceTest, ASchemaOtherThanTheCopiedFilesFailsAndLeavesNoFile) {
  const fs::path dir = fs::path(::testing::TempDir()) / "parquet_splice_schema";
  fs::create_directories(dir);
  const auto source = WriteSource(dir / "source.parquet", 200);
  const auto other = arrow::schema({arrow::field("ts", arrow::int64())});
  ASSERT_OK_AND_ASSIGN(auto file, ParquetFile::Create(dir / "out.parquet", other, SmallGroups(),
                                                      {(dir / "source.parquet").string(), source, 1}));
  arrow::Int64Builder ts;
  ASSERT_OK(ts.Append(5));
  ASSERT_OK(file->Write(*arrow::RecordBatch::Make(other, 1, {*ts.Finish()})));
  EXPECT_FALSE(file->Close().ok());
  file.reset();
  EXPECT_FALSE(fs::exists(dir / "out.parquet"));
}

}  // namespace
}  // namespace tickforge
