#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "tickforge/binance/chunker_internal.h"
#include "tickforge/testing/assertions.h"

namespace tickforge::binance {
namespace {

// A source of unknown size that hands out at most `step` bytes per read.
class TrickleSource : public ByteSource {
 public:
  TrickleSource(std::string bytes, size_t step) : bytes_(std::move(bytes)), step_(step) {}
  Result<int64_t> Read(int64_t n, char* out) override {
    const size_t take = std::min({static_cast<size_t>(n), step_, bytes_.size() - pos_});
    bytes_.copy(out, take, pos_);
    pos_ += take;
    return static_cast<int64_t>(take);
  }

 private:
  std::string bytes_;
  size_t step_;
  size_t pos_ = 0;
};

class FailingSource : public ByteSource {
 public:
  Result<int64_t> Read(int64_t, char*) override { return Status::IOError("x.csv: disk on fire"); }
};

std::vector<std::string> Blocks(std::unique_ptr<ByteSource> source, int64_t block_bytes, int64_t* bytes_read) {
  Chunker chunker(std::move(source), block_bytes);
  std::vector<std::string> blocks;
  while (true) {
    auto block = chunker.Next();
    EXPECT_TRUE(block.ok()) << block.status().ToString();
    if (!block.ok() || block->empty()) break;
    blocks.emplace_back(*block);
  }
  *bytes_read = chunker.bytes_read();
  return blocks;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += p;
  return out;
}

TEST(Chunker, BlocksHoldWholeLines) {
  const std::string input = "aa\nbbbb\r\nc\nddddddddddddddd\neeee\r\nff";  // a long line, CRLF, no final '\n'
  for (size_t step : {1, 3, 64}) {
    for (bool known_size : {true, false}) {
      int64_t read = 0;
      auto source = known_size ? MakeMemorySource(input) : std::make_unique<TrickleSource>(input, step);
      const auto blocks = Blocks(std::move(source), 6, &read);
      EXPECT_EQ(read, static_cast<int64_t>(input.size()));
      ASSERT_FALSE(blocks.empty());
      EXPECT_EQ(Join(blocks), input);
      for (size_t i = 0; i + 1 < blocks.size(); ++i) {
        EXPECT_EQ(blocks[i].back(), '\n') << i;  // a "\r\n" pair stays together
      }
      EXPECT_TRUE(blocks.back().ends_with("ff"));  // the last line, unterminated
    }
  }
  // A block holds everything read by the time block_bytes were: here the whole input at once.
  int64_t read = 0;
  const auto one = Blocks(MakeMemorySource(input), 1 << 20, &read);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], input);
}

TEST(Chunker, EmptyInputAndErrors) {
  int64_t read = -1;
  EXPECT_TRUE(Blocks(MakeMemorySource(""), 6, &read).empty());
  EXPECT_EQ(read, 0);
  // Input that ends with '\n' gives no empty line after it.
  const auto blocks = Blocks(MakeMemorySource("a\nb\n"), 1 << 20, &read);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0], "a\nb\n");

  Chunker failing(std::make_unique<FailingSource>());
  auto r = failing.Next();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("disk on fire"), std::string::npos);
}

TEST(SplitLines, ChunksEndAtLineEnds) {
  std::string block;
  for (int i = 0; i < 100; ++i) block += std::string(static_cast<size_t>(1 + i % 7), 'x') + "\r\n";
  for (int pieces : {-1, 0, 1, 2, 3, 7, 100, 1000}) {
    const auto chunks = SplitLines(block, pieces);
    ASSERT_FALSE(chunks.empty());
    EXPECT_LE(static_cast<int>(chunks.size()), std::max(pieces, 1));
    std::string joined;
    for (auto c : chunks) {
      ASSERT_FALSE(c.empty()) << pieces;
      ASSERT_TRUE(c.ends_with("\r\n")) << pieces;
      joined += c;
    }
    EXPECT_EQ(joined, block);
  }
  // About equal shares: each of three pieces of 300 equal lines gets 100 lines, give or take one.
  const std::string even = [] {
    std::string s;
    for (int i = 0; i < 300; ++i) s += "abc\n";
    return s;
  }();
  const auto thirds = SplitLines(even, 3);
  ASSERT_EQ(thirds.size(), 3u);
  for (auto c : thirds) EXPECT_LE(std::abs(static_cast<int>(c.size()) - 400), 4) << c.size();
}

TEST(SplitLines, LastLineWithoutNewline) {
  const auto chunks = SplitLines("aaa\nbbb\nccc", 3);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0], "aaa\n");
  EXPECT_EQ(chunks[1], "bbb\n");
  EXPECT_EQ(chunks[2], "ccc");
  // A cut point inside the last line gives the rest to the chunk before it.
  const auto two = SplitLines("a\nb\nlast", 3);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0], "a\nb\n");
  EXPECT_EQ(two[1], "last");
  // A single line without newline cannot be split.
  const auto one = SplitLines("0123456789", 4);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], "0123456789");
  EXPECT_TRUE(SplitLines("", 4).empty());
}

}  // namespace
}  // namespace tickforge::binance
