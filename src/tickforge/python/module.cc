// The Python module `tickforge._tickforge`: type conversion and error translation only, one
// bindings file per engine module (bindings.h). Tables leave through the Arrow C stream
// interface, so pyarrow takes them over without copying.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <string>

#include "tickforge/python/bindings.h"
#include "tickforge/python/errors.h"
#include "tickforge/util/version.h"

NB_MODULE(_tickforge, m) {
  using namespace tickforge::python;
  m.attr("__version__") = std::string(tickforge::kVersion);
  BindErrors(m);
  BindDbn(m);
  BindBook(m);
  BindSynth(m);
  BindLabel(m);
  BindFeatures(m);
  BindBinance(m);
  BindLoader(m);
  BindPanel(m);
  BindStore(m);
  BindConfig(m);
}
