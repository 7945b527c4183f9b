// The chunked CSV reader: a RecordBatchReader that takes blocks of whole lines from the chunker,
// reads the header and the column count at the start, parses each block's chunks on Arrow's CPU
// thread pool and hands the rows out in batches of at most batch_rows, in file order. It counts
// lines, so every parser error names the file and the line.
#pragma once

#include <arrow/record_batch.h>

#include <memory>
#include <string>

#include "tickforge/binance/binance.h"
#include "tickforge/binance/source_internal.h"

namespace tickforge::binance {

/// Return a reader of the `kind` CSV that `source` gives; `path` names it in errors.
[[nodiscard]] std::shared_ptr<arrow::RecordBatchReader> MakeCsvReader(std::unique_ptr<ByteSource> source, Kind kind,
                                                                      std::string path, const ReadOptions& options);

}  // namespace tickforge::binance
