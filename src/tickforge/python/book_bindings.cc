// Order books from Python: MBO and LOBSTER files streamed as book rows, built into Parquet files, or
// replayed for their counts alone.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "tickforge/book/build.h"
#include "tickforge/book/depth_build.h"
#include "tickforge/book/mbo_reader.h"
#include "tickforge/book/options.h"
#include "tickforge/python/arrow_stream.h"
#include "tickforge/python/bindings.h"
#include "tickforge/python/errors.h"
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
                       const std::string& options_json, const std::string& compression, int64_t row_group_rows) {
  book::BuildOptions options;
  options.book = ParseOptions(options_json);
  options.parquet.compression = Unwrap(ParquetCompression(compression));
  options.parquet.row_group_rows = row_group_rows;
  if (!options.book.lobster.orderbook.empty() && inputs.size() != 1) {
    Check(Status::Invalid("orderbook names the orderbook file of one message file; ", inputs.size(), " given"));
  }
  nb::gil_scoped_release release;
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& input : inputs) {
    // The input's kind is found once (auto reads its first bytes) and handed on.
    book::BuildOptions resolved = options;
    resolved.book.input.format = Unwrap(book::ResolveBookFormat(input, resolved.book));
    const auto output = std::filesystem::path(out_dir) / Unwrap(book::BookParquetNameFor(input, resolved.book));
    if (book::IsDepthFormat(resolved.book.input.format)) {
      out.push_back(Unwrap(book::BuildDepthFile(input, output, resolved.book, resolved.parquet)).ToJson());
      continue;
    }
    out.push_back(Unwrap(book::BuildBookFile(input, output, resolved)).ToJson());
  }
  // A file name need not be UTF-8; the summary must still be JSON.
  return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// All inputs' rows as one commit of `dataset` in the store at `root` (book build --into).
std::string BuildBooksInto(const std::vector<std::string>& inputs, const std::string& root, const std::string& dataset,
                           const std::string& options_json, const std::string& compression) {
  store::IngestOptions options;
  options.books.only = true;
  options.books.dataset = dataset;
  options.books.book = ParseOptions(options_json);
  options.write.compression = compression;
  nb::gil_scoped_release release;
  auto opened = Unwrap(store::Store::Open(root));
  return store::ToJson(Unwrap(opened->Ingest(inputs, options))).dump();
}

std::string ReplayBook(const std::string& path, const std::string& options_json) {
  const auto options = ParseOptions(options_json);
  nb::gil_scoped_release release;
  return Unwrap(book::ReplayMbo(path, options)).ToJson().dump();
}

}  // namespace

void BindBook(nb::module_& m) {
  m.def("open_book", &OpenBook);
  m.def("build_books", &BuildBooks);
  m.def("build_books_into", &BuildBooksInto);
  m.def("replay_book", &ReplayBook);
}

}  // namespace tickforge::python
