#include "tickforge/book/binance_depth.h"

#include <simdjson.h>

#include <cctype>
#include <deque>

#include "tickforge/book/decimal.h"
#include "tickforge/book/depth_lines.h"
#include "tickforge/book/depth_json_internal.h"
#include "tickforge/dbn/records.h"

namespace tickforge::book {

namespace od = simdjson::ondemand;

bool BinanceSync::Snapshot(uint64_t last_update_id) {
  if (state_ == State::kSynced && last_update_id <= prev_) return false;
  snapshot_id_ = last_update_id;
  state_ = State::kFirst;
  return true;
}

BinanceSync::Verdict BinanceSync::Check(const BinanceIds& ids) {
  const bool futures = ids.prev.has_value();
  switch (state_) {
    case State::kNoSnapshot:
      return Verdict::kWait;
    case State::kFirst: {
      // Futures: drop u < lastUpdateId, then U <= lastUpdateId <= u. Spot: drop
      // u <= lastUpdateId, then U <= lastUpdateId + 1 <= u.
      const uint64_t target = futures ? snapshot_id_ : snapshot_id_ + 1;
      if (ids.last < target) return Verdict::kStale;
      if (ids.first <= target) {
        state_ = State::kSynced;
        prev_ = ids.last;
        return Verdict::kApply;
      }
      gap_ = DepthGap{0, target, ids.first, "first event after the snapshot does not straddle it (U > lastUpdateId)"};
      state_ = State::kNoSnapshot;
      return Verdict::kGap;
    }
    case State::kSynced: {
      const bool chained = futures ? *ids.prev == prev_ : ids.first == prev_ + 1;
      if (chained && ids.last >= ids.first) {
        prev_ = ids.last;
        return Verdict::kApply;
      }
      gap_ = futures ? DepthGap{0, prev_, *ids.prev, "pu != previous u"}
                     : DepthGap{0, prev_ + 1, ids.first, "U != previous u + 1"};
      if (chained) gap_.reason = "u < U";
      state_ = State::kNoSnapshot;
      return Verdict::kGap;
    }
  }
  return Verdict::kWait;
}

namespace {

// Binance's stream names are lower case ("btcusdt@depth@100ms"); symbols are upper.
std::string UpperSymbol(std::string_view stream) {
  std::string out(stream.substr(0, stream.find('@')));
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::optional<int> FirstQuantityDecimals(od::value value) {
  od::array levels;
  if (value.get_array().get(levels)) return std::nullopt;
  for (auto level : levels) {
    od::array pair;
    if (level.get_array().get(pair)) return std::nullopt;
    int i = 0;
    for (auto item : pair) {
      std::string_view text;
      if (item.get_string().get(text)) return std::nullopt;
      if (i++ == 1) {
        const int places = DecimalPlaces(text);
        return places < 0 ? std::nullopt : std::optional<int>(places);
      }
    }
  }
  return std::nullopt;
}

struct BinanceEvent {
  uint64_t ts_recv = 0;
  uint64_t ts_event = dbn::kUndefTimestamp;
  int64_t line = 0;
  BinanceIds ids;
  std::vector<LevelChange> bids, asks;
};

class BinanceFeed : public DepthFeed {
 public:
  explicit BinanceFeed(const DepthFeedOptions& options) : DepthFeed(options, "binance") {}

  Status Line(std::string_view text, int64_t line) override {
    ++stats_.lines;
    if (text.empty()) return Status::OK();
    uint64_t recv = 0;
    JsonContext cx{options_.path, line};
    od::document doc;
    od::object root;
    std::string_view json;
    ARROW_RETURN_NOT_OK(ParseCaptureLine(parser_, cx, text, &recv, &json, &doc, &root));
    ++stats_.messages;
    BinanceEvent* event = nullptr;
    bool skip = false;
    bool is_snapshot = false, has_bids = false, has_asks = false;
    uint64_t snapshot_id = 0;
    for (auto field : root) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return cx.Fail(e, "JSON key");
      if (key == "stream") {
        std::string_view stream;
        if (auto e = field.value().get_string().get(stream)) return cx.Fail(e, "stream");
        const size_t at = stream.find('@');
        const std::string_view channel = at == std::string_view::npos ? "" : stream.substr(at + 1);
        if (!channel.starts_with("depth")) skip = true;
        if (stats_.symbol.empty()) stats_.symbol = UpperSymbol(stream);
      } else if (key == "data") {
        if (skip) break;
        od::object data;
        if (auto e = field.value().get_object().get(data)) return cx.Fail(e, "data");
        event = Recycled();
        event->ts_recv = recv;
        event->line = line;
        bool is_depth = false;
        ARROW_RETURN_NOT_OK(ParseEvent(cx, data, event, &is_depth));
        if (!is_depth) {
          free_.push_back(event);
          event = nullptr;
          skip = true;
        }
      } else if (key == "lastUpdateId") {
        if (auto e = field.value().get_uint64().get(snapshot_id)) return cx.Fail(e, "lastUpdateId");
        is_snapshot = true;
        snapshot_bids_.clear();
        snapshot_asks_.clear();
      } else if (key == "bids" || key == "asks") {
        // The REST snapshot's levels (its lastUpdateId comes first in Binance's answer).
        if (!is_snapshot) return InputLineError(cx.path, cx.line, "{} before lastUpdateId", key);
        ARROW_RETURN_NOT_OK(ParseLevels(cx, field.value(), options_.size_scale,
                                        key == "bids" ? &snapshot_bids_ : &snapshot_asks_));
        (key == "bids" ? has_bids : has_asks) = true;
      } else if (key == "symbol" && stats_.symbol.empty()) {
        std::string_view symbol;
        if (auto e = field.value().get_string().get(symbol)) return cx.Fail(e, "symbol");
        stats_.symbol = std::string(symbol);
      }
    }
    if (is_snapshot) {
      if (!has_bids || !has_asks) return InputLineError(cx.path, cx.line, "snapshot without bids and asks");
      ApplySnapshot(snapshot_id);
      return Status::OK();
    }
    if (event != nullptr) {
      ++stats_.events;
      pending_.push_back(event);
      // While there is no valid book, keep only the newest events: older ones will be stale
      // against any later snapshot.
      if (!sync_.synced() && pending_.size() > kMaxPending) {
        free_.push_back(pending_.front());
        pending_.pop_front();
        ++stats_.unsynced;
      }
    } else {
      ARROW_RETURN_NOT_OK(CheckWholeMessage(whole_parser_, cx, json));
      ++stats_.skipped;
    }
    return Status::OK();
  }

  Result<bool> Next(RowEvent* row) override {
    while (!pending_.empty()) {
      BinanceEvent* event = pending_.front();
      const auto verdict = sync_.Check(event->ids);
      if (verdict == BinanceSync::Verdict::kWait) return false;
      if (verdict == BinanceSync::Verdict::kGap) {
        DepthGap gap = sync_.last_gap();
        gap.line = event->line;
        if (options_.strict) {
          return InputLineError(options_.path, event->line, "gap in the depth stream: {} (expected {}, got {})",
                                gap.reason, gap.expected, gap.got);
        }
        ++stats_.gaps;
        if (stats_.gap_list.size() < DepthStats::kMaxGapsListed) stats_.gap_list.push_back(std::move(gap));
        book_.Clear();
        continue;  // the event stays queued: the next snapshot judges it again
      }
      pending_.pop_front();
      free_.push_back(event);
      if (verdict == BinanceSync::Verdict::kStale) {
        ++stats_.stale;
        continue;
      }
      for (const auto& c : event->bids) book_.bids.Set(c.price, c.size, 0);
      for (const auto& c : event->asks) book_.asks.Set(c.price, c.size, 0);
      *row = RowEvent{};
      row->ts_recv = event->ts_recv;
      row->ts_event = event->ts_event;
      row->flags = dbn::flag::kLast | dbn::flag::kMbp;
      row->sequence = event->ids.last;
      ++stats_.rows;
      stats_.crossed += book_.crossed();
      return true;
    }
    return false;
  }

  Status Finish(int64_t last_line) override {
    if (stats_.snapshots == 0 && stats_.events > 0) {
      return InputLineError(options_.path, last_line,
                            "no REST snapshot (a {{\"lastUpdateId\":...}} line) in the file: its {} depth events "
                            "cannot be synchronised",
                            stats_.events);
    }
    stats_.unsynced += static_cast<int64_t>(pending_.size());
    return Status::OK();
  }

 private:
  static constexpr size_t kMaxPending = 1 << 16;

  BinanceEvent* Recycled() {
    if (free_.empty()) {
      owned_.push_back(std::make_unique<BinanceEvent>());
      return owned_.back().get();
    }
    BinanceEvent* event = free_.back();
    free_.pop_back();
    event->bids.clear();
    event->asks.clear();
    event->ids = {};
    event->ts_event = dbn::kUndefTimestamp;
    return event;
  }

  Status ParseEvent(const JsonContext& cx, od::object& data, BinanceEvent* event, bool* is_depth) {
    bool has_first = false, has_last = false;
    for (auto field : data) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return cx.Fail(e, "JSON key");
      if (key.size() > 2) continue;
      if (key == "e") {
        std::string_view type;
        if (auto e = field.value().get_string().get(type)) return cx.Fail(e, "e");
        if (type != "depthUpdate") return Status::OK();
        *is_depth = true;
      } else if (key == "E") {
        uint64_t ms = 0;
        if (auto e = field.value().get_uint64().get(ms)) return cx.Fail(e, "E");
        event->ts_event = ms * 1000000;
      } else if (key == "U") {
        if (auto e = field.value().get_uint64().get(event->ids.first)) return cx.Fail(e, "U");
        has_first = true;
      } else if (key == "u") {
        if (auto e = field.value().get_uint64().get(event->ids.last)) return cx.Fail(e, "u");
        has_last = true;
      } else if (key == "pu") {
        uint64_t pu = 0;
        if (auto e = field.value().get_uint64().get(pu)) return cx.Fail(e, "pu");
        event->ids.prev = pu;
      } else if (key == "s") {
        std::string_view s;
        if (auto e = field.value().get_string().get(s)) return cx.Fail(e, "s");
        if (stats_.symbol.empty()) stats_.symbol = std::string(s);
      } else if (key == "b" || key == "a") {
        if (!*is_depth) return Status::OK();
        ARROW_RETURN_NOT_OK(ParseLevels(cx, field.value(), options_.size_scale, key == "b" ? &event->bids : &event->asks));
      }
    }
    if (*is_depth && (!has_first || !has_last)) {
      return InputLineError(cx.path, cx.line, "depthUpdate without U and u");
    }
    return Status::OK();
  }

