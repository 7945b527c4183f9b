// The consolidated-Parquet normalizer: reads the seed's "<kind>_<exchange>_<symbol>[_<tf>]_
// consolidated.parquet" files (and Parquet files with Binance's own column names), renames and
// casts their columns to the normalized schema of the kind, derives the *_us columns, and keeps
// any other column after the normalized ones.
#pragma once

#include <arrow/record_batch.h>
#include <arrow/type_fwd.h>

#include <memory>
#include <string>
#include <utility>

#include "tickforge/binance/binance.h"
#include "tickforge/util/status.h"

namespace tickforge::binance {

/// Stream the normalized batches of a consolidated Parquet file of `kind`.
[[nodiscard]] Result<std::shared_ptr<arrow::RecordBatchReader>> OpenConsolidatedParquet(const std::string& path,
                                                                                         Kind kind,
                                                                                         const ReadOptions& options);

/// Return the (milliseconds, microseconds) arrays of a time column: an Arrow timestamp by its
/// unit, or integers by their magnitude (SplitTime). Errors name `path` and `column`.
[[nodiscard]] Result<std::pair<std::shared_ptr<arrow::Array>, std::shared_ptr<arrow::Array>>> ConvertTime(
    const std::shared_ptr<arrow::Array>& source, const std::string& path, const std::string& column);

}  // namespace tickforge::binance
