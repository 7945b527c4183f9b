// Partitioned writing with deduplication: a commit's rows conformed to the dataset's schema
// with checked casts, split by partition (key columns or constants, and the day of the time
// column), rows whose natural key the partition holds dropped, the rest written to staged
// Parquet files of at most max_rows_per_file rows. Open files and key sets stay bounded.
#pragma once

#include <arrow/type_fwd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tickforge/store/ingest.h"
#include "tickforge/store/manifest.h"
#include "tickforge/store/store.h"
#include "tickforge/store/transaction_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::store {

/// Return the function from a time value to its day since the epoch (floored): int64 time
/// columns are Binance milliseconds, timestamps carry their unit. Other types are a TypeError
/// naming the column.
[[nodiscard]] Result<std::function<int64_t(int64_t)>> DayOf(const arrow::DataType& type, const std::string& column);

/// Return `column` as `field`'s type through a checked cast; a value that does not convert is
/// named with its row.
[[nodiscard]] Result<std::shared_ptr<arrow::Array>> ConformColumn(const std::shared_ptr<arrow::Array>& column,
                                                                  const std::shared_ptr<arrow::Field>& field);

/// Write every batch of `readers` into `dataset` (several read at once on `threads` threads),
/// staged in `txn`; add the files to the dataset and the counts and files to `info`. The first
/// error stops the others and names its source.
[[nodiscard]] Status WriteReaders(const StorePaths& paths, Transaction& txn, DatasetEntry& dataset,
                                  const WriteOptions& options, std::vector<LazySource>& readers, int threads,
                                  CommitInfo* info);

}  // namespace tickforge::store
