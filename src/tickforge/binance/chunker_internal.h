// The chunker: cuts a byte stream into blocks of whole lines, and a block into chunks of whole
// lines that the parser can take on separate threads. A line ends after its '\n', so a "\r\n"
// pair is never cut apart (the parser drops the '\r'); the input's last line may lack the '\n'.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tickforge/binance/source_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::binance {

/// Bytes read before a block is handed out (unless the input ends first): enough to split for threads.
inline constexpr int64_t kBlockBytes = 8 << 20;
/// Bytes a chunk holds at least before a block is split for another thread.
inline constexpr int64_t kMinChunkBytes = 1 << 20;

class Chunker {
 public:
  explicit Chunker(std::unique_ptr<ByteSource> source, int64_t block_bytes = kBlockBytes)
      : source_(std::move(source)), block_bytes_(block_bytes) {}

  /// Return the next block: the whole lines among the bytes read once at least block_bytes are
  /// buffered and one of them is a '\n' (what follows the last '\n' waits for the next block),
  /// or all that is left at the end of the input, whose last line may lack its '\n'. An empty
  /// block means the input is done. The view stays valid until the next call.
  [[nodiscard]] Result<std::string_view> Next();

  /// Return the number of bytes the source has given so far.
  [[nodiscard]] int64_t bytes_read() const { return bytes_read_; }

 private:
  std::unique_ptr<ByteSource> source_;
  int64_t block_bytes_;
  std::string pending_;
  size_t handed_out_ = 0;  // bytes of pending_ the last block returned
  int64_t bytes_read_ = 0;
  bool eof_ = false;
};

/// Cut `block` (whole lines) into at most `pieces` chunks of about equal size, each ending
/// after a '\n' or at the block's end; together they cover the block in order.
[[nodiscard]] std::vector<std::string_view> SplitLines(std::string_view block, int pieces);

}  // namespace tickforge::binance
