// Synthetic data from Python: MBP-10 DBN days and Binance dumps.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <string>
#include <vector>

#include "tickforge/binance/binance.h"
#include "tickforge/python/bindings.h"
#include "tickforge/python/errors.h"
#include "tickforge/synth/binance.h"
#include "tickforge/synth/synth.h"
#include "tickforge/util/time.h"

namespace nb = nanobind;

namespace tickforge::python {
namespace {

std::vector<std::string> SynthDbn(const std::string& out_dir, int symbols, int days,
                                  int64_t rows_per_day, uint64_t seed, const std::string& start_date,
                                  bool zstd) {
  synth::SynthOptions options;
  options.symbols = symbols;
  options.days = days;
  options.rows_per_day = rows_per_day;
  options.seed = seed;
  options.start_date = Unwrap(ParseIsoDate(start_date));
  options.zstd = zstd;
  nb::gil_scoped_release release;
  std::vector<std::string> paths;
  for (const auto& file : Unwrap(synth::WriteMbp10Days(out_dir, options))) paths.push_back(file.path);
  return paths;
}

std::vector<std::string> SynthBinance(const std::string& out_dir, std::vector<std::string> symbols, int symbol_count,
                                      int days, const std::string& start, const std::string& market,
                                      const std::vector<std::string>& kinds, const std::string& interval,
                                      bool monthly, std::optional<bool> header, bool zip,
                                      double aggtrades_per_minute, uint64_t seed) {
  synth::BinanceOptions options;
  options.out_dir = out_dir;
  options.symbols = std::move(symbols);
  options.symbol_count = symbol_count;
  options.days = days;
  options.start_date = Unwrap(ParseIsoDate(start));
  options.market = market;
  options.kinds.clear();
  for (const auto& k : kinds) options.kinds.push_back(Unwrap(binance::ParseKind(k)));
  options.interval = interval;
  options.monthly = monthly;
  options.header = header;
  options.zip = zip;
  options.aggtrades_per_minute = aggtrades_per_minute;
  options.seed = seed;
  nb::gil_scoped_release release;
  std::vector<std::string> paths;
  for (const auto& file : Unwrap(synth::WriteBinanceDumps(options))) paths.push_back(file.path);
  return paths;
}

}  // namespace

void BindSynth(nb::module_& m) {
  m.def("synth_dbn", &SynthDbn);
  m.def("synth_binance", &SynthBinance);
}

}  // namespace tickforge::python
