// The options of a book build and their keys, read through the one config layer (the Python
// keywords and the CLI flags spell the same names; the defaults live only here).
#pragma once

#include <cstdint>
#include <string>

#include "tickforge/dbn/schema.h"
#include "tickforge/util/config.h"

namespace tickforge::book {

struct BookOptions {
  /// Levels per side in each row: 10 gives the MBP-10 columns.
  int levels = dbn::kMbp10Levels;
  /// Fail on the first anomaly (naming the file and the record) instead of counting it.
  bool strict = false;
  /// Rows per record batch.
  int64_t batch_rows = 1 << 16;
  /// LOBSTER input: the trading day ("YYYY-MM-DD") when the file name states none (message.csv).
  std::string date;
  /// LOBSTER input: the symbol; "" takes the ticker of the file name (message.csv: its folder's name).
  std::string symbol;
  /// LOBSTER input: the orderbook file; "" finds it beside the message file by LOBSTER's naming.
  std::string orderbook;
};

/// Return the keys of a book build: levels, strict, batch_rows, date, symbol, orderbook.
[[nodiscard]] const config::Table<BookOptions>& BookOptionsTable();

}  // namespace tickforge::book
