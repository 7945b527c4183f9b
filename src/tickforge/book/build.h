// Book files: one MBO file in, its rows (book/mbo_reader.h) out as one Parquet file, streamed
// batch by batch and committed atomically.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tickforge/book/mbo_reader.h"
#include "tickforge/book/options.h"
#include "tickforge/dbn/to_parquet.h"
#include "tickforge/util/parquet.h"

namespace tickforge::book {

struct BuildOptions {
  BookOptions book;
  ParquetWriteOptions parquet;
};

/// Rebuild the books of one MBO file (or a LOBSTER message file with its orderbook file, see
/// book/lobster.h; told apart by IsLobsterMessageFile) into one Parquet file of rows. The schema keeps the
/// input's DBN metadata as JSON under "dbn.metadata" (its schema set to the rows' mbp-10, or
/// mbp-1 for one level) and the build under "tickforge.book". On any error, a strict
/// anomaly included, nothing is left at `output`.
[[nodiscard]] Result<BookStats> BuildBookFile(const std::string& input, const std::filesystem::path& output,
                                              const BuildOptions& options = {},
                                              const dbn::ProgressFn& progress = {});

/// Return the kind of `input`: `options.input.format`, or, when that is kAuto, LOBSTER for a
/// LOBSTER message file name, else what its content shows (book/depth_build.h's DetectBookInput).
[[nodiscard]] Result<InputFormat> ResolveBookFormat(const std::string& input, const BookOptions& options);

/// Return the Parquet name of an MBO file's rows: ".mbo" becomes ".mbp-10" (".mbp-N" for
/// other depths), else the depth is added: "x.mbo.dbn.zst" -> "x.mbp-10.parquet".
[[nodiscard]] std::string BookParquetNameFor(const std::filesystem::path& input, int levels);

/// Return whether `format` is a depth stream (built by BuildDepthFile, book/depth_build.h).
[[nodiscard]] bool IsDepthFormat(InputFormat format);

/// Return the Parquet name of any book input's rows: LOBSTER message files as
/// LobsterParquetNameFor names them, depth streams as DepthParquetNameFor, MBO as above.
[[nodiscard]] Result<std::string> BookParquetNameFor(const std::filesystem::path& input, const BookOptions& options);

/// Return the file each input's rows go to in `out_dir` (named by BookParquetNameFor); fails
/// before anything is written when two inputs would write one file.
[[nodiscard]] Result<std::vector<std::filesystem::path>> BookOutputsFor(const std::vector<std::string>& inputs,
                                                                      const std::filesystem::path& out_dir,
                                                                      const BookOptions& options);

/// Open the rows of any book input (MBO DBN, a LOBSTER message file, a depth stream) as a stream.
[[nodiscard]] Result<std::shared_ptr<arrow::RecordBatchReader>> OpenBookReader(const std::string& input,
                                                                               const BookOptions& options = {});

}  // namespace tickforge::book
