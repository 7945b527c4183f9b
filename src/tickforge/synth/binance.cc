#include "tickforge/synth/binance.h"

#include <zip.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numbers>

#include <fmt/format.h>

#include "tickforge/util/io.h"
#include "tickforge/util/random.h"
#include "tickforge/util/time.h"

namespace tickforge::synth {
namespace {

using binance::Kind;

constexpr int64_t kMsPerMinute = 60'000;
constexpr int kMinutesPerDay = 1440;
constexpr uint32_t kSpotMicrosFrom = 20250101;  // Binance spot files switched to µs on this day
constexpr double kDailyVolatility = 0.03;
constexpr double kMarketBeta = 0.7;  // share of each symbol's return driven by the common factor

uint64_t Mix(uint64_t seed, uint64_t a, uint64_t b) {
  Rng rng(seed ^ (a * 0xD1B54A32D192ED03ULL));
  Rng again(rng.Next() ^ (b * 0x8CB92BA72F3D8DD7ULL));
  return again.Next();
}

struct Spec {
  const char* base;
  double price;
};
constexpr std::array<Spec, 12> kKnown = {{{"BTC", 42000},
                                          {"ETH", 2300},
                                          {"BNB", 310},
                                          {"SOL", 100},
                                          {"XRP", 0.62},
                                          {"ADA", 0.52},
                                          {"DOGE", 0.09},
                                          {"AVAX", 38},
                                          {"LINK", 15},
                                          {"DOT", 7.5},
                                          {"LTC", 70},
                                          {"TRX", 0.11}}};

std::string Quote(const std::string& market) { return market == "cm" ? "USD_PERP" : "USDT"; }

double StartPrice(const std::string& symbol, uint64_t seed) {
  for (const auto& k : kKnown) {
    if (symbol.rfind(k.base, 0) == 0 && (symbol.size() == std::string_view(k.base).size() + 4 ||
                                          symbol.size() == std::string_view(k.base).size() + 8)) {
      return k.price;
    }
  }
  Rng rng(Mix(seed, Fnv1a64(symbol), 7));
  return std::exp(std::log(0.01) + rng.Uniform() * (std::log(500.0) - std::log(0.01)));
}

// Price decimals from the magnitude, like Binance tick sizes: 0.01 for BTC, 1e-6 for 0.5.
int PriceDecimals(double price) {
  return std::clamp(5 - static_cast<int>(std::floor(std::log10(price))), 2, 8);
}
int QuantityDecimals(double price) { return price >= 1000 ? 3 : price >= 10 ? 2 : price >= 1 ? 1 : 0; }

double RoundTo(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}
double FloorTo(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::floor(v * scale + 1e-9) / scale;
}

struct Minute {
  double open, high, low, close, volume, quote, taker, taker_quote;
  int64_t count;
};

// One symbol's generator state, carried from day to day.
struct SymbolState {
  std::string name;
  uint64_t key = 0;
  double price = 0;
  int price_decimals = 2;
  int qty_decimals = 0;
  double typical_volume = 0;  // per minute, in base units
  int64_t next_agg_id = 0;
  int64_t next_trade_id = 0;
};

// The common market factor of one day: the same for every symbol, so returns correlate.
std::vector<double> MarketFactor(uint64_t seed, int64_t day) {
  Rng rng(Mix(seed, static_cast<uint64_t>(day), 1));
  std::vector<double> f(kMinutesPerDay);
  for (auto& x : f) x = rng.Normal();
  return f;
}

std::vector<Minute> SimulateDay(SymbolState& s, const std::vector<double>& factor, uint64_t seed, int64_t day) {
  Rng rng(Mix(seed ^ s.key, static_cast<uint64_t>(day), 2));
  const double sigma = kDailyVolatility / std::sqrt(static_cast<double>(kMinutesPerDay));
  const double idio = std::sqrt(1 - kMarketBeta * kMarketBeta);
  std::vector<Minute> out(kMinutesPerDay);
  double price = s.price;
  for (int m = 0; m < kMinutesPerDay; ++m) {
    Minute& k = out[static_cast<size_t>(m)];
    // Intraday activity: busier around 13:00-16:00 UTC (US open), quieter at 03:00.
    const double activity = 1.0 + 0.6 * std::sin(2 * std::numbers::pi * (m - 600) / kMinutesPerDay);
    const double r = sigma * std::sqrt(activity) * (kMarketBeta * factor[static_cast<size_t>(m)] + idio * rng.Normal());
    k.open = RoundTo(price, s.price_decimals);
    price *= std::exp(r);
    const double tick = std::pow(10.0, -s.price_decimals);
    k.close = std::max(tick, RoundTo(price, s.price_decimals));
    const double wiggle = std::abs(rng.Normal()) * sigma * 0.5;
    k.high = std::max(k.open, k.close) + FloorTo(std::max(k.open, k.close) * wiggle, s.price_decimals);
    k.low = std::max(tick, std::min(k.open, k.close) - FloorTo(std::min(k.open, k.close) * std::abs(rng.Normal()) * sigma * 0.5,
                                                               s.price_decimals));
    k.high = RoundTo(k.high, s.price_decimals);
    k.low = RoundTo(k.low, s.price_decimals);
    k.volume = RoundTo(s.typical_volume * activity * std::exp(0.5 * rng.Normal()) * (1 + 20 * std::abs(r)),
                       s.qty_decimals);
    const double vwap = k.low + (k.high - k.low) * (0.25 + 0.5 * rng.Uniform());
    k.quote = k.volume * vwap;
    k.taker = FloorTo(k.volume * (0.3 + 0.4 * rng.Uniform()), s.qty_decimals);
    k.taker_quote = k.taker * vwap;
    k.count = k.volume > 0 ? 1 + rng.Poisson(20 * activity) : 0;
  }
  s.price = price;
  return out;
}

std::string KlinesHeader() {
  return "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
         "taker_buy_quote_volume,ignore\n";
}

struct Layout {
  std::string market;
  bool spot() const { return market == "spot"; }
  std::string Root() const { return spot() ? "data/spot" : "data/futures/" + market; }
};

std::string DateText(uint32_t ymd, bool monthly) {
  return monthly ? fmt::format("{:04d}-{:02d}", ymd / 10000, ymd / 100 % 100)
                 : fmt::format("{:04d}-{:02d}-{:02d}", ymd / 10000, ymd / 100 % 100, ymd % 100);
}

Status WriteZip(const std::filesystem::path& path, const std::string& entry, const std::string& data,
                uint32_t ymd) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  int code = 0;
  zip_t* archive = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (archive == nullptr) return Status::IOError(path.string(), ": cannot create zip archive (libzip error ", code, ")");
  auto fail = [&](const char* what) {
    Status status = Status::IOError(path.string(), ": ", what, ": ", zip_strerror(archive));
    zip_discard(archive);
    return status;
  };
  zip_source_t* source = zip_source_buffer(archive, data.data(), data.size(), 0);
  if (source == nullptr) return fail("cannot add data");
  const zip_int64_t index = zip_file_add(archive, entry.c_str(), source, ZIP_FL_ENC_UTF_8);
  if (index < 0) {
    zip_source_free(source);
    return fail("cannot add entry");
  }
  // A fixed DOS time (the data's date, midnight) keeps the bytes independent of the clock and zone.
  const uint16_t dos_date = static_cast<uint16_t>(((ymd / 10000 - 1980) << 9) | ((ymd / 100 % 100) << 5) | (ymd % 100));
  if (zip_file_set_dostime(archive, static_cast<zip_uint64_t>(index), 0, dos_date, 0) != 0) return fail("cannot set time");
  if (zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 6) != 0) {
    return fail("cannot set compression");
  }
  if (zip_close(archive) != 0) return fail("cannot write");
  return Status::OK();
}

