// The panel builder from Python: inputs as Arrow C streams or Parquet paths, the panel out as
// a stream or a Parquet file.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tickforge/panel/config.h"
#include "tickforge/panel/panel.h"
#include "tickforge/python/arrow_stream.h"
#include "tickforge/python/bindings.h"
#include "tickforge/python/errors.h"
#include "tickforge/python/progress.h"

namespace nb = nanobind;

namespace tickforge::python {
namespace {

// The panel builder as Python sees it: options arrive as a config file plus a JSON object of
// keyword settings; inputs as Arrow C streams or Parquet paths.
class PyPanel {
 public:
  PyPanel(std::optional<std::string> config_file, const std::string& settings) {
    panel::PanelOptions options;
    if (config_file) Check(panel::ApplyPipelineConfig(*config_file, &options));
    Check(panel::PanelOptionsTable().Apply(nlohmann::json::parse(settings), &options, "panel options"));
    Check(options.Validate());
    builder_ = std::make_unique<panel::PanelBuilder>(std::move(options));
  }

  void AddStream(const std::string& symbol, nb::capsule capsule) {
    auto reader = ImportReader(capsule);
    nb::gil_scoped_release release;
    auto table = Unwrap(reader->ToTable());
    reader.reset();
    Check(builder_->AddTable(symbol, table));
  }

  void AddParquet(const std::string& symbol, const std::vector<std::string>& paths) {
    Check(builder_->AddParquet(symbol, paths));
  }

  void AddDirectory(const std::string& dir) {
    nb::gil_scoped_release release;
    Check(builder_->AddDirectory(dir));
  }

  nb::capsule Open() {
    std::shared_ptr<panel::PanelReader> reader;
    {
      nb::gil_scoped_release release;
      reader = Unwrap(builder_->Open());
    }
    last_ = reader;
    return ExportReader(std::move(reader));
  }

  nb::capsule Schema() {
    std::shared_ptr<arrow::Schema> schema;
    {
      nb::gil_scoped_release release;
      schema = Unwrap(builder_->Schema());
    }
    return ExportSchema(*schema);
  }

  // The report of the last read, or of the plan when nothing was read yet.
  std::string Report() {
    if (last_) return last_->report().ToJson().dump();
    if (last_report_) return *last_report_;
    nb::gil_scoped_release release;
    return Unwrap(builder_->Describe()).ToJson().dump();
  }

  std::string WriteParquet(const std::string& path, const std::string& compression, int64_t row_group_rows,
                           nb::object callback) {
    ParquetWriteOptions write;
    write.compression = Unwrap(ParquetCompression(compression));
    write.row_group_rows = row_group_rows;
    PyProgress progress(std::move(callback));
    last_report_ = progress.Run([&] { return builder_->WriteParquet(path, write, progress.Fn()); }).ToJson().dump();
    last_.reset();
    return *last_report_;
  }

 private:
  std::unique_ptr<panel::PanelBuilder> builder_;
  // Kept for its report; it holds no rows once read to the end.
  std::shared_ptr<panel::PanelReader> last_;
  std::optional<std::string> last_report_;
};

}  // namespace

void BindPanel(nb::module_& m) {
  nb::class_<PyPanel>(m, "PanelBuilder")
      .def(nb::init<std::optional<std::string>, const std::string&>())
      .def("add_stream", &PyPanel::AddStream)
      .def("add_parquet", &PyPanel::AddParquet)
      .def("add_directory", &PyPanel::AddDirectory)
      .def("open", &PyPanel::Open)
      .def("schema", &PyPanel::Schema)
      .def("report", &PyPanel::Report)
      .def("write_parquet", &PyPanel::WriteParquet, nb::arg("path"), nb::arg("compression"), nb::arg("row_group_rows"),
           nb::arg("progress").none() = nb::none());
}

}  // namespace tickforge::python
