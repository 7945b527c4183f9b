// The options of a book build and their keys, read through the one config layer (the Python
// keywords and the CLI flags spell the same names; the defaults live only here).
#pragma once

#include <cstdint>
#include <string>

#include "tickforge/dbn/schema.h"
#include "tickforge/util/config.h"

namespace tickforge::book {

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
  /// Read only for LOBSTER input; keys in LobsterOptionsTable().
  LobsterOptions lobster;
};

/// Return the keys of a book build: levels, strict, batch_rows.
[[nodiscard]] const config::Table<BookOptions>& BookOptionsTable();

/// Return the keys of LOBSTER input: date, symbol, orderbook.
[[nodiscard]] const config::Table<LobsterOptions>& LobsterOptionsTable();

}  // namespace tickforge::book
