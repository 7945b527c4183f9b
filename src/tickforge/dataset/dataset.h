// The labeled dataset: the contract between label build, which writes one per symbol, and the
// features renderer and the loader, which read them. Its file name, columns, metadata and row
// groups are defined here and nowhere else.
//
// A labeled dataset is one Parquet file per symbol, {currency}_{symbol}_dataset.parquet, whose
// rows are the symbol's valid MBP-10 rows in series order (ts_event, then sequence): every
// column the DBN records convert to (fixed-point prices, so the book columns are int64 prices
// and uint32 sizes and counts; sizes of 10^-size_scale units where the metadata says), then price_movement (float64) and classification_label
// (uint8), both null where the movement is undefined, then the mid-price label columns the
// metadata lists (label_<scheme>_k<k>, uint8 0..2, null where undefined; DESIGN.md §3.7). The
// schema metadata holds the labeling parameters under kMetadataKey, and row groups hold
// kRowGroupRows rows.
#pragma once

#include <arrow/type_fwd.h>
#include <parquet/arrow/reader.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tickforge/util/parquet.h"
#include "tickforge/util/status.h"

namespace tickforge::dataset {

/// The end of every dataset's file name.
inline constexpr std::string_view kFileSuffix = "_dataset.parquet";
/// The schema metadata key of the labeling parameters (LabelMetadata, as JSON).
inline constexpr std::string_view kMetadataKey = "tickforge.label";
/// Rows per row group: small enough that a window's rows are read without decoding much else,
/// and the unit readers cut their reads on.
inline constexpr int64_t kRowGroupRows = int64_t{1} << 15;

/// The columns readers look rows up by: event time (timestamp[ns, UTC], sorted) and the
/// venue's sequence number (uint32).
inline constexpr std::string_view kTsEventColumn = "ts_event";
inline constexpr std::string_view kSequenceColumn = "sequence";
/// The label columns label build appends after the book.
inline constexpr std::string_view kMovementColumn = "price_movement";
inline constexpr std::string_view kLabelColumn = "classification_label";

/// Return the file name of `symbol`'s dataset: {currency}_{symbol}_dataset.parquet, with the
/// characters of `symbol` other than letters, digits, '.', '-' and '_' replaced by '_'.
[[nodiscard]] std::string FileName(std::string_view currency, std::string_view symbol);

/// Return the symbol a dataset's file name holds: what lies between its first '_' and the
/// suffix; nullopt for a name that is not a dataset's (no suffix, or nothing before it).
[[nodiscard]] std::optional<std::string> SymbolOfFileName(std::string_view name);

/// A mid-price label column a dataset holds (DESIGN.md §3.7): uint8 classes 0..2, null where
/// undefined, after classification_label.
struct MidpriceColumn {
  std::string column;   ///< label_<scheme>_k<k>
  std::string scheme;   ///< deeplob or fi2010
  int64_t horizon = 0;  ///< k, in kept rows
  int64_t smoothing = 0;   ///< h, in kept rows
  int64_t downsample = 1;  ///< n: every n-th row is labeled
  double alpha = 0;        ///< the class threshold used (fixed or fitted; per-symbol: this symbol's)

  /// Return how many rows after a sample its label reads (k·n) and how many before ((h-1)·n).
  [[nodiscard]] int64_t rows_ahead() const { return horizon * downsample; }
  [[nodiscard]] int64_t rows_behind() const { return (smoothing - 1) * downsample; }
  bool operator==(const MidpriceColumn&) const = default;
};

/// The labeling parameters a dataset records (under kMetadataKey): readers need the label
/// horizon to purge their splits.
struct LabelMetadata {
  int64_t lookback_rows = 0;
  int64_t lookforward_input = 0;
  int64_t lookforward_offset = 0;
  int nbins = 0;
  std::string mode;
  /// The depth-image features the dataset was labeled for (label config `features`); what
  /// render draws when its caller names none. Empty in datasets written before it was recorded.
  std::vector<std::string> features;
  /// The mid-price label columns (written under "midprice" only when there are some).
  std::vector<MidpriceColumn> midprice;
  /// The sizes are integers of 10^-size_scale units (a depth book's fixed-point sizes, brought
  /// to one scale by label build); 0, not written: whole units, as DBN's.
  int size_scale = 0;
  /// The price step of a depth image's rows for this data (label config micro_pip_size, e.g.
  /// the instrument's tick size); what render and the loader use when their caller passes
  /// none. 0, not written: not recorded (their default, 1e-5).
  double micro_pip_size = 0;

  /// Return the mid-price column named `column`, or nullptr.
  [[nodiscard]] const MidpriceColumn* FindMidprice(std::string_view column) const {
    for (const auto& m : midprice) {
      if (m.column == column) return &m;
    }
    return nullptr;
  }
  /// Return how many rows after a sample its label looks at: lookforward_offset +
  /// lookforward_input.
  [[nodiscard]] int64_t horizon() const { return lookforward_offset + lookforward_input; }
  /// Return the JSON text written under kMetadataKey (keys in name order).
  [[nodiscard]] std::string ToJson() const;
  /// Read the metadata of a dataset's schema: nullopt when it records none (no key, or text
  /// that is not a JSON object); fields it lacks keep their defaults. A field of the wrong type
  /// is an error naming `path`.
  [[nodiscard]] static Result<std::optional<LabelMetadata>> FromSchema(const arrow::Schema& schema,
                                                                       const std::string& path);

  bool operator==(const LabelMetadata&) const = default;
};

/// Return the schema of a dataset: `book` (the converted MBP-10 columns, its own metadata
/// dropped), the label columns after it (price_movement, classification_label, then each of
/// metadata.midprice), and `metadata` under kMetadataKey.
[[nodiscard]] Result<std::shared_ptr<arrow::Schema>> MakeSchema(const arrow::Schema& book,
                                                                const LabelMetadata& metadata);

/// Check that `schema` (of the file at `path`) has the columns readers rely on with their
/// types: the label, ts_event, sequence and the first and last book columns. The error names
/// the file and the column.
[[nodiscard]] Status CheckSchema(const arrow::Schema& schema, const std::string& path);

/// Create the dataset file at `path` (it appears when closed), in row groups of kRowGroupRows;
/// with `copied`, starting with those row groups of another dataset file.
[[nodiscard]] Result<std::unique_ptr<ParquetFile>> CreateFile(const std::filesystem::path& path,
                                                              std::shared_ptr<arrow::Schema> schema,
                                                              const ParquetCopiedRowGroups& copied = {});

/// Return the datasets in `dir` (not its subfolders; hidden names skipped) as symbol -> path.
/// Where two files hold the same symbol (two currencies), the last by path is kept. An error
/// when `dir` is not a folder or holds no dataset.
[[nodiscard]] Result<std::map<std::string, std::string>> Discover(const std::filesystem::path& dir);

/// Return the datasets among `paths` (an explicit list, such as a store snapshot's files) as
/// symbol -> path, by their file names; other names are skipped. An error when none is a
/// dataset's.
[[nodiscard]] Result<std::map<std::string, std::string>> DiscoverFiles(const std::vector<std::string>& paths);

/// Read rows [begin, end) of the book columns (dbn::BookColumnNames) of the dataset at `path`,
/// opened as `reader`, touching only the row groups that hold them.
[[nodiscard]] Result<std::shared_ptr<arrow::Table>> ReadBookRows(parquet::arrow::FileReader& reader,
                                                                 const std::string& path, int64_t begin,
                                                                 int64_t end);

}  // namespace tickforge::dataset
