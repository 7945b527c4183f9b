// What every depth-stream venue parser shares: the counts of a file (DepthStats) and the
// interface the reader drives (DepthFeed): lines go in, book states that are rows come out.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/book/book.h"
#include "tickforge/book/mbp_rows.h"
#include "tickforge/util/status.h"

namespace tickforge::book {

/// A break in a venue's update-id chain: rows stop here until the book is whole again.
struct DepthGap {
  int64_t line = 0;       ///< the 1-based line of the event that broke the chain
  uint64_t expected = 0;  ///< the id the rules required (spot: U; futures: pu; first event: id to straddle)
  uint64_t got = 0;       ///< the id the event had
  std::string reason;     ///< "pu != previous u", "U != previous u + 1", "first event does not straddle"
};

/// What a depth build saw in one file.
struct DepthStats {
  std::string input;
  std::string output;
  std::string format;       ///< binance, bybit, hyperliquid, binance-csv
  std::string symbol;
  int size_scale = 0;       ///< sizes are integers of 10^-size_scale units
  int64_t lines = 0;        ///< lines read (a CSV's header included)
  int64_t messages = 0;     ///< JSON messages or CSV records parsed
  int64_t events = 0;       ///< book updates of the venue (depth events, snapshots, deltas)
  int64_t rows = 0;         ///< rows produced (one per applied event)
  int64_t snapshots = 0;    ///< snapshots applied (Binance's REST snapshot, Bybit's, Hyperliquid's)
  int64_t stale = 0;        ///< events older than the snapshot they follow (dropped by the sync rules)
  int64_t unsynced = 0;     ///< events with no valid book to apply to (no snapshot yet, or after a gap)
  int64_t skipped = 0;      ///< messages of other streams (bookTicker, trade), counted not applied
  int64_t crossed = 0;      ///< rows whose best bid is at or above the best ask
  int64_t gaps = 0;
  std::vector<DepthGap> gap_list;  ///< the first kMaxGapsListed gaps
  int64_t input_bytes = 0;
  int64_t output_bytes = 0;

  static constexpr size_t kMaxGapsListed = 100;

  /// Return the stats as JSON (gap_list as objects).
  [[nodiscard]] nlohmann::ordered_json ToJson() const;
};

/// One venue's parser and book. The reader hands it lines and then asks for rows until it has
/// none, so a line that releases many buffered events yields them one at a time.
/// The options every feed needs.
struct DepthFeedOptions {
  std::string path;      ///< named in every error
  int size_scale = 8;
  bool strict = false;   ///< a gap is an error naming the file and the line
};

class DepthFeed {
 public:
  virtual ~DepthFeed() = default;
  /// Parse line `line` (1-based) of the file; queue or apply what it says.
  [[nodiscard]] virtual Status Line(std::string_view text, int64_t line) = 0;
  /// Apply queued work until a row is due: return true with `*event` set (book() is the row's
  /// state), or false when the feed needs the next line.
  [[nodiscard]] virtual Result<bool> Next(RowEvent* event) = 0;
  /// Check what the end of the input leaves (a snapshot that never came is an error).
  [[nodiscard]] virtual Status Finish(int64_t last_line) = 0;

  [[nodiscard]] const Book& book() const { return book_; }
  [[nodiscard]] DepthStats& stats() { return stats_; }

 protected:
  /// Start the counts of a `format` feed of `options.path`.
  DepthFeed(DepthFeedOptions options, std::string format) : options_(std::move(options)) {
    stats_.input = options_.path;
    stats_.format = std::move(format);
    stats_.size_scale = options_.size_scale;
  }

  DepthFeedOptions options_;
  Book book_;
  DepthStats stats_;
};

/// A feed whose every applied message is one row (Bybit, Hyperliquid): Line() fills row_ and
/// sets has_row_, Next() hands it out.
class OneRowPerMessageFeed : public DepthFeed {
 public:
  [[nodiscard]] Result<bool> Next(RowEvent* event) override {
    if (!has_row_) return false;
    has_row_ = false;
    *event = row_;
    ++stats_.rows;
    stats_.crossed += book_.crossed();
    return true;
  }

 protected:
  using DepthFeed::DepthFeed;

  RowEvent row_;
  bool has_row_ = false;
};

/// Return `symbol` with every byte outside printable ASCII replaced by '?': venue symbols are
/// ASCII, and a symbol goes into UTF-8 columns and JSON that bad input must not break.
[[nodiscard]] inline std::string CleanSymbol(std::string_view symbol) {
  std::string out(symbol);
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

}  // namespace tickforge::book
