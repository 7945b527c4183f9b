// Binance's historical order-book CSV (`symbol,timestamp,first_update_id,last_update_id,side,
// update_type,price,qty,pu`): consecutive rows with the same update ids and type are one
// event. `snap` rows are a snapshot (it replaces the book and is a row, flagged F_SNAPSHOT);
// `set` rows are a depth event judged by the same rules as the streams (book/binance_depth.h:
// stale, straddle, pu or U chain), so a file of updates alone has no snapshot and is refused.
//
// Rows: ts_event is the timestamp (ms, as ns); the file has no receive time, so ts_recv is the
// same with F_BAD_TS_RECV set; sequence is last_update_id.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "tickforge/book/depth_feed.h"

namespace tickforge::book {

/// Return the decimals of a data row's qty (Binance pads them to the market's precision).
[[nodiscard]] std::optional<int> ProbeBinanceCsvLine(std::string_view line);

/// Make the feed of one CSV file.
[[nodiscard]] std::unique_ptr<DepthFeed> MakeBinanceCsvFeed(const DepthFeedOptions& options);

}  // namespace tickforge::book
