// The options of a book build and their keys, read through the one config layer (the Python
// keywords and the CLI flags spell the same names; the defaults live only here).
#pragma once

#include <cstdint>
#include <string>

#include "tickforge/dbn/schema.h"
#include "tickforge/util/config.h"

namespace tickforge::book {

/// The kind of a book build's input; kAuto detects it from the file's first bytes and line.
enum class InputFormat : uint8_t {
  kAuto,
  kMbo,          ///< Databento MBO (DBN, raw or zstd)
  kBinance,      ///< Binance depth-stream capture: `<receive ns> <json>` lines, gzip or plain
  kBybit,        ///< Bybit `orderbook.N` snapshot/delta JSON lines (`.data`, zipped or not)
  kHyperliquid,  ///< Hyperliquid `l2Book` capture: `<receive ns> <json>` lines
  kBinanceCsv,   ///< Binance's historical order-book CSV (snap and set rows)
  kLobster,      ///< a LOBSTER message file with its orderbook file (book/lobster.h)
};

/// What a book build's input is and how its numbers are scaled (depth streams).
struct BookInputOptions {
  /// What the input is (auto: detected from its content).
  InputFormat format = InputFormat::kAuto;
  /// Depth streams: sizes are written as integers of 10^-size_scale units; -1 chooses per
  /// file (Binance: the decimals its padded quantities have; Bybit, Hyperliquid: 8).
  int size_scale = -1;
};

/// What a LOBSTER input needs besides the book options (book/lobster.h): keys of their own, so
/// the book keys stay those of every source.
struct LobsterOptions {
  /// The trading day ("YYYY-MM-DD") when the file name states none (message.csv).
  std::string date;
  /// The symbol; "" takes the ticker of the file name (message.csv: its folder's name).
  std::string symbol;
  /// The orderbook file; "" finds it beside the message file by LOBSTER's naming.
  std::string orderbook;
};

struct BookOptions {
  /// Levels per side in each row: 10 gives the MBP-10 columns.
  int levels = dbn::kMbp10Levels;
  /// Fail on the first anomaly (naming the file and the record) instead of counting it.
  bool strict = false;
  /// Rows per record batch.
  int64_t batch_rows = 1 << 16;
  /// The input's kind and scales; keys of their own (BookInputOptionsTable).
  BookInputOptions input;
  /// Read only for LOBSTER input; keys in LobsterOptionsTable().
  LobsterOptions lobster;
};

/// Return the keys of a book build: levels, strict, batch_rows.
[[nodiscard]] const config::Table<BookOptions>& BookOptionsTable();

/// Return the keys of a book input: format, size_scale.
[[nodiscard]] const config::Table<BookInputOptions>& BookInputOptionsTable();

/// Return the keys of LOBSTER input: date, symbol, orderbook.
[[nodiscard]] const config::Table<LobsterOptions>& LobsterOptionsTable();

/// Return every key a build takes (BookOptionsTable's, BookInputOptionsTable's and
/// LobsterOptionsTable's), as the CLI and the Python functions read them.
[[nodiscard]] const config::Table<BookOptions>& BookBuildOptionsTable();

}  // namespace tickforge::book
