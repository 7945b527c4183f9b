// Text lines of a depth-stream capture: a gzip file (the collectors' `<receive ns> <json>`
// lines), a zip archive's one entry (Bybit's `.data.zip`) or a plain file, detected from the
// first bytes. Errors name the file and the line (or, for corrupt compression, the offset).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tickforge/util/status.h"

namespace tickforge::binance {
class ByteSource;
}

namespace tickforge::book {

/// Bytes guaranteed readable past the end of every line Next() returns, so a JSON parser that
/// reads ahead (simdjson) can parse the line where it lies.
inline constexpr size_t kLinePadding = 64;

class DepthLines {
 public:
  /// Open `path`: gzip (1f 8b, several members allowed), zip (PK\3\4, one entry) or plain.
  [[nodiscard]] static Result<std::unique_ptr<DepthLines>> Open(const std::string& path);
  /// Read lines from `bytes` (plain, or gzip when it starts with 1f 8b), named `name` in
  /// errors; `bytes` must outlive the reader.
  [[nodiscard]] static Result<std::unique_ptr<DepthLines>> FromMemory(std::string_view bytes,
                                                                       std::string name = "<memory>");
  ~DepthLines();

  /// Set `*line` to the next line without its "\n" or "\r\n"; return false at the end. A gzip
  /// stream that ends inside a member is an error, not a short file.
  [[nodiscard]] Result<bool> Next(std::string_view* line);
  /// Return the 1-based number of the line Next() returned last.
  [[nodiscard]] int64_t line() const { return line_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  /// Return the compression detected: "gzip", "zip" or "none".
  [[nodiscard]] std::string_view compression() const { return compression_; }

 private:
  DepthLines() = default;
  [[nodiscard]] static Result<std::unique_ptr<DepthLines>> Make(std::unique_ptr<binance::ByteSource> raw,
                                                               std::string path, std::string_view compression);
  [[nodiscard]] Result<int64_t> Fill(char* out, int64_t n);

  std::string path_;
  std::string_view compression_ = "none";
  std::unique_ptr<binance::ByteSource> source_;
  std::string buffer_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t line_ = 0;
};

/// Split a collector line `<receive ns> <json>`; return false when it does not start with
/// digits and one space.
[[nodiscard]] bool SplitReceiveLine(std::string_view line, uint64_t* receive_ns, std::string_view* json);

}  // namespace tickforge::book
