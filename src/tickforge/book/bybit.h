// Bybit `orderbook.N` streams: JSON lines `{"topic":"orderbook.500.XRPUSDT","type":"snapshot"
// |"delta","ts":...,"data":{"s":...,"b":[[price,size]...],"a":[...],"u":...,"seq":...}}`, as
// Bybit's historical `.data` files (zipped or not) hold them, or behind a collector's
// `<receive ns> ` prefix. A snapshot replaces the book; a delta sets each level it names
// (size 0 removes it). Every delta's u must be the previous u + 1: a break is a gap, reported
// with its line, and no row is written until the next snapshot.
//
// Rows: one per snapshot or delta applied. ts_event is the message's ts (ms, as ns); ts_recv
// the collector's receive time, or, for Bybit's own files that have none, ts again with
// F_BAD_TS_RECV set; sequence is u. Counts are 0 (Bybit sends none).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tickforge/book/depth_feed.h"

namespace tickforge::book {

/// Return the symbol a Bybit line's topic names ("XRPUSDT"), or "".
[[nodiscard]] std::string ProbeBybitSymbol(std::string_view line);

/// Make the feed of one Bybit file.
[[nodiscard]] std::unique_ptr<DepthFeed> MakeBybitFeed(const DepthFeedOptions& options);

}  // namespace tickforge::book
