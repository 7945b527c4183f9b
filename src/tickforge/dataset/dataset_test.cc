#include "tickforge/dataset/dataset.h"

#include <arrow/api.h>
#include <arrow/util/key_value_metadata.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "tickforge/dbn/schema.h"
#include "tickforge/label/label.h"
#include "tickforge/synth/synth.h"
#include "tickforge/testing/assertions.h"
#include "tickforge/testing/labeled_datasets.h"
#include "tickforge/util/parquet.h"

namespace tickforge::dataset {
namespace {

using testing::DatasetSpec;
using testing::ScopedTempDir;
using testing::WriteLabeledDataset;

TEST(DatasetTest, FileNameHoldsCurrencyAndSafeSymbol) {
  EXPECT_EQ(FileName("AUDUSD", "6AM4"), "AUDUSD_6AM4_dataset.parquet");
  EXPECT_EQ(FileName("AUDUSD", "ES H4/x:y"), "AUDUSD_ES_H4_x_y_dataset.parquet");
  EXPECT_EQ(FileName("EURUSD", "a.b-c_d"), "EURUSD_a.b-c_d_dataset.parquet");
}

TEST(DatasetTest, SymbolOfFileNameIsBetweenTheFirstUnderscoreAndTheSuffix) {
  EXPECT_EQ(SymbolOfFileName("AUDUSD_6AM4_dataset.parquet"), "6AM4");
  EXPECT_EQ(SymbolOfFileName(FileName("AUDUSD", "M6A_M4")), "M6A_M4");
  EXPECT_EQ(SymbolOfFileName("AUD_USD_6AM4_dataset.parquet"), "USD_6AM4");
  EXPECT_EQ(SymbolOfFileName("AUDUSD_dataset.parquet"), std::nullopt);
  EXPECT_EQ(SymbolOfFileName("AUDUSD_6AM4.parquet"), std::nullopt);
  EXPECT_EQ(SymbolOfFileName("AUDUSD_6AM4_dataset.parquet.tmp"), std::nullopt);
}

TEST(DatasetTest, MetadataIsWrittenAsSortedJson) {
  const LabelMetadata meta{.lookback_rows = 200, .lookforward_input = 300, .lookforward_offset = 20, .nbins = 13,
                           .mode = "per_symbol", .features = {"volume", "variance"}};
  EXPECT_EQ(meta.ToJson(),
            R"({"features":["volume","variance"],"lookback_rows":200,"lookforward_input":300,)"
            R"("lookforward_offset":20,"mode":"per_symbol","nbins":13})");
  EXPECT_EQ(meta.horizon(), 320);
}

TEST(DatasetTest, MakeSchemaAppendsLabelColumnsAndRecordsMetadata) {
  auto book = arrow::schema({arrow::field("ts_event", arrow::timestamp(arrow::TimeUnit::NANO, "UTC")),
                             arrow::field("bid_px_00", arrow::int64())},
                            arrow::KeyValueMetadata::Make({"other"}, {"dropped"}));
  const LabelMetadata meta{.lookback_rows = 1, .lookforward_input = 2, .lookforward_offset = 3, .nbins = 4, .mode = "global"};
  ASSERT_OK_AND_ASSIGN(auto schema, MakeSchema(*book, meta));
  ASSERT_EQ(schema->num_fields(), 4);
  EXPECT_EQ(schema->field(0)->name(), "ts_event");
  EXPECT_EQ(schema->field(2)->name(), "price_movement");
  EXPECT_TRUE(schema->field(2)->type()->Equals(arrow::float64()));
  EXPECT_EQ(schema->field(3)->name(), "classification_label");
  EXPECT_TRUE(schema->field(3)->type()->Equals(arrow::uint8()));
  ASSERT_NE(schema->metadata(), nullptr);
  EXPECT_EQ(schema->metadata()->size(), 1);
  EXPECT_EQ(schema->metadata()->Get("tickforge.label").ValueOr(""), meta.ToJson());
  ASSERT_OK_AND_ASSIGN(auto back, LabelMetadata::FromSchema(*schema, "x"));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, meta);
}

TEST(DatasetTest, MetadataReadsLeniently) {
  const auto with = [](const std::string& text) {
    return arrow::schema({arrow::field("a", arrow::int8())}, arrow::KeyValueMetadata::Make({"tickforge.label"}, {text}));
  };
  ASSERT_OK_AND_ASSIGN(auto none, LabelMetadata::FromSchema(*arrow::schema({arrow::field("a", arrow::int8())}), "p"));
  EXPECT_FALSE(none.has_value());
  ASSERT_OK_AND_ASSIGN(auto garbage, LabelMetadata::FromSchema(*with("not json"), "p"));
  EXPECT_FALSE(garbage.has_value());
  ASSERT_OK_AND_ASSIGN(auto array, LabelMetadata::FromSchema(*with("[1, 2]"), "p"));
  EXPECT_FALSE(array.has_value());
  ASSERT_OK_AND_ASSIGN(auto partial, LabelMetadata::FromSchema(*with(R"({"lookforward_input": 7, "extra": true})"), "p"));
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(partial->lookforward_input, 7);
  EXPECT_EQ(partial->lookforward_offset, 0);
  EXPECT_EQ(partial->horizon(), 7);
  EXPECT_EQ(partial->nbins, 0);
  const auto bad = LabelMetadata::FromSchema(*with(R"({"nbins": "five"})"), "/data/x_dataset.parquet");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/data/x_dataset.parquet"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("nbins"), std::string::npos) << bad.status().ToString();
}

TEST(DatasetTest, WrittenDatasetHasTheContract) {
  ScopedTempDir dir("dataset_contract");
  DatasetSpec spec;
  spec.rows = 2 * 32768 + 100;
  ASSERT_OK_AND_ASSIGN(const auto path, WriteLabeledDataset(dir.path(), spec));
  EXPECT_EQ(path.filename(), "AUDUSD_6AM4_dataset.parquet");
  ASSERT_OK_AND_ASSIGN(auto reader, OpenParquet(path.string()));
  const auto metadata = reader->parquet_reader()->metadata();
  ASSERT_EQ(metadata->num_row_groups(), 3);
  EXPECT_EQ(metadata->RowGroup(0)->num_rows(), 32768);
  EXPECT_EQ(metadata->RowGroup(1)->num_rows(), 32768);
  EXPECT_EQ(metadata->RowGroup(2)->num_rows(), 100);
  std::shared_ptr<arrow::Schema> schema;
  ASSERT_OK(reader->GetSchema(&schema));
  ASSERT_OK(CheckSchema(*schema, path.string()));
  ASSERT_OK_AND_ASSIGN(auto meta, LabelMetadata::FromSchema(*schema, path.string()));
  ASSERT_TRUE(meta.has_value());
  EXPECT_EQ(*meta, *spec.metadata);
}

TEST(DatasetTest, CheckSchemaNamesFileAndColumn) {
  const auto ts = arrow::field("ts_event", arrow::timestamp(arrow::TimeUnit::NANO, "UTC"));
  const auto label = arrow::field("classification_label", arrow::uint8());
  const auto seq = arrow::field("sequence", arrow::uint32());
  const auto bid = arrow::field("bid_px_00", arrow::int64());
  const auto ask = arrow::field("ask_ct_09", arrow::uint32());
  EXPECT_TRUE(CheckSchema(*arrow::schema({ts, seq, bid, ask, label}), "f").ok());
  const auto missing = CheckSchema(*arrow::schema({ts, seq, bid, ask}), "/d/f.parquet");
  EXPECT_TRUE(missing.IsInvalid());
  EXPECT_NE(missing.message().find("/d/f.parquet"), std::string::npos);
  EXPECT_NE(missing.message().find("classification_label"), std::string::npos);
  const auto float_prices =
      CheckSchema(*arrow::schema({ts, seq, arrow::field("bid_px_00", arrow::float64()), ask, label}), "f");
  EXPECT_NE(float_prices.message().find("'bid_px_00' is double, expected int64"), std::string::npos)
      << float_prices.ToString();
  const auto no_sizes = CheckSchema(*arrow::schema({ts, seq, bid, label}), "f");
  EXPECT_NE(no_sizes.message().find("ask_ct_09"), std::string::npos) << no_sizes.ToString();
}

TEST(DatasetTest, DiscoverFindsVisibleDatasetsOnly) {
  ScopedTempDir dir("dataset_discover");
  DatasetSpec a;
  a.rows = 50;
  a.symbol = "6AM4";
  DatasetSpec b = a;
  b.symbol = "M6EM4";
  b.currency = "EURUSD";
  ASSERT_OK_AND_ASSIGN(const auto path_a, WriteLabeledDataset(dir.path(), a));
  ASSERT_OK_AND_ASSIGN(const auto path_b, WriteLabeledDataset(dir.path(), b));
  std::filesystem::copy_file(path_a, dir.path() / "_AUDUSD_HIDDEN_dataset.parquet");
  std::filesystem::copy_file(path_a, dir.path() / ".AUDUSD_DOT_dataset.parquet");
  std::filesystem::copy_file(path_a, dir.path() / "AUDUSD_6AM4.parquet");
  std::filesystem::create_directories(dir.path() / "AUDUSD_SUB_dataset.parquet");
  std::filesystem::create_directories(dir.path() / "nested");
  std::filesystem::copy_file(path_a, dir.path() / "nested" / "AUDUSD_NESTED_dataset.parquet");
  ASSERT_OK_AND_ASSIGN(auto found, Discover(dir.path()));
  const std::map<std::string, std::string> expected = {{"6AM4", path_a.string()}, {"M6EM4", path_b.string()}};
  EXPECT_EQ(found, expected);
}

TEST(DatasetTest, DiscoverRejectsMissingAndEmptyFolders) {
  ScopedTempDir dir("dataset_discover_empty");
  const auto missing = Discover(dir.path() / "nowhere");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsIOError());
  EXPECT_NE(missing.status().message().find("nowhere: not a directory of labeled datasets"), std::string::npos);
  std::ofstream(dir.path() / "readme.txt") << "no datasets here";
  const auto empty = Discover(dir.path());
  ASSERT_FALSE(empty.ok());
  EXPECT_TRUE(empty.status().IsInvalid());
  EXPECT_NE(empty.status().message().find(": no *_dataset.parquet files"), std::string::npos);
}

