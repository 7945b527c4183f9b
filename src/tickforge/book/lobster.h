// LOBSTER files (lobsterdata.com: NASDAQ books rebuilt from TotalView-ITCH) to book rows: a
// message file and its orderbook file, any number of levels, one MBP-N row per message, row i
// being the book after message i as LOBSTER's own orderbook file states it (DESIGN.md §3.6).
//
// The book is a price-level book (book/price_levels.h, counts 0: LOBSTER has no order counts).
// The start-of-day book is not in the messages, and a LOBSTER message file holds only the
// events inside the requested levels, so a level that moves up from outside them is known to
// the orderbook file alone. The rebuild therefore works row by row:
//   - the book before message 0 is orderbook row 0 minus message 0's effect; the book before
//     message i is orderbook row i-1;
//   - message i is applied to it (submit adds its size at its price, cancel, delete and
//     visible execution take theirs off; hidden executions, crosses and halts change nothing);
//   - the levels at prices the previous row covered (at least as good as its deepest level, or
//     the whole side when it had empty levels) are the messages' result; only deeper levels
//     come from orderbook row i;
//   - where the messages' levels differ from orderbook row i, the row keeps the messages'
//     levels and the mismatch is counted (anomaly lobster_mismatch; strict: an error naming
//     the message file and line). The real samples have none.
// Times: the date (from the file name, or the `date` option) plus the seconds after midnight,
// parsed exactly from their decimals; they are New York exchange time as LOBSTER writes them,
// stored as if UTC. Prices: USD x 10^4 -> 1e-9 fixed point; the dummy prices +-9999999999 of
// empty levels become undefined levels. Halts (type 7) change nothing, write action 'N' and
// are counted in stats.halts.
#pragma once

#include <arrow/record_batch.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "tickforge/book/mbo_reader.h"
#include "tickforge/book/options.h"
#include "tickforge/dbn/metadata.h"
#include "tickforge/util/status.h"

namespace tickforge::book {

/// A LOBSTER message file, its orderbook file, and what LOBSTER's naming states about them.
struct LobsterFiles {
  std::string message;
  std::string orderbook;
  std::string ticker;   ///< "" when the name states none (message.csv)
  uint32_t date = 0;    ///< YYYYMMDD; 0 when the name states none
  int64_t start_ms = -1;  ///< the file's start and end in ms after midnight, -1 when unnamed
  int64_t end_ms = -1;
  int levels = 0;       ///< the levels the name states, 0 when none
};

/// Return true when `path` is named as a LOBSTER message file: TICKER_YYYY-MM-DD_START_END_
/// message_LEVEL.csv, or message.csv (as the AMZN/GOOG samples are saved).
[[nodiscard]] bool IsLobsterMessageFile(const std::filesystem::path& path);

/// Return the message file and its orderbook file: `orderbook` when given, else the file beside
/// `message` named by LOBSTER's convention ("_message_" -> "_orderbook_", "message.csv" ->
/// "orderbook.csv"); fail, naming it, when that file does not exist.
[[nodiscard]] Result<LobsterFiles> FindLobsterFiles(const std::string& message, const std::string& orderbook = "");

/// Parse LOBSTER seconds after midnight ("34200.017459617", "57599.95935965", "36023") into
/// nanoseconds, exactly: at most 9 decimals, no sign, no exponent.
[[nodiscard]] Result<int64_t> ParseLobsterTime(std::string_view text);

/// Return the Parquet name of a LOBSTER message file's rows: "AAPL_2012-06-21_34200000_57600000
/// _message_10.csv" -> "AAPL_2012-06-21_34200000_57600000.mbp-10.parquet"; message.csv takes the
/// symbol: "<symbol>_message.mbp-10.parquet".
[[nodiscard]] std::string LobsterParquetNameFor(const std::filesystem::path& message, const BookOptions& options);

namespace lobster_internal {
class LobsterReplay;
}  // namespace lobster_internal
class MbpRowBuilder;

/// The rows of one LOBSTER message/orderbook pair as record batches (MbpSchema's columns,
/// options.levels levels; levels past the file's are undefined).
class LobsterBookReader : public arrow::RecordBatchReader {
 public:
  /// Open the message file `message` and its orderbook file (options.orderbook, or found
  /// beside it). Fails on a missing date (not in the name and no options.date).
  [[nodiscard]] static Result<std::shared_ptr<LobsterBookReader>> Open(const std::string& message,
                                                                      const BookOptions& options = {});
  ~LobsterBookReader() override;

  [[nodiscard]] std::shared_ptr<arrow::Schema> schema() const override;
  [[nodiscard]] Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override;

  /// Return the counts so far; complete once ReadNext has returned the end of the stream.
  [[nodiscard]] const BookStats& stats() const;
  /// Return the DBN metadata the rows are described by (dataset LOBSTER, the ticker mapped to
  /// its instrument id for the file's day).
  [[nodiscard]] const dbn::Metadata& metadata() const;
  /// Return the files read.
  [[nodiscard]] const LobsterFiles& files() const;

 private:
  LobsterBookReader() = default;
  std::unique_ptr<lobster_internal::LobsterReplay> replay_;
  std::unique_ptr<MbpRowBuilder> builder_;
  bool done_ = false;
};

}  // namespace tickforge::book
