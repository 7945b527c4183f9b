#include "tickforge/synth/options.h"

#include <string>
#include <vector>

#include "tickforge/util/time.h"

namespace tickforge::synth {
namespace {

using nlohmann::json;

// A YYYYMMDD field read from and written as "YYYY-MM-DD".
template <typename Options>
config::Table<Options>& AddDate(config::Table<Options>& t, std::string name, uint32_t Options::*field, std::string help) {
  return t.Custom(
      std::move(name),
      [field](const json& value, Options* o, std::string_view source, std::string_view key) -> Status {
        std::string text;
        ARROW_RETURN_NOT_OK(config::Read(value, source, key, &text));
        auto date = ParseIsoDate(text);
        if (!date.ok()) return Status::Invalid(source, ": key '", key, "': ", date.status().message());
        o->*field = *date;
        return Status::OK();
      },
      [field](const Options& o) -> nlohmann::ordered_json { return FormatYmd(o.*field); }, std::move(help));
}

}  // namespace

const config::Table<SynthOptions>& SynthOptionsTable() {
  static const auto* table = [] {
    auto* t = new config::Table<SynthOptions>();
    using O = SynthOptions;
    t->Field("symbols", &O::symbols, "instruments per file")
        .Field("days", &O::days, "trading days, one file each")
        .Field("rows_per_day", &O::rows_per_day, "MBP-10 records per file")
        .Field("seed", &O::seed, "random seed");
    AddDate(*t, "start_date", &O::start_date, "first day; a weekend moves to the next Monday");
    t->Field("dataset", &O::dataset, "the DBN dataset name")
        .Field("zstd", &O::zstd, "write .dbn.zst instead of .dbn");
    return t;
  }();
  return *table;
}

const config::Table<MboSynthOptions>& MboSynthOptionsTable() {
  static const auto* table = [] {
    auto* t = new config::Table<MboSynthOptions>();
    using O = MboSynthOptions;
    t->Field("symbols", &O::symbols, "instruments per file")
        .Field("publishers", &O::publishers, "publishers (venues) per instrument, one book each")
        .Field("days", &O::days, "days, one file each")
        .Field("messages_per_day", &O::messages_per_day, "MBO records of live flow per file, after the snapshot")
        .Field("seed", &O::seed, "random seed");
    AddDate(*t, "start_date", &O::start_date, "first day");
    t->Field("dataset", &O::dataset, "the DBN dataset name")
        .Field("zstd", &O::zstd, "write .dbn.zst instead of .dbn");
    return t;
  }();
  return *table;
}

const config::Table<BinanceOptions>& BinanceOptionsTable() {
  static const auto* table = [] {
    auto* t = new config::Table<BinanceOptions>();
    using O = BinanceOptions;
    t->Custom(
        "symbols",
        [](const json& value, O* o, std::string_view source, std::string_view key) -> Status {
          if (value.is_number_integer()) {
            o->symbols.clear();
            return config::Read(value, source, key, &o->symbol_count);
          }
          ARROW_RETURN_NOT_OK(config::Read(value, source, key, &o->symbols));
          o->symbol_count = static_cast<int>(o->symbols.size());
          return Status::OK();
        },
        [](const O& o) -> nlohmann::ordered_json {
          if (o.symbols.empty()) return o.symbol_count;
          return o.symbols;
        },
        "a count (BTCUSDT, ETHUSDT, ...) or a list of names");
    t->Field("days", &O::days, "days");
    AddDate(*t, "start", &O::start_date, "first day");
    t->Field("market", &O::market, "spot, um (USD-M) or cm (COIN-M)")
        .Custom(
            "kinds",
            [](const json& value, O* o, std::string_view source, std::string_view key) -> Status {
              std::vector<std::string> names;
              ARROW_RETURN_NOT_OK(config::Read(value.is_string() ? json::array({value}) : value, source, key, &names));
              o->kinds.clear();
              for (const auto& name : names) {
                auto kind = binance::ParseKind(name);
                if (!kind.ok()) return Status::Invalid(source, ": key '", key, "': ", kind.status().message());
                o->kinds.push_back(*kind);
              }
              return Status::OK();
            },
            [](const O& o) -> nlohmann::ordered_json {
              auto out = nlohmann::ordered_json::array();
              for (auto kind : o.kinds) out.push_back(std::string(binance::KindName(kind)));
              return out;
            },
            "klines, aggtrades and/or funding")
        .Field("interval", &O::interval, "kline interval, 1m to 1d")
        .Field("monthly", &O::monthly, "one file per month instead of per day")
        .Field("header", &O::header, "write a header row (null: futures yes, spot no)")
        .Field("zip", &O::zip, "write .zip archives with .CHECKSUM files")
        .Field("aggtrades_per_minute", &O::aggtrades_per_minute, "mean aggTrades per minute")
        .Field("seed", &O::seed, "random seed");
    return t;
  }();
  return *table;
}

}  // namespace tickforge::synth
