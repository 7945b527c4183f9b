#include "tickforge/pipeline/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tickforge/testing/assertions.h"

namespace tickforge::pipeline {
namespace {

namespace fs = std::filesystem;

std::string WriteFile(const std::string& name, const std::string& text) {
  const auto dir = fs::path(::testing::TempDir()) / "pipeline_config";
  fs::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(PipelineConfigTest, ReadsKeysAndResolvesPathsFromTheFilesFolder) {
  const auto path = WriteFile("p.yaml",
                              "store: data/store\n"
                              "ingest: [raw/dbn, /abs/binance]\n"
                              "name: fx\n"
                              "symbols: [A, B]\n"
                              "label_config: label.json\n"
                              "label: {nbins: 5, lookback_rows: 100}\n");
  ASSERT_OK_AND_ASSIGN(auto options, LoadPipeline(path));
  const auto dir = fs::path(path).parent_path();
  EXPECT_EQ(options.store, (dir / "data/store").string());
  EXPECT_EQ(options.ingest, (std::vector<std::string>{(dir / "raw/dbn").string(), "/abs/binance"}));
  EXPECT_EQ(options.label_config, (dir / "label.json").string());
  EXPECT_EQ(options.name, "fx");
  EXPECT_EQ(options.dataset, "mbp10");  // the default from the struct
  EXPECT_EQ(options.symbols, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(options.label.at("nbins"), 5);
}

TEST(PipelineConfigTest, LabelKeysApplyAfterTheLabelConfigFile) {
  WriteFile("label.json", R"({"nbins": 7, "lookback_rows": 300, "currency": "FX"})");
  const auto path = WriteFile("q.yaml", "store: s\nname: fx\nlabel_config: label.json\nlabel: {nbins: 9}\n");
  ASSERT_OK_AND_ASSIGN(auto options, LoadPipeline(path));
  ASSERT_OK_AND_ASSIGN(auto config, options.LabelConfig());
  EXPECT_EQ(config.nbins, 9);
  EXPECT_EQ(config.lookback_rows, 300);
  EXPECT_EQ(config.currency, "FX");
}

TEST(PipelineConfigTest, UnknownKeysNameTheNearestOne) {
  auto status = LoadPipeline(WriteFile("bad.yaml", "store: s\ningets: [x]\n")).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("bad.yaml"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("'ingets'"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("did you mean 'ingest'"), std::string::npos) << status.message();
  // a misspelled labeling key inside `label` is found when the file is read
  status = LoadPipeline(WriteFile("bad_label.yaml", "store: s\nname: fx\nlabel: {nbin: 5}\n")).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("did you mean 'nbins'"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("bad_label.yaml"), std::string::npos) << status.message();
}

TEST(PipelineConfigTest, RequiresAStoreAndANameForLabeling) {
  auto status = LoadPipeline(WriteFile("nostore.yaml", "name: fx\n")).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("'store' is required"), std::string::npos) << status.message();
  status = LoadPipeline(WriteFile("noname.yaml", "store: s\nlabel: {nbins: 5}\n")).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("needs 'name'"), std::string::npos) << status.message();
  status = LoadPipeline(WriteFile("wrongtype.yaml", "store: s\ningest: one-file\n")).status();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("'ingest'"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace tickforge::pipeline
