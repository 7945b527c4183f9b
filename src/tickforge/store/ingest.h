// Ingest sources: one vendor file opened as a stream of rows for the store, with the dataset,
// rules and constant partition values it belongs to.
#pragma once

#include <arrow/type_fwd.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tickforge/store/store.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

struct IngestSource {
  std::string path;
  /// The dataset it goes to (klines, aggtrades, funding, mbp10, mbo, ...).
  std::string dataset;
  /// The data type whose rules apply (see RulesFor).
  std::string type;
  /// For types whose rules leave the time column open (DBN): the index column.
  std::string time_column;
  /// Partition values fixed for the whole file (exchange, symbol, timeframe; dataset for DBN).
  std::map<std::string, std::string> constants;
  /// The columns the reader will have.
  std::shared_ptr<arrow::Schema> schema;
  /// Key-value metadata for the files its rows go to (a depth book's tickforge.size_scale).
  std::map<std::string, std::string> metadata;
  /// Open the rows; called when a writer thread reaches the file, so thousands of inputs do
  /// not hold their buffers at once.
  std::function<Result<std::shared_ptr<arrow::RecordBatchReader>>()> open;
};

/// A source of rows opened only when needed.
struct LazySource {
  std::string name;
  std::function<Result<std::shared_ptr<arrow::RecordBatchReader>>()> open;
};

/// Return the Parquet column codings for files of a dataset type: those of `dbn to-parquet`
/// for a DBN type (mbp10, mbo, ohlcv, ...), none (the type defaults) for others.
[[nodiscard]] std::map<std::string, ParquetColumnCoding> ParquetColumnsFor(const std::string& type);

/// Return true when `path` names a DBN file (.dbn, .dbn.zst).
[[nodiscard]] bool IsDbnPath(const std::string& path);

/// Open one input: a DBN file (any single schema) or a Binance file (CSV, zip, consolidated
/// Parquet; kind and symbol from its name unless the options say). `single_input` lets a
/// lone file use the thread pool for parsing.
[[nodiscard]] Result<IngestSource> OpenIngestSource(const std::string& path, const IngestOptions& options,
                                                    bool single_input = false);

/// Open every source one input gives: OpenIngestSource's, and with options.books.derive (or
/// .only) the rebuilt books of an MBO, depth-stream or LOBSTER input (store/book_source.h);
/// none for a LOBSTER orderbook file, which its message file reads.
[[nodiscard]] Result<std::vector<IngestSource>> OpenIngestSources(const std::string& path,
                                                                  const IngestOptions& options,
                                                                  bool single_input = false);

}  // namespace tickforge::store
