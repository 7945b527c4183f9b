// Hyperliquid `l2Book` captures: `<receive ns> {"channel":"l2Book","data":{"coin":"BTC",
// "time":ms,"levels":[[bids],[asks]]}}` lines, each level {"px","sz","n"}. Every message is a
// full snapshot of the top levels, so each replaces the book and is one row; other channels
// (trades, subscription answers) are skipped and counted.
//
// Rows: ts_event is the message's time (ms, as ns), ts_recv the collector's receive time,
// sequence 0 (Hyperliquid has no update id), flags F_SNAPSHOT; the counts are the real order
// counts `n`.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tickforge/book/depth_feed.h"

namespace tickforge::book {

/// Return the coin of the first l2Book message on `line` ("BTC"), or "".
[[nodiscard]] std::string ProbeHyperliquidSymbol(std::string_view line);

/// Make the feed of one Hyperliquid capture.
[[nodiscard]] std::unique_ptr<DepthFeed> MakeHyperliquidFeed(const DepthFeedOptions& options);

}  // namespace tickforge::book