  void ApplySnapshot(uint64_t id) {
    if (!sync_.Snapshot(id)) {
      ++stats_.skipped;  // older than the book already synchronised
      return;
    }
    ++stats_.snapshots;
    ++stats_.events;
    book_.Clear();
    for (const auto& c : snapshot_bids_) book_.bids.Set(c.price, c.size, 0);
    for (const auto& c : snapshot_asks_) book_.asks.Set(c.price, c.size, 0);
  }

  od::parser parser_;
  simdjson::dom::parser whole_parser_;  // for the messages skipped
  BinanceSync sync_;
  std::deque<BinanceEvent*> pending_;
  std::vector<BinanceEvent*> free_;
  std::vector<std::unique_ptr<BinanceEvent>> owned_;
  std::vector<LevelChange> snapshot_bids_, snapshot_asks_;
};

}  // namespace

BinanceProbe ProbeBinanceLine(std::string_view line) {
  BinanceProbe probe;
  uint64_t recv = 0;
  std::string_view json;
  if (!SplitReceiveLine(line, &recv, &json)) return probe;
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc)) return probe;
  od::object root;
  if (doc.get_object().get(root)) return probe;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return probe;
    if (key == "stream") {
      std::string_view stream;
      if (field.value().get_string().get(stream)) return probe;
      probe.symbol = UpperSymbol(stream);
    } else if (key == "bids" || key == "asks") {
      probe.size_decimals = FirstQuantityDecimals(field.value());
      if (probe.size_decimals) return probe;
    } else if (key == "data") {
      od::object data;
      if (field.value().get_object().get(data)) return probe;
      for (auto inner : data) {
        std::string_view k;
        if (inner.unescaped_key().get(k)) return probe;
        od::value v = inner.value();
        if (k == "B") {  // bookTicker's best bid size
          std::string_view text;
          if (!v.get_string().get(text) && DecimalPlaces(text) >= 0) probe.size_decimals = DecimalPlaces(text);
        } else if (k == "b" || k == "a") {
          if (v.type() == od::json_type::array) probe.size_decimals = FirstQuantityDecimals(v);
        }
        if (probe.size_decimals) return probe;
      }
    }
  }
  return probe;
}

std::unique_ptr<DepthFeed> MakeBinanceFeed(const DepthFeedOptions& options) {
  return std::make_unique<BinanceFeed>(options);
}

}  // namespace tickforge::book
