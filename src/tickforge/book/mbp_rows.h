// Book rows in Databento's MBP-10 columns: one row is "the book of one instrument at one venue
// after an event", with the event's fields (what happened) and the best levels (the state).
// Every book source writes its rows through this, so labels, images and the loader take them
// as they take converted MBP-10 files.
#pragma once

#include <arrow/buffer.h>
#include <arrow/record_batch.h>
#include <arrow/type_fwd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tickforge/book/book.h"
#include "tickforge/dbn/records.h"
#include "tickforge/dbn/to_arrow.h"
#include "tickforge/util/status.h"

namespace tickforge::book {

/// The most levels a row holds (column names have two digits).
inline constexpr int kMaxLevels = 99;

/// The event fields of one row, as the source's last record of the event states them.
struct RowEvent {
  uint64_t ts_recv = dbn::kUndefTimestamp;
  uint64_t ts_event = dbn::kUndefTimestamp;
  uint16_t publisher_id = 0;
  uint32_t instrument_id = 0;
  char action = 0;  ///< 0 writes ""
  char side = 0;
  uint8_t depth = 0;  ///< the level of the update: how many levels of its side are better
  int64_t price = dbn::kUndefPrice;
  uint64_t size = 0;  ///< written as uint32 unless the rows are wide
  uint8_t flags = 0;
  int32_t ts_in_delta = 0;
  uint64_t sequence = 0;  ///< the venue's update id (as uint32 unless the rows are wide)
  uint64_t ts_out = dbn::kUndefTimestamp;  ///< written only when the rows have ts_out
};

struct MbpRowOptions {
  /// Levels per side: 10 gives exactly the MBP-10 columns; others the same pattern (MBP-N).
  int levels = dbn::kMbp10Levels;
  /// Add the ts_out column (for sources whose records carry one, as DBN with ts_out).
  bool ts_out = false;
  /// Add the `symbol` column, resolved from the source's symbology.
  bool map_symbols = true;
  /// Rows per batch; the builder's memory is allocated for this many at a time.
  int64_t batch_rows = 1 << 16;
  /// Write size, sequence and the level sizes as uint64 instead of DBN's uint32: depth
  /// streams' fixed-point sizes (1e-8 BTC) and update ids (Binance's 5e12) do not fit 32 bits.
  bool wide = false;
};

/// Return the schema of the rows: the columns, types and nullability dbn/to_arrow gives an
/// MBP-10 file read with fixed-point prices (ts_recv, ts_event, rtype, publisher_id,
/// instrument_id, action, side, depth, price, size, flags, ts_in_delta, sequence, bid_px_00 ...
/// ask_ct_NN, then ts_out and symbol when asked for).
[[nodiscard]] Result<std::shared_ptr<arrow::Schema>> MbpSchema(const MbpRowOptions& options);

/// Collect rows into record batches without allocating per row.
class MbpRowBuilder {
 public:
  /// `symbols` (may be null: every symbol null) must outlive the builder.
  [[nodiscard]] static Result<std::unique_ptr<MbpRowBuilder>> Make(const MbpRowOptions& options,
                                                                    const dbn::SymbolMap* symbols);

  [[nodiscard]] const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }
  [[nodiscard]] int64_t rows() const { return rows_; }
  /// Return true when a batch's worth of rows waits for Finish(); Append needs !full().
  [[nodiscard]] bool full() const { return rows_ >= options_.batch_rows; }

  /// Append the row of `book` after `event`: levels best first; missing levels have an
  /// undefined price, size 0 and count 0; unless the rows are wide, sizes above UINT32_MAX are
  /// written as UINT32_MAX and the sequence is truncated to 32 bits, as in DBN.
  /// Fails only when memory for a long symbol cannot be had.
  [[nodiscard]] Status Append(const RowEvent& event, const Book& book);

  /// Drop the cached symbol lookup: call after the symbol map gained mappings.
  void SymbolsChanged();

  /// Return the rows appended since the last call as one batch.
  [[nodiscard]] Result<std::shared_ptr<arrow::RecordBatch>> Finish();

 private:
  MbpRowBuilder(const MbpRowOptions& options, const dbn::SymbolMap* symbols, std::shared_ptr<arrow::Schema> schema)
      : options_(options), symbols_(symbols), schema_(std::move(schema)) {}
  [[nodiscard]] Status Allocate();
  [[nodiscard]] uint8_t* Values(size_t column) { return columns_[column]->mutable_data(); }

  MbpRowOptions options_;
  const dbn::SymbolMap* symbols_;
  std::shared_ptr<arrow::Schema> schema_;
  // One values buffer per fixed-width column, in schema order (the two char columns and the
  // symbol have their own), each allocated for batch_rows rows.
  std::vector<std::shared_ptr<arrow::ResizableBuffer>> columns_;
  std::shared_ptr<arrow::ResizableBuffer> action_offsets_, action_data_, side_offsets_, side_data_;
  std::shared_ptr<arrow::ResizableBuffer> symbol_offsets_, symbol_data_, symbol_validity_;
  int64_t rows_ = 0;
  int32_t action_at_ = 0, side_at_ = 0, symbol_at_ = 0;
  int64_t symbol_nulls_ = 0, ts_recv_undef_ = 0, ts_event_undef_ = 0, ts_out_undef_ = 0;
  // The last symbol lookup: rows come in runs of one instrument on one day.
  uint32_t last_id_ = 0;
  int64_t last_day_ = INT64_MIN;
  const std::string* last_symbol_ = nullptr;
};

}  // namespace tickforge::book
