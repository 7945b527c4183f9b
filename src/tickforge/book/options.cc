#include "tickforge/book/options.h"

namespace tickforge::book {

const config::Table<BookOptions>& BookOptionsTable() {
  static const auto* table = [] {
    auto* t = new config::Table<BookOptions>();
    using O = BookOptions;
    t->Field("levels", &O::levels, "levels per side in each row (10: MBP-10)")
        .Field("strict", &O::strict, "fail on the first anomaly instead of counting it")
        .Field("batch_rows", &O::batch_rows, "rows per record batch");
    return t;
  }();
  return *table;
}

const config::Table<BookInputOptions>& BookInputOptionsTable() {
  static const auto* table = [] {
    auto* t = new config::Table<BookInputOptions>();
    using I = BookInputOptions;
    (*t)
        .Choice("format", &I::format,
                std::vector<std::pair<std::string, InputFormat>>{
                 {"auto", InputFormat::kAuto},
                 {"mbo", InputFormat::kMbo},
                 {"binance", InputFormat::kBinance},
                 {"bybit", InputFormat::kBybit},
                 {"hyperliquid", InputFormat::kHyperliquid},
                 {"binance-csv", InputFormat::kBinanceCsv},
                 {"lobster", InputFormat::kLobster}},
                "what the input is; auto detects it from the content")
        .Field("size_scale", &I::size_scale,
               "depth streams: decimals of the fixed-point sizes (-1: per file, from the data)");
    return t;
  }();
  return *table;
}

const config::Table<LobsterOptions>& LobsterOptionsTable() {
  static const auto* table = [] {
    auto* t = new config::Table<LobsterOptions>();
    using O = LobsterOptions;
    t->Field("date", &O::date, "the trading day (YYYY-MM-DD) when the file name states none")
        .Field("symbol", &O::symbol, "the symbol (default: the file name's ticker)")
        .Field("orderbook", &O::orderbook, "the orderbook file (default: found beside the message file)");
    return t;
  }();
  return *table;
}

const config::Table<BookOptions>& BookBuildOptionsTable() {
  static const auto* table = [] {
    auto* t = new config::Table<BookOptions>(BookOptionsTable());
    t->Include(BookInputOptionsTable(), &BookOptions::input);
    t->Include(LobsterOptionsTable(), &BookOptions::lobster);
    return t;
  }();
  return *table;
}

}  // namespace tickforge::book
