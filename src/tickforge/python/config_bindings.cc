// The defaults of every option struct, as JSON, so the Python docstrings show the engine's own
// values (the option structs are the only place defaults are written).
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <string>

#include "tickforge/book/options.h"
#include "tickforge/features/options.h"
#include "tickforge/label/config.h"
#include "tickforge/loader/options.h"
#include "tickforge/panel/config.h"
#include "tickforge/python/bindings.h"
#include "tickforge/store/options.h"
#include "tickforge/synth/options.h"

namespace nb = nanobind;

namespace tickforge::python {
namespace {

std::string OptionDefaults(const std::string& name) {
  if (name == "image") return features::ImageOptionsTable().ToJson(features::ImageOptions{}).dump();
  if (name == "label") return label::LabelConfig{}.ToJson().dump();
  if (name == "loader") return loader::LoaderConfigTable().ToJson(loader::LoaderConfig{}).dump();
  if (name == "panel") return panel::PanelOptionsTable().ToJson(panel::PanelOptions{}).dump();
  if (name == "ingest") return store::ToJson(store::IngestOptions{}).dump();
  if (name == "scan") return store::ToJson(store::ScanOptions{}).dump();
  if (name == "compact") return store::ToJson(store::CompactOptions{}).dump();
  if (name == "store") return store::ToJson(store::StoreOptions{}).dump();
  if (name == "vacuum") return store::ToJson(store::VacuumOptions{}).dump();
  if (name == "write") return store::ToJson(store::WriteOptions{}).dump();
  if (name == "synth_dbn") return synth::SynthOptionsTable().ToJson(synth::SynthOptions{}).dump();
  if (name == "synth_mbo") return synth::MboSynthOptionsTable().ToJson(synth::MboSynthOptions{}).dump();
  if (name == "synth_binance") return synth::BinanceOptionsTable().ToJson(synth::BinanceOptions{}).dump();
  if (name == "book") return book::BookOptionsTable().ToJson(book::BookOptions{}).dump();
  throw nb::value_error(("no options named '" + name +
                         "' (image, label, loader, panel, ingest, scan, compact, write, synth_dbn, synth_mbo, synth_binance, "
                         "book)")
                            .c_str());
}

}  // namespace

void BindConfig(nb::module_& m) {
  m.def("option_defaults", &OptionDefaults, nb::arg("name"),
        "Return the defaults (JSON) of the named option struct: image, label, loader, panel, ingest, scan, "
        "compact, write, synth_dbn, synth_binance or book.");
}

}  // namespace tickforge::python
