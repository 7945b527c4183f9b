// Binance diff-depth streams (spot, USD-M and COIN-M `depthUpdate` events) synchronised with a
// REST snapshot by Binance's documented rules, as the public collectors capture them: gzip
// lines `<receive ns> <combined-stream json>`, the snapshot as one `{"lastUpdateId":...}`
// line among them. Other streams of the capture (bookTicker, trade) are skipped and counted.
//
// The rules (BinanceSync): events arriving before the snapshot are buffered; after it, events
// with u < lastUpdateId (spot: u <= lastUpdateId) are dropped as stale; the first applied
// event must straddle it (futures U <= lastUpdateId <= u, spot U <= lastUpdateId + 1 <= u);
// after that every futures event's pu must equal the previous u and every spot event's U the
// previous u + 1. A break is a gap: it is reported with its line, the book is invalid and no
// row is written until the next snapshot synchronises it again.
//
// Rows: one per applied event. ts_event is the event time E (ms, as ns), ts_recv the
// collector's receive time, sequence the event's u; the event columns that describe one order
// (action, side, price, size) are empty, as a depth event changes many levels. Counts are 0.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tickforge/book/depth_feed.h"

namespace tickforge::book {

/// A depth event's ids: U, u, and pu (futures only).
struct BinanceIds {
  uint64_t first = 0;              ///< U
  uint64_t last = 0;               ///< u
  std::optional<uint64_t> prev;    ///< pu; absent on spot
};

/// Binance's synchronisation rules over update ids, apart from any book.
class BinanceSync {
 public:
  enum class Verdict : uint8_t {
    kWait,   ///< no valid snapshot: keep the event for the next one
    kStale,  ///< older than the snapshot: drop it
    kApply,  ///< apply it; the chain continues from its u
    kGap,    ///< it breaks the chain: the book is invalid until the next snapshot
  };

  /// Start from a snapshot's lastUpdateId. Return false, changing nothing, when the book is
  /// already synchronised past it (an older snapshot than the stream: the live book is newer).
  bool Snapshot(uint64_t last_update_id);
  /// Judge the next event and advance the state (kApply records its u, kGap invalidates).
  [[nodiscard]] Verdict Check(const BinanceIds& ids);
  /// Return true when events are being applied.
  [[nodiscard]] bool synced() const { return state_ == State::kSynced; }
  /// Describe the last kGap: the id expected, the id seen and which rule broke.
  [[nodiscard]] const DepthGap& last_gap() const { return gap_; }

 private:
  enum class State : uint8_t { kNoSnapshot, kFirst, kSynced };
  State state_ = State::kNoSnapshot;
  uint64_t snapshot_id_ = 0;
  uint64_t prev_ = 0;
  DepthGap gap_;
};

/// Return the decimals of the first quantity in a Binance capture line (a depth event's, the
/// snapshot's, or a bookTicker's), which Binance pads to the market's size precision, and the
/// symbol the line names; nullopt decimals when the line has no quantity.
struct BinanceProbe {
  std::optional<int> size_decimals;
  std::string symbol;
};
[[nodiscard]] BinanceProbe ProbeBinanceLine(std::string_view line);

/// Make the feed of one capture file.
[[nodiscard]] std::unique_ptr<DepthFeed> MakeBinanceFeed(const DepthFeedOptions& options);

}  // namespace tickforge::book
