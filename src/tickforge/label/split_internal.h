// Label's first pass (docs/labeling.md "Valid rows", "Series"): every input file's valid rows,
// split by symbol into sorted scratch parts, one per (file, symbol), and the workspace that
// records them for the fit and the build to read in series order (series_internal.h).
#pragma once

#include <arrow/api.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "tickforge/dbn/schema.h"
#include "tickforge/label/config.h"
#include "tickforge/label/label.h"
#include "tickforge/util/status.h"

namespace tickforge::label::internal {

/// The two book columns labeling reads: the mid is (bid_px_00 + ask_px_00) / 2.
inline const std::string& kBestBid = dbn::BookColumnName(dbn::BookField::kBidPx, 0);
inline const std::string& kBestAsk = dbn::BookColumnName(dbn::BookField::kAskPx, 0);

/// The scratch parts' extra column: each row's position in its input, so parts of one input
/// merge back into the input's order where their keys tie. Readers of the series never see it.
inline constexpr char kRowColumn[] = "_tickforge_row";

/// A row's place in a symbol's series (ties after these: file index, then position in file).
struct Key {
  int64_t ts_event;
  uint32_t sequence;
  auto operator<=>(const Key&) const = default;
};

/// Sorted valid rows of one symbol from one file, in a scratch Arrow IPC file: a file's rows of
/// a symbol make one part, or several where they arrive out of key order (each part sorted).
struct Part {
  int file;
  std::filesystem::path path;
  int64_t rows;
  Key first;
  Key last;
};

/// One symbol over all inputs: its row counts, time range and parts.
struct SymbolInfo {
  std::string symbol;
  int64_t rows_in = 0;
  int64_t valid = 0;
  int64_t first_ts = std::numeric_limits<int64_t>::max();
  int64_t last_ts = std::numeric_limits<int64_t>::min();
  std::vector<Part> parts;  // in file order; a file's parts in the order Split made them

  /// Return the symbol's valid rows in the files before `files`.
  int64_t ValidIn(int files) const {
    int64_t n = 0;
    for (const auto& part : parts) n += part.file < files ? part.rows : 0;
    return n;
  }
};

/// An input skipped under BuildOptions::skip_bad_files.
struct BadFile {
  std::string path;
  std::string error;
};

/// The inputs split by symbol: what both fitting and building read. The scratch folder goes
/// with it unless `keep`.
struct Workspace {
  std::filesystem::path dir;
  bool keep = false;
  std::vector<InputFile> files;
  std::vector<int64_t> file_valid;  // valid rows per file, all symbols
  std::map<std::string, SymbolInfo> symbols;  // sorted by name: the `sym` index of the spec
  std::vector<BadFile> bad_files;
  std::shared_ptr<arrow::Schema> schema;  // of intermediate parts and datasets (before labels)
  int size_scale = 0;  // the sizes are integers of 10^-size_scale units (CommonSizeScale)

  ~Workspace() {
    if (!keep && !dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
};

/// Return the column `name` of `batch` as its concrete array type.
template <typename ArrayType>
const ArrayType& Column(const arrow::RecordBatch& batch, const std::string& name) {
  return static_cast<const ArrayType&>(*batch.GetColumnByName(name));
}

/// Return whether a row with these best prices is valid: both defined and positive, and the
/// mid inside [min_price, max_price] where the config bounds it, compared in fixed point.
[[nodiscard]] bool IsValidRow(int64_t bid, int64_t ask, const LabelConfig& config);

/// Split `files` (from ListInputs) into scratch parts under `dir` (created), reading each in
/// batches of `columns` (all MBP-10 columns when empty; the columns labeling needs are always
/// read), so memory does not grow with the size of a file. A file that fails is an error, or
/// with options.skip_bad_files is recorded, leaves no parts, and takes no place in the file
/// order.
[[nodiscard]] Result<std::unique_ptr<Workspace>> Split(const std::vector<InputFile>& files,
                                                       const LabelConfig& config,
                                                       const std::filesystem::path& dir,
                                                       const BuildOptions& options,
                                                       const std::vector<std::string>& columns = {});

/// Split the one input `file` (its index and size scale those of the whole run) into parts
/// under ws.dir (created), adding its symbols, parts and valid rows to `ws` (file_valid grown
/// to hold its index), as Split does for each file: the split of one input by one task. A
/// failed file leaves no parts.
[[nodiscard]] Status SplitFile(const InputFile& file, const LabelConfig& config, Workspace& ws,
                               const std::vector<std::string>& columns = {});

/// The columns labeling itself reads: what orders, groups and validates rows and the mid.
[[nodiscard]] const std::vector<std::string>& LabelColumns();

}  // namespace tickforge::label::internal