Status WriteText(const std::filesystem::path& path, const std::string& data) {
  ARROW_ASSIGN_OR_RAISE(auto file, AtomicFile::Create(path));
  ARROW_RETURN_NOT_OK(file->stream()->Write(data.data(), static_cast<int64_t>(data.size())));
  return file->Commit();
}

// Accumulates one output file's rows until its period (day or month) ends.
struct Pending {
  std::string data;
  int64_t rows = 0;
  uint32_t first_date = 0;
};

}  // namespace

std::vector<std::string> BinanceSymbolNames(int n, const std::string& market) {
  std::vector<std::string> names;
  const std::string quote = Quote(market);
  for (int i = 0; i < n; ++i) {
    if (i < static_cast<int>(kKnown.size())) {
      names.push_back(std::string(kKnown[static_cast<size_t>(i)].base) + quote);
    } else {
      names.push_back(fmt::format("SYM{:04d}{}", i - static_cast<int>(kKnown.size()) + 1, quote));
    }
  }
  return names;
}

Result<std::vector<BinanceFile>> WriteBinanceDumps(const BinanceOptions& options) {
  const Layout layout{options.market};
  if (options.market != "spot" && options.market != "um" && options.market != "cm") {
    return Status::Invalid("market must be spot, um or cm, not '", options.market, "'");
  }
  if (options.days < 1) return Status::Invalid("days must be at least 1");
  if (options.aggtrades_per_minute < 0) return Status::Invalid("aggtrades_per_minute must be >= 0");
  const auto interval_ms = KlineIntervalMillis(options.interval);
  if (!interval_ms || *interval_ms < 60'000 || *interval_ms > kMillisPerDay) {
    return Status::NotImplemented("the generator writes kline intervals 1m to 1d, not '", options.interval, "'");
  }
  const int bar_minutes = static_cast<int>(*interval_ms / 60'000);
  bool want[3] = {false, false, false};
  for (Kind k : options.kinds) want[static_cast<int>(k)] = true;
  if (want[static_cast<int>(Kind::kFunding)] && layout.spot()) {
    return Status::Invalid("Binance publishes funding rates for futures (um, cm) only, not spot");
  }
  if (!IsValidYmd(options.start_date) || options.start_date < 19800101) {
    return Status::Invalid("bad start date ", options.start_date, " (a YYYYMMDD date from 1980 on)");
  }
  const int64_t first_day = DaysFromYmd(options.start_date);
  const bool header = options.header.value_or(!layout.spot());
  const bool spot = layout.spot();
  const std::vector<std::string> symbols =
      options.symbols.empty() ? BinanceSymbolNames(options.symbol_count, options.market) : options.symbols;
  for (const auto& s : symbols) {
    if (s.empty() || s.find_first_of("/-. \\") != std::string::npos) {
      return Status::Invalid("bad symbol name '", s, "'");
    }
  }

  std::vector<BinanceFile> written;
  const std::filesystem::path root = options.out_dir / layout.Root();
  auto flush = [&](Kind kind, const std::string& symbol, Pending& p, bool monthly) -> Status {
    if (p.rows == 0 && p.data.empty()) return Status::OK();
    std::string kind_dir, stem;
    const std::string date = DateText(p.first_date, monthly);
    std::filesystem::path dir;
    if (kind == Kind::kKlines) {
      dir = root / (monthly ? "monthly" : "daily") / "klines" / symbol / options.interval;
      stem = fmt::format("{}-{}-{}", symbol, options.interval, date);
    } else if (kind == Kind::kAggTrades) {
      dir = root / (monthly ? "monthly" : "daily") / "aggTrades" / symbol;
      stem = fmt::format("{}-aggTrades-{}", symbol, date);
    } else {
      dir = root / "monthly" / "fundingRate" / symbol;
      stem = fmt::format("{}-fundingRate-{}", symbol, date);
    }
    std::filesystem::path path;
    if (options.zip) {
      path = dir / (stem + ".zip");
      ARROW_RETURN_NOT_OK(WriteZip(path, stem + ".csv", p.data, p.first_date));
      ARROW_ASSIGN_OR_RAISE(auto sha, binance::Sha256File(path.string()));
      ARROW_RETURN_NOT_OK(WriteText(dir / (stem + ".zip.CHECKSUM"), fmt::format("{}  {}.zip\n", sha, stem)));
    } else {
      path = dir / (stem + ".csv");
      ARROW_RETURN_NOT_OK(WriteText(path, p.data));
    }
    written.push_back({path.string(), kind, symbol, p.rows});
    p = Pending{};
    return Status::OK();
  };

  const char* true_text = spot ? "True" : "true";
  const char* false_text = spot ? "False" : "false";
  for (size_t si = 0; si < symbols.size(); ++si) {
    SymbolState s;
    s.name = symbols[si];
    s.key = Fnv1a64(s.name);
    s.price = StartPrice(s.name, options.seed);
    s.price_decimals = PriceDecimals(s.price);
    s.qty_decimals = QuantityDecimals(s.price);
    s.typical_volume = std::max(1.0, 2e5 / s.price);  // about $200k traded per minute
    Rng ids(Mix(options.seed, s.key, 3));
    s.next_agg_id = 100'000'000 + static_cast<int64_t>(ids.Next() % 900'000'000);
    s.next_trade_id = s.next_agg_id * 3;
    Pending klines, aggs, funding;
    for (int di = 0; di < options.days; ++di) {
      const int64_t day = first_day + di;
      const uint32_t ymd = YmdFromDays(day);
      const bool micros = spot && ymd >= kSpotMicrosFrom;
      const int64_t unit = micros ? 1000 : 1;  // file time units per ms
      const int64_t day_ms = day * kMillisPerDay;
      const auto factor = MarketFactor(options.seed, day);
      const auto minutes = SimulateDay(s, factor, options.seed, day);
      const int qd = s.qty_decimals;
      const int pd = spot ? 8 : s.price_decimals;
      const int vd = spot ? 8 : qd;
      const int quote_decimals = spot ? 8 : 5;
      for (Pending* p : {&klines, &aggs, &funding}) {
        if (p->rows == 0 && p->data.empty()) p->first_date = ymd;
      }
      if (want[static_cast<int>(Kind::kKlines)]) {
        if (klines.data.empty() && header) klines.data = KlinesHeader();
        for (int b = 0; b < kMinutesPerDay; b += bar_minutes) {
          Minute bar = minutes[static_cast<size_t>(b)];
          for (int m = b + 1; m < b + bar_minutes; ++m) {
            const Minute& x = minutes[static_cast<size_t>(m)];
            bar.high = std::max(bar.high, x.high);
            bar.low = std::min(bar.low, x.low);
            bar.close = x.close;
            bar.volume += x.volume;
            bar.quote += x.quote;
            bar.taker += x.taker;
            bar.taker_quote += x.taker_quote;
            bar.count += x.count;
          }
          const int64_t open_ms = day_ms + b * kMsPerMinute;
          const int64_t open_time = open_ms * unit;
          const int64_t close_time = open_time + bar_minutes * kMsPerMinute * unit - 1;
          const double volume = RoundTo(bar.volume, qd);
          const double taker = std::min(volume, RoundTo(bar.taker, qd));
          fmt::format_to(std::back_inserter(klines.data), "{},{:.{}f},{:.{}f},{:.{}f},{:.{}f},{:.{}f},{},{:.{}f},{},{:.{}f},{:.{}f},0\n",
                         open_time, bar.open, pd, bar.high, pd, bar.low, pd, bar.close, pd, volume, vd, close_time,
                         RoundTo(bar.quote, quote_decimals), quote_decimals, bar.count, taker, vd,
                         FloorTo(bar.taker_quote, quote_decimals), quote_decimals);
          ++klines.rows;
        }
      }
      if (want[static_cast<int>(Kind::kAggTrades)]) {
        if (aggs.data.empty() && header) {
          aggs.data = spot ? "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker,is_best_match\n"
                           : "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n";
        }
        Rng rng(Mix(options.seed ^ s.key, static_cast<uint64_t>(day), 4));
        std::vector<int64_t> offsets;
        for (int m = 0; m < kMinutesPerDay; ++m) {
          const Minute& k = minutes[static_cast<size_t>(m)];
          const int64_t n = rng.Poisson(options.aggtrades_per_minute);
          offsets.resize(static_cast<size_t>(n));
          for (auto& o : offsets) o = static_cast<int64_t>(rng.Uniform() * static_cast<double>(kMsPerMinute * unit));
          std::sort(offsets.begin(), offsets.end());
          for (int64_t t = 0; t < n; ++t) {
            const double frac = n > 1 ? static_cast<double>(t) / static_cast<double>(n - 1) : 0.5;
            double price = k.open + (k.close - k.open) * frac + (k.high - k.low) * 0.25 * rng.Normal();
            price = std::clamp(RoundTo(price, s.price_decimals), k.low, k.high);
            const double lot = std::pow(10.0, -qd);
            const double qty = std::max(lot, RoundTo(s.typical_volume / std::max(1.0, options.aggtrades_per_minute) *
                                                         std::exp(rng.Normal() - 0.5),
                                                     qd));
            const int64_t fills = 1 + static_cast<int64_t>(-std::log(1 - rng.Uniform()) * 1.5);
            const int64_t first = s.next_trade_id;
            s.next_trade_id += fills;
            const int64_t time = (day_ms + m * kMsPerMinute) * unit + offsets[static_cast<size_t>(t)];
            const bool maker = rng.Uniform() < 0.5;
            fmt::format_to(std::back_inserter(aggs.data), "{},{:.{}f},{:.{}f},{},{},{},{}", s.next_agg_id++, price, pd,
                           qty, vd, first, first + fills - 1, time, maker ? true_text : false_text);
            aggs.data += spot ? ",True\n" : "\n";
            ++aggs.rows;
          }
        }
      }
      if (want[static_cast<int>(Kind::kFunding)]) {
        if (funding.data.empty()) funding.data = "calc_time,funding_interval_hours,last_funding_rate\n";
        Rng rng(Mix(options.seed ^ s.key, static_cast<uint64_t>(day), 5));
        for (int h = 0; h < 24; h += 8) {
          const double rate = 0.0001 + 0.00015 * rng.Normal();
          fmt::format_to(std::back_inserter(funding.data), "{},8,{:.8f}\n", day_ms + h * 3'600'000LL, rate);
          ++funding.rows;
        }
      }
      const uint32_t next = YmdFromDays(day + 1);
      const bool last = di + 1 == options.days;
      const bool month_end = next / 100 != ymd / 100;
      if (!options.monthly || month_end || last) {
        ARROW_RETURN_NOT_OK(flush(Kind::kKlines, s.name, klines, options.monthly));
        ARROW_RETURN_NOT_OK(flush(Kind::kAggTrades, s.name, aggs, options.monthly));
      }
      if (month_end || last) ARROW_RETURN_NOT_OK(flush(Kind::kFunding, s.name, funding, true));
    }
  }
  std::stable_sort(written.begin(), written.end(),
                   [](const BinanceFile& a, const BinanceFile& b) { return a.kind < b.kind; });
  return written;
}

}  // namespace tickforge::synth
