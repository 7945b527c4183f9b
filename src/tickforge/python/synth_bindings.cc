// Synthetic data from Python: MBP-10 and MBO DBN days and Binance dumps.
#include <nanobind/nanobind.h>
#include <nlohmann/json.hpp>
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
#include "tickforge/synth/options.h"
#include "tickforge/synth/synth.h"
#include "tickforge/util/time.h"

namespace nb = nanobind;

namespace tickforge::python {
namespace {

// The options arrive as JSON holding only what the caller set; the option structs hold the
// defaults.
std::vector<std::string> SynthDbn(const std::string& out_dir, const std::string& options_json) {
  synth::SynthOptions options;
  Check(synth::SynthOptionsTable().Apply(nlohmann::json::parse(options_json), &options, "synth_dbn options"));
  nb::gil_scoped_release release;
  std::vector<std::string> paths;
  for (const auto& file : Unwrap(synth::WriteMbp10Days(out_dir, options))) paths.push_back(file.path);
  return paths;
}

std::vector<std::string> SynthMbo(const std::string& out_dir, const std::string& options_json) {
  synth::MboSynthOptions options;
  Check(synth::MboSynthOptionsTable().Apply(nlohmann::json::parse(options_json), &options, "synth_mbo options"));
  nb::gil_scoped_release release;
  std::vector<std::string> paths;
  for (const auto& file : Unwrap(synth::WriteMboDays(out_dir, options))) paths.push_back(file.path);
  return paths;
}

std::vector<std::string> SynthBinance(const std::string& out_dir, const std::string& options_json) {
  synth::BinanceOptions options;
  Check(synth::BinanceOptionsTable().Apply(nlohmann::json::parse(options_json), &options, "synth_binance options"));
  options.out_dir = out_dir;
  nb::gil_scoped_release release;
  std::vector<std::string> paths;
  for (const auto& file : Unwrap(synth::WriteBinanceDumps(options))) paths.push_back(file.path);
  return paths;
}

}  // namespace

void BindSynth(nb::module_& m) {
  m.def("synth_dbn", &SynthDbn);
  m.def("synth_binance", &SynthBinance);
  m.def("synth_mbo", &SynthMbo);
}

}  // namespace tickforge::python
