// Databento MBO files replayed into book rows: the records are applied as book/mbo.h says, and
// after each record with F_LAST (the end of an event) the book it changed becomes one row
// (book/mbp_rows.h), carrying that record's ts_event, ts_recv, action, side, price, size,
// flags and sequence. Records after the last F_LAST are counted, not shown.
#pragma once

#include <arrow/record_batch.h>

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "tickforge/book/anomaly.h"
#include "tickforge/book/options.h"
#include "tickforge/dbn/decoder.h"
#include "tickforge/util/status.h"

namespace tickforge::book {

/// What a replay saw in one file.
struct BookStats {
  std::string input;
  std::string output;      ///< where a build wrote the rows ("" for a stream)
  int64_t records = 0;     ///< records of every type
  int64_t messages = 0;    ///< MBO records applied
  int64_t events = 0;      ///< records with F_LAST
  int64_t rows = 0;        ///< rows produced (one per event; 0 for a replay without rows)
  int64_t trailing = 0;    ///< MBO records after the last F_LAST, in no row
  int64_t crossed = 0;     ///< events after which the book's best bid is at or above its best ask
  int64_t books = 0;       ///< (instrument_id, publisher_id) pairs seen
  int64_t orders = 0;      ///< orders resting at the end
  int64_t halts = 0;       ///< LOBSTER trading-halt messages (type 7: halt, quote, resume)
  AnomalyCounts anomalies;
  int64_t input_bytes = 0;
  int64_t output_bytes = 0;

  /// Return the stats as JSON, anomalies as {name: count}.
  [[nodiscard]] nlohmann::ordered_json ToJson() const;
};

class MboReplay;
class MbpRowBuilder;

/// The rows of one MBO file as record batches (MbpSchema's columns).
class MboBookReader : public arrow::RecordBatchReader {
 public:
  /// Open an MBO DBN file (raw or zstd, v1-v3, or mixed-schema data: its MBO records).
  [[nodiscard]] static Result<std::shared_ptr<MboBookReader>> Open(const std::string& path,
                                                                   const BookOptions& options = {});
  /// Read from an already opened decoder.
  [[nodiscard]] static Result<std::shared_ptr<MboBookReader>> Open(std::unique_ptr<dbn::Decoder> decoder,
                                                                   const BookOptions& options = {});
  ~MboBookReader() override;

  [[nodiscard]] std::shared_ptr<arrow::Schema> schema() const override;
  [[nodiscard]] Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override;

  /// Return the counts so far; complete once ReadNext has returned the end of the stream.
  [[nodiscard]] const BookStats& stats() const;
  /// Return the input's metadata.
  [[nodiscard]] const dbn::Metadata& metadata() const;
  /// Return how many bytes of the raw file were read, and its size (for progress).
  [[nodiscard]] int64_t raw_position() const;
  [[nodiscard]] int64_t raw_size() const;

 private:
  MboBookReader() = default;
  std::unique_ptr<MboReplay> replay_;
  std::unique_ptr<MbpRowBuilder> builder_;
  bool done_ = false;
};

/// Replay an MBO file's records into its books without producing rows (the cost of the book
/// itself: decode and apply); stats.rows stays 0.
[[nodiscard]] Result<BookStats> ReplayMbo(const std::string& path, const BookOptions& options = {});

}  // namespace tickforge::book
