// Byte sources for the CSV reader: a plain file, the single CSV entry of a zip archive
// (decompressed as it is read, through libzip), or bytes already in memory. Errors name the
// file and the byte offset.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tickforge/util/status.h"

namespace tickforge::binance {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Read up to `n` bytes into `out`; 0 means the end.
  [[nodiscard]] virtual Result<int64_t> Read(int64_t n, char* out) = 0;
  /// Return the bytes left when known, else -1; small inputs then get small buffers.
  [[nodiscard]] virtual int64_t Remaining() const { return -1; }
};

/// Open a plain file.
[[nodiscard]] Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);

/// Open the one entry of a zip archive; an archive with no entry or several is refused.
[[nodiscard]] Result<std::unique_ptr<ByteSource>> OpenZipSource(const std::string& path);

/// Read `bytes`, which must outlive the source.
[[nodiscard]] std::unique_ptr<ByteSource> MakeMemorySource(std::string_view bytes);

}  // namespace tickforge::binance
