// Order books from Python: MBO and LOBSTER files streamed as book rows, built into Parquet files, or
// replayed for their counts alone.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "tickforge/book/build.h"
#include "tickforge/book/depth_build.h"
#include "tickforge/book/mbo_reader.h"
#include "tickforge/book/options.h"
#include "tickforge/python/arrow_stream.h"
#include "tickforge/python/bindings.h"
#include "tickforge/python/errors.h"
#include "tickforge/python/progress.h"
#include "tickforge/store/options.h"
#include "tickforge/store/store.h"

namespace nb = nanobind;

namespace tickforge::python {
namespace {

// The options arrive as JSON holding only what the caller set; BookOptions holds the defaults.
book::BookOptions ParseOptions(const std::string& options_json) {
  book::BookOptions options;
  Check(book::BookBuildOptionsTable().Apply(nlohmann::json::parse(options_json), &options, "book options"));
  return options;
}

nb::capsule OpenBook(const std::string& path, const std::string& options_json) {
  const auto options = ParseOptions(options_json);
  std::shared_ptr<arrow::RecordBatchReader> reader;
  {
    nb::gil_scoped_release release;
    reader = Unwrap(book::OpenBookReader(path, options));
  }
  return ExportReader(std::move(reader));
}

std::string BuildBooks(const std::vector<std::string>& inputs, const std::string& out_dir,
                       const std::string& options_json, const std::string& compression, int64_t row_group_rows,
                       nb::object callback) {
  book::BuildOptions options;
  options.book = ParseOptions(options_json);
  options.parquet.compression = Unwrap(ParquetCompression(compression));
  options.parquet.row_group_rows = row_group_rows;
  if (!options.book.lobster.orderbook.empty() && inputs.size() != 1) {
    Check(Status::Invalid("orderbook names the orderbook file of one message file; ", inputs.size(), " given"));
  }
  PyProgress py_progress(std::move(callback));
  return py_progress.Run([&]() -> Result<std::string> {
    // One stage over all files, as `tickforge book build` reports it.
    ProgressReporter progress(py_progress.Fn());
    std::vector<std::string> written;
    auto built = [&]() -> Result<std::string> {
      ARROW_ASSIGN_OR_RAISE(const auto outputs, book::BookOutputsFor(inputs, out_dir, options.book));
      const auto sizes = FileSizes(inputs);
      ARROW_RETURN_NOT_OK(progress.Begin("build", static_cast<int64_t>(inputs.size()), -1,
                                         std::accumulate(sizes.begin(), sizes.end(), int64_t{0})));
      nlohmann::ordered_json out = nlohmann::ordered_json::array();
      int64_t base = 0;
      for (size_t i = 0; i < inputs.size(); ++i) {
        const auto& input = inputs[i];
        // The input's kind is found once (auto reads its first bytes) and handed on.
        book::BuildOptions resolved = options;
        ARROW_ASSIGN_OR_RAISE(resolved.book.input.format, book::ResolveBookFormat(input, resolved.book));
        const auto& output = outputs[i];
        int64_t rows = 0;
        if (book::IsDepthFormat(resolved.book.input.format)) {
          ARROW_ASSIGN_OR_RAISE(auto stats, book::BuildDepthFile(input, output, resolved.book, resolved.parquet));
          out.push_back(stats.ToJson());
          written.push_back(stats.output);
          rows = stats.rows;
        } else {
          ARROW_ASSIGN_OR_RAISE(auto stats, book::BuildBookFile(input, output, resolved, progress.ForFile(base)));
          out.push_back(stats.ToJson());
          written.push_back(stats.output);
          rows = stats.rows;
        }
        base += sizes[i];
        ARROW_RETURN_NOT_OK(progress.Add(rows, 0, 1));
        ARROW_RETURN_NOT_OK(progress.SetBytes(base));
      }
      ARROW_RETURN_NOT_OK(progress.End());
      // A file name need not be UTF-8; the summary must still be JSON.
      return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    }();
    // A stop asked for by the callback takes back the files this call wrote.
    if (!progress.status().ok()) RemoveFiles(written);
    return built;
  });
}

// All inputs' rows as one commit of `dataset` in the store at `root` (book build --into).
std::string BuildBooksInto(const std::vector<std::string>& inputs, const std::string& root, const std::string& dataset,
                           const std::string& options_json, const std::string& compression, nb::object callback) {
  store::IngestOptions options;
  options.books.only = true;
  options.books.dataset = dataset;
  options.books.book = ParseOptions(options_json);
  options.write.compression = compression;
  PyProgress progress(std::move(callback));
  options.progress = progress.Fn();
  return store::ToJson(progress.Run([&]() -> Result<store::CommitInfo> {
           ARROW_ASSIGN_OR_RAISE(auto opened, store::Store::Open(root));
           return opened->Ingest(inputs, options);
         }))
      .dump();
}

std::string ReplayBook(const std::string& path, const std::string& options_json) {
  const auto options = ParseOptions(options_json);
  nb::gil_scoped_release release;
  return Unwrap(book::ReplayMbo(path, options)).ToJson().dump();
}

}  // namespace

void BindBook(nb::module_& m) {
  m.def("open_book", &OpenBook);
  m.def("build_books", &BuildBooks, nb::arg("inputs"), nb::arg("out_dir"), nb::arg("options"), nb::arg("compression"),
        nb::arg("row_group_rows"), nb::arg("progress").none() = nb::none());
  m.def("build_books_into", &BuildBooksInto, nb::arg("inputs"), nb::arg("root"), nb::arg("dataset"),
        nb::arg("options"), nb::arg("compression"), nb::arg("progress").none() = nb::none());
  m.def("replay_book", &ReplayBook);
}

}  // namespace tickforge::python
