// The time row order: a k-way merge over the inputs, each sorted by time, ties in symbol order,
// null times last. Parquet inputs are first spilled (normalized and filtered) to Arrow IPC files
// read back a few rows per symbol at a time, so memory stays bounded by merge_memory whatever
// the number of symbols; without streaming they are read into memory instead.
#pragma once

#include <arrow/record_batch.h>

#include <cstdint>
#include <filesystem>
#include <memory>

#include "tickforge/panel/plan_internal.h"

namespace tickforge::panel {

/// The merge, as a reader of the panel's batches.
class TimeOrderReader : public arrow::RecordBatchReader {
 public:
  /// Return the bytes of the spill files written so far.
  [[nodiscard]] virtual int64_t spilled_bytes() const = 0;
};

/// Return the merge of the plan's inputs. Spill files go to a private folder under `spill_dir`
/// (the system temp directory when empty), made when the first batch is read and removed with
/// the reader.
[[nodiscard]] std::shared_ptr<TimeOrderReader> MakeTimeOrderReader(std::shared_ptr<const Plan> plan, bool use_threads,
                                                                   std::filesystem::path spill_dir);

}  // namespace tickforge::panel
