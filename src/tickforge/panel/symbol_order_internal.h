// The symbol row order: all rows of each symbol in turn, in symbol order. One reader streams
// the inputs on the consumer's thread; the other reads the next few Parquet symbols ahead on
// worker threads, so decoding runs on all cores while the rows still come out in order.
#pragma once

#include <arrow/record_batch.h>

#include <cstdint>
#include <memory>

#include "tickforge/panel/plan_internal.h"

namespace tickforge::panel {

/// Symbols up to this size (uncompressed, from Parquet metadata) are read ahead whole.
inline constexpr int64_t kReadAheadSymbolBytes = 128 << 20;

/// Return a reader of the plan's inputs in turn, each streamed as the consumer asks.
[[nodiscard]] std::shared_ptr<arrow::RecordBatchReader> MakeSymbolOrderReader(std::shared_ptr<const Plan> plan,
                                                                              bool use_threads);

/// Return a reader of the plan's inputs in turn whose `workers` threads read and normalize up
/// to workers + 1 symbols ahead of the consumer. A symbol larger than `symbol_bytes` is
/// streamed by the consumer instead of held whole.
[[nodiscard]] std::shared_ptr<arrow::RecordBatchReader> MakeReadAheadReader(std::shared_ptr<const Plan> plan,
                                                                            int workers, int64_t symbol_bytes);

}  // namespace tickforge::panel