TEST(DatasetTest, ReadBookRowsReadsTheBookColumnsOfARange) {
  ScopedTempDir dir("dataset_book_rows");
  DatasetSpec spec;
  spec.rows = 32768 + 5000;
  ASSERT_OK_AND_ASSIGN(const auto path, WriteLabeledDataset(dir.path(), spec));
  ASSERT_OK_AND_ASSIGN(auto reader, OpenParquet(path.string()));
  ASSERT_OK_AND_ASSIGN(auto all, reader->ReadTable());
  ASSERT_OK_AND_ASSIGN(auto rows, ReadBookRows(*reader, path.string(), 30000, 34000));
  EXPECT_EQ(rows->num_rows(), 4000);
  ASSERT_EQ(rows->num_columns(), 60);
  for (int c = 0; c < rows->num_columns(); ++c) {
    const auto& name = dbn::BookColumnNames()[static_cast<size_t>(c)];
    EXPECT_EQ(rows->schema()->field(c)->name(), name);
    EXPECT_TRUE(rows->column(c)->Equals(*all->GetColumnByName(name)->Slice(30000, 4000))) << name;
  }
}

// label build writes what this module defines: the names, the metadata of its config, row
// groups readers can cut on, and the columns they check.
TEST(DatasetTest, LabelBuildWritesTheContract) {
  ScopedTempDir dir("dataset_label_build");
  synth::SynthOptions synth_options;
  synth_options.symbols = 2;
  synth_options.days = 3;
  synth_options.rows_per_day = 25000;
  synth_options.seed = 3;
  ASSERT_OK(synth::WriteMbp10Days(dir.path() / "raw", synth_options).status());
  label::LabelConfig config;
  config.currency = "AUDUSD";
  config.lookback_rows = 50;
  config.lookforward_input = 40;
  config.lookforward_offset = 5;
  config.nbins = 4;
  config.min_symbol_samples = 100;
  ASSERT_OK_AND_ASSIGN(auto report, label::Run({(dir.path() / "raw").string()}, config, dir.path() / "out"));
  ASSERT_OK_AND_ASSIGN(auto found, Discover(dir.path() / "out"));
  std::set<std::string> built;
  for (const auto& [symbol, entry] : report.at("symbols").items()) {
    if (entry.contains("output")) built.insert(symbol);
  }
  ASSERT_EQ(built.size(), 2u);
  std::set<std::string> discovered;
  int64_t row_groups = 0;
  for (const auto& [symbol, path] : found) {
    discovered.insert(symbol);
    EXPECT_EQ(std::filesystem::path(path).filename().string(), report["symbols"][symbol]["output"].get<std::string>());
    ASSERT_OK_AND_ASSIGN(auto reader, OpenParquet(path));
    std::shared_ptr<arrow::Schema> schema;
    ASSERT_OK(reader->GetSchema(&schema));
    ASSERT_OK(CheckSchema(*schema, path));
    EXPECT_EQ(schema->field(schema->num_fields() - 1)->name(), "classification_label");
    EXPECT_EQ(schema->field(schema->num_fields() - 2)->name(), "price_movement");
    for (const auto& column : dbn::BookColumnNames()) EXPECT_NE(schema->GetFieldByName(column), nullptr) << column;
    ASSERT_OK_AND_ASSIGN(auto meta, LabelMetadata::FromSchema(*schema, path));
    ASSERT_TRUE(meta.has_value());
    EXPECT_EQ(*meta, (LabelMetadata{.lookback_rows = 50, .lookforward_input = 40, .lookforward_offset = 5, .nbins = 4,
                                    .mode = "global", .features = {"volume"}}));
    const auto metadata = reader->parquet_reader()->metadata();
    for (int g = 0; g + 1 < metadata->num_row_groups(); ++g) EXPECT_EQ(metadata->RowGroup(g)->num_rows(), 32768);
    row_groups += metadata->num_row_groups();
  }
  EXPECT_EQ(discovered, built);
  EXPECT_GT(row_groups, 2) << "no dataset large enough to hold two row groups";
}

}  // namespace
}  // namespace tickforge::dataset
