#include "tickforge/util/io.h"

#include <arrow/io/file.h>
#include <arrow/util/io_util.h>
#include <gtest/gtest.h>

#include "tickforge/testing/assertions.h"

namespace tickforge {
namespace {

// /dev/full fails every write with ENOSPC: a full disk without mounting one.
TEST(NamingErrorsTest, WriteErrorsNameTheFileAndKeepTheReason) {
  auto opened = arrow::io::FileOutputStream::Open("/dev/full");
  if (!opened.ok()) GTEST_SKIP() << "/dev/full cannot be opened here: " << opened.status().ToString();
  auto stream = NamingErrors(*opened, "/data/out.parquet");
  std::string block(1 << 20, 'x');
  Status status = stream->Write(block.data(), static_cast<int64_t>(block.size()));
  if (status.ok()) status = stream->Flush();
  if (status.ok()) status = stream->Close();
  ASSERT_FALSE(status.ok());
  const std::string text = Describe(status);
  EXPECT_NE(text.find("/data/out.parquet: "), std::string::npos) << text;
  EXPECT_NE(text.find("No space left on device"), std::string::npos) << text;
}

TEST(NamingErrorsTest, PassesDataThrough) {
  const auto path = std::filesystem::path(::testing::TempDir()) / "naming_errors.bin";
  ASSERT_OK_AND_ASSIGN(auto file, arrow::io::FileOutputStream::Open(path.string()));
  auto stream = NamingErrors(file, path.string());
  ASSERT_OK(stream->Write("abc", 3));
  ASSERT_OK_AND_ASSIGN(auto at, stream->Tell());
  EXPECT_EQ(at, 3);
  ASSERT_OK(stream->Close());
  EXPECT_TRUE(stream->closed());
  EXPECT_EQ(std::filesystem::file_size(path), 3u);
}

TEST(DescribeTest, AddsTheDetail) {
  const Status plain = Status::Invalid("bad");
  EXPECT_EQ(Describe(plain), "bad");
  const Status io = arrow::internal::IOErrorFromErrno(28, "Error writing bytes to file");
  EXPECT_NE(Describe(io).find("No space left on device"), std::string::npos) << Describe(io);
}

}  // namespace
}  // namespace tickforge
