// Binance files from Python: one file (CSV, zip or consolidated Parquet) as normalized batches.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <optional>
#include <string>

#include "tickforge/binance/binance.h"
#include "tickforge/python/arrow_stream.h"
#include "tickforge/python/bindings.h"
#include "tickforge/python/errors.h"

namespace nb = nanobind;

namespace tickforge::python {
namespace {

// A Binance file (CSV, zip or consolidated Parquet) as an Arrow C stream of normalized batches.
nb::capsule OpenBinance(const std::string& path, std::optional<std::string> kind_name, int64_t batch_rows,
                        bool verify_checksum) {
  binance::ReadOptions options;
  options.batch_rows = batch_rows;
  options.verify_checksum = verify_checksum;
  std::shared_ptr<arrow::RecordBatchReader> reader;
  {
    nb::gil_scoped_release release;
    const binance::Kind kind = kind_name ? Unwrap(binance::ParseKind(*kind_name))
                                         : Unwrap(binance::InferFileInfo(path)).kind;
    reader = Unwrap(binance::OpenFile(path, kind, options));
  }
  return ExportReader(std::move(reader));
}

}  // namespace

void BindBinance(nb::module_& m) { m.def("open_binance", &OpenBinance); }

}  // namespace tickforge::python
