// One input's batches in the panel's schema, the cross-sectional filters applied: the stream
// both row orders read each symbol through (the time order also for its spill files).
#pragma once

#include <arrow/array.h>
#include <arrow/record_batch.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tickforge/panel/plan_internal.h"
#include "tickforge/panel/source_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::panel {

/// A batch in the panel's schema.
struct Normalized {
  std::shared_ptr<arrow::RecordBatch> batch;
  std::shared_ptr<arrow::Int64Array> keys;  // time keys of the rows, when asked for
};

/// Input `index` of a plan, batch by batch: its symbol column checked, the filters applied, the
/// columns cast to the output types (missing ones null), the symbol column filled in.
class SourceStream {
 public:
  /// `need_keys`: return the rows' time keys too (always when the plan filters).
  SourceStream(std::shared_ptr<const Plan> plan, size_t index, int64_t batch_rows, bool need_keys, bool use_threads)
      : plan_(std::move(plan)),
        index_(index),
        source_(plan_->sources[index]),
        raw_(source_, plan_->read_columns, batch_rows, use_threads, true),
        need_keys_(need_keys || plan_->filtered),
        symbol_hash_(plan_->symbol_hashes[index]) {}

  /// Return the next batch, nullopt at the end; never an empty batch. With release_inputs, an
  /// in-memory input is dropped once read to its end.
  [[nodiscard]] Result<std::optional<Normalized>> Next();

  [[nodiscard]] const std::shared_ptr<Source>& source() const { return source_; }
  [[nodiscard]] std::string current_name() const { return raw_.current_name(); }
  [[nodiscard]] int64_t row() const { return raw_.row(); }

 private:
  [[nodiscard]] Status CheckSymbols(const std::shared_ptr<arrow::Array>& column) const;
  [[nodiscard]] Result<Normalized> Normalize(std::shared_ptr<arrow::RecordBatch> raw);
  /// Return the rows the cross-sectional filters keep, or null when they keep every row.
  [[nodiscard]] Result<std::shared_ptr<arrow::BooleanArray>> Mask(const arrow::RecordBatch& raw,
                                                                  const arrow::Int64Array& keys);
  [[nodiscard]] Result<std::shared_ptr<arrow::Array>> SymbolColumn(int64_t n);

  std::shared_ptr<const Plan> plan_;
  size_t index_;
  std::shared_ptr<Source> source_;
  RawReader raw_;
  bool need_keys_;
  uint64_t symbol_hash_;
  std::shared_ptr<arrow::Array> symbols_;
};

}  // namespace tickforge::panel
