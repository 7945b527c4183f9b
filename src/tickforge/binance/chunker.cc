// The chunker: blocks of whole lines from a byte source, chunks of whole lines from a block.
#include "tickforge/binance/chunker_internal.h"

#include <algorithm>

namespace tickforge::binance {

Result<std::string_view> Chunker::Next() {
  pending_.erase(0, handed_out_);
  handed_out_ = 0;
  size_t cut = std::string::npos;
  // Read until the buffer holds a block's worth ending in a whole line, or the input ends.
  while (!eof_) {
    const size_t old = pending_.size();
    const int64_t remaining = source_->Remaining();
    // One byte past the known size lets a short input end without a second full-size buffer.
    const int64_t want = remaining < 0 ? block_bytes_ : std::clamp<int64_t>(remaining + 1, 1, block_bytes_);
    pending_.resize(old + static_cast<size_t>(want));
    auto got = source_->Read(want, pending_.data() + old);
    pending_.resize(old + static_cast<size_t>(got.ok() ? *got : 0));
    ARROW_RETURN_NOT_OK(got.status());
    bytes_read_ += *got;
    if (*got == 0) eof_ = true;
    cut = pending_.rfind('\n');
    if (cut != std::string::npos && pending_.size() >= static_cast<size_t>(block_bytes_)) break;
  }
  handed_out_ = eof_ ? pending_.size() : cut + 1;
  return std::string_view(pending_.data(), handed_out_);
}

std::vector<std::string_view> SplitLines(std::string_view block, int pieces) {
  pieces = std::max(pieces, 1);
  std::vector<std::string_view> chunks;
  size_t start = 0;
  for (int i = 1; i <= pieces && start < block.size(); ++i) {
    size_t stop = block.size();
    if (i < pieces) {
      const size_t target = block.size() * static_cast<size_t>(i) / static_cast<size_t>(pieces);
      const size_t nl = block.find('\n', std::max(target, start));
      stop = nl == std::string_view::npos ? block.size() : nl + 1;
    }
    chunks.push_back(block.substr(start, stop - start));
    start = stop;
  }
  return chunks;
}

}  // namespace tickforge::binance
