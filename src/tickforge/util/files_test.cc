#include "tickforge/util/files.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "tickforge/testing/assertions.h"

namespace tickforge {
namespace {

namespace fs = std::filesystem;

class ListFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("list_files_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    for (const char* name : {"b.parquet", "a.parquet", ".tmp.parquet", "_staged.parquet", "notes.txt",
                             "sub/c.parquet", "_hidden/d.parquet", ".git/e.parquet"}) {
      fs::create_directories((dir_ / name).parent_path());
      std::ofstream(dir_ / name) << "x";
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> Names(const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    for (const auto& p : paths) out.push_back(fs::relative(p, dir_).string());
    return out;
  }
  fs::path dir_;
};

TEST_F(ListFilesTest, SkipsHiddenNamesAndSorts) {
  ASSERT_OK_AND_ASSIGN(auto flat, ListFiles(dir_, {.recursive = false, .suffixes = {".parquet"}}));
  EXPECT_EQ(Names(flat), (std::vector<std::string>{"a.parquet", "b.parquet"}));
  ASSERT_OK_AND_ASSIGN(auto deep, ListFiles(dir_, {.recursive = true, .suffixes = {".parquet"}}));
  EXPECT_EQ(Names(deep), (std::vector<std::string>{"a.parquet", "b.parquet", "sub/c.parquet"}));
  ASSERT_OK_AND_ASSIGN(auto all, ListFiles(dir_));
  EXPECT_EQ(Names(all), (std::vector<std::string>{"a.parquet", "b.parquet", "notes.txt"}));
}

TEST_F(ListFilesTest, MissingFolderNamesItself) {
  const auto result = ListFiles(dir_ / "missing");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("missing"), std::string::npos);
}

TEST(OpenReadableTest, ErrorNamesTheFileAndTheReason) {
  const auto result = OpenReadable("/nonexistent/tickforge-file");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("/nonexistent/tickforge-file"), std::string::npos);
}

TEST(CheckDistinctOutputsTest, TwoInputsOfOneOutputAreRefusedNamingBoth) {
  ASSERT_OK(CheckDistinctOutputs({"a/x.dbn", "b/y.dbn"}, {"out/x.parquet", "out/y.parquet"}));
  const Status status = CheckDistinctOutputs({"a/x.dbn", "b/y.dbn", "c/x.dbn.zst"},
                                             {"out/x.parquet", "out/y.parquet", "out/./x.parquet"});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("a/x.dbn and c/x.dbn.zst would both write out/./x.parquet"), std::string::npos)
      << status.message();
}

TEST(IsHiddenNameTest, Rule) {
  EXPECT_TRUE(IsHiddenName(""));
  EXPECT_TRUE(IsHiddenName(".x"));
  EXPECT_TRUE(IsHiddenName("_x"));
  EXPECT_FALSE(IsHiddenName("x_"));
}

}  // namespace
}  // namespace tickforge
