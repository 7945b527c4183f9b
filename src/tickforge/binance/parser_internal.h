// The CSV parser: whole lines of one Binance file -> one record batch of the normalized schema,
// each value converted straight from the line, decimals exactly (the bits std::from_chars
// gives). It reports where a line went wrong as a line index inside the bytes it was given;
// the reader, which knows how many lines came before, names the file and the line.
#pragma once

#include <arrow/record_batch.h>

#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "tickforge/binance/binance.h"
#include "tickforge/util/status.h"

namespace tickforge::binance {

/// What went wrong on which line of a chunk.
struct ParseError {
  /// 0-based line index inside the chunk.
  int64_t line = 0;
  std::string message;
};

struct ParsedChunk {
  std::shared_ptr<arrow::RecordBatch> batch;
  int64_t lines = 0;
  std::optional<ParseError> error;
};

/// Return the first line of `bytes` without its "\n" or "\r\n", and the bytes after that line.
[[nodiscard]] inline std::pair<std::string_view, std::string_view> SplitFirstLine(std::string_view bytes) {
  const size_t nl = bytes.find('\n');
  std::string_view line = bytes.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return {line, nl == std::string_view::npos ? std::string_view() : bytes.substr(nl + 1)};
}

/// Return the number of comma-separated fields of `line`.
[[nodiscard]] int64_t CountFields(std::string_view line);

/// Return the column count of `line`, the first line of a `kind` file, when it is a header, or 0
/// when it is data (its first field is a number or empty). A UTF-8 byte order mark before it is
/// ignored. Anything else is an error (no position: it is line 1).
[[nodiscard]] Result<int64_t> HeaderColumns(std::string_view line, Kind kind);

/// Parse the decimal in [first, last) as std::from_chars would, to the same bits, but faster for
/// Binance's short decimals.
[[nodiscard]] std::from_chars_result ParseDecimal(const char* first, const char* last, double* out);

/// Parse whole data lines of a `kind` file whose lines have `columns` fields (see DataColumns)
/// into one batch of `schema` (NormalizedSchema(kind)). `bytes` ends at a line end or at the end
/// of the input (its last line may lack the '\n'); every line must hold a row.
[[nodiscard]] ParsedChunk ParseChunk(std::string_view bytes, Kind kind, int columns,
                                     const std::shared_ptr<arrow::Schema>& schema);

}  // namespace tickforge::binance
