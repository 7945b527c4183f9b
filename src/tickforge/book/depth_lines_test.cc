#include "tickforge/book/depth_lines.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "tickforge/testing/assertions.h"

namespace tickforge::book {
namespace {

std::string Gzip(const std::string& text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Result<std::vector<std::string>> ReadAll(std::string_view bytes) {
  ARROW_ASSIGN_OR_RAISE(auto lines, DepthLines::FromMemory(bytes, "capture.gz"));
  std::vector<std::string> out;
  std::string_view line;
  while (true) {
    ARROW_ASSIGN_OR_RAISE(bool more, lines->Next(&line));
    if (!more) break;
    EXPECT_EQ(lines->line(), static_cast<int64_t>(out.size()) + 1);
    out.emplace_back(line);
  }
  return out;
}

TEST(DepthLinesTest, SplitsPlainAndGzipLinesAlike) {
  std::string text;
  std::vector<std::string> want;
  for (int i = 0; i < 5000; ++i) {
    want.push_back(std::to_string(1723161253937085768LL + i) + " {\"i\":" + std::to_string(i) + "}" +
                   std::string(static_cast<size_t>(i % 300), 'x'));
    text += want.back() + (i % 7 == 0 ? "\r\n" : "\n");
  }
  text += "last line without a newline";
  want.push_back("last line without a newline");
  ASSERT_OK_AND_ASSIGN(auto plain, ReadAll(text));
  EXPECT_EQ(plain, want);
  ASSERT_OK_AND_ASSIGN(auto gz, ReadAll(Gzip(text)));
  EXPECT_EQ(gz, want);
  // Two members, as `cat a.gz b.gz` writes.
  ASSERT_OK_AND_ASSIGN(auto two, ReadAll(Gzip("a\nb\n") + Gzip("c\n")));
  EXPECT_EQ(two, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(DepthLinesTest, TruncatedOrCorruptGzipIsAnErrorNamingTheFile) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "1 {\"some\":\"json\",\"i\":" + std::to_string(i) + "}\n";
  const std::string gz = Gzip(text);
  auto truncated = ReadAll(gz.substr(0, gz.size() / 2));
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("capture.gz: byte"), std::string::npos) << truncated.status();
  EXPECT_NE(truncated.status().message().find("truncated gzip"), std::string::npos) << truncated.status();
  std::string corrupt = gz;
  for (size_t i = 20; i < 60; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  auto bad = ReadAll(corrupt);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("capture.gz"), std::string::npos) << bad.status();
}

TEST(DepthLinesTest, SplitsReceiveLines) {
  uint64_t ns = 0;
  std::string_view json;
  ASSERT_TRUE(SplitReceiveLine("1723161254206652067 {\"a\":1}", &ns, &json));
  EXPECT_EQ(ns, 1723161254206652067ULL);
  EXPECT_EQ(json, "{\"a\":1}");
  EXPECT_FALSE(SplitReceiveLine("{\"a\":1}", &ns, &json));
  EXPECT_FALSE(SplitReceiveLine("123", &ns, &json));
  EXPECT_FALSE(SplitReceiveLine("99999999999999999999999 {}", &ns, &json));
}

}  // namespace
}  // namespace tickforge::book
