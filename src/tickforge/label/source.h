// Label's input (docs/labeling.md "Inputs"): an ordered list of MBP-10 sources, each a DBN
// file or MBP-10 Parquet files (a store snapshot's files of one day, or a plain file such as
// `tickforge book build` writes), read the same way: in bounded batches, with projection, in
// the columns and types DBN MBP-10 records convert to (fixed-point prices).
#pragma once

#include <arrow/type_fwd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/label/label.h"
#include "tickforge/util/status.h"

namespace tickforge::label {

/// Which rows of a store label reads.
struct StoreSelection {
  std::string root;
  std::string dataset = "mbp10";
  /// The snapshot; the newest when absent.
  std::optional<int64_t> version;
  /// Symbols to keep; all when empty.
  std::vector<std::string> symbols;
  /// Days [start, end) as YYYY-MM-DD (the store's day partitions); open-ended when empty.
  std::string start;
  std::string end;
};

/// A store selection resolved against one snapshot.
struct StoreInputs {
  /// One input per day (and per value of the partition keys other than symbol), in the order
  /// of the data's start time: the unit a daily DBN file is, so both give the same labels.
  std::vector<InputFile> files;
  int64_t version = 0;
  /// What a lineage record says of the source: store, dataset, version, selection.
  nlohmann::ordered_json lineage;
};

/// Resolve `selection` against one snapshot of its store. A store, dataset, version, symbol or
/// date range that does not exist is an error naming it and listing what exists.
[[nodiscard]] Result<StoreInputs> ListStoreInputs(const StoreSelection& selection);

/// Return the Arrow schema labeling sees: DBN MBP-10 records converted with fixed-point prices.
[[nodiscard]] const std::shared_ptr<arrow::Schema>& Mbp10Schema();

/// Return the size scale a label run reads all of `files` at (InputFile::size_scale): the
/// finest scale at which every input's sizes are whole numbers that fit in uint32, as the
/// labeled dataset's columns are. DBN files and uint32 Parquet sizes have scale 0; a depth
/// book's uint64 sizes have the scale its "tickforge.size_scale" metadata records, and their
/// largest value (row group statistics) decides how far it must come down. An input whose
/// sizes fit at no scale is an error naming it.
[[nodiscard]] Result<int> CommonSizeScale(const std::vector<InputFile>& files);

/// Open `input`'s rows as batches of at most `batch_rows` rows of `columns` (all of
/// Mbp10Schema() when empty), in Mbp10Schema()'s order and types. Parquet files are read one
/// after the other, row group by row group; a store file is found where ResolveFile says it is
/// when the reader gets to it, so a snapshot stays readable while later commits retire files.
/// A depth book's uint64 sizes are divided down to input.size_scale (a size with digits below
/// it is an error naming the file, the column and the value, never rounded) and its uint64
/// sequence keeps its low 32 bits, as DBN's MBP-10 records do.
[[nodiscard]] Result<std::shared_ptr<arrow::RecordBatchReader>> OpenInput(const InputFile& input,
                                                                        const std::vector<std::string>& columns,
                                                                        int64_t batch_rows = 1 << 16);

}  // namespace tickforge::label
