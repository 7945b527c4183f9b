#include "tickforge/book/bybit.h"

#include <simdjson.h>

#include <vector>

#include "tickforge/book/depth_json_internal.h"
#include "tickforge/book/depth_lines.h"
#include "tickforge/dbn/records.h"

namespace tickforge::book {
namespace {

namespace od = simdjson::ondemand;

std::string_view SymbolOfTopic(std::string_view topic) {
  const size_t dot = topic.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : topic.substr(dot + 1);
}

class BybitFeed : public OneRowPerMessageFeed {
 public:
  explicit BybitFeed(const DepthFeedOptions& options) : OneRowPerMessageFeed(options, "bybit") {}

  Status Line(std::string_view text, int64_t line) override {
    ++stats_.lines;
    if (text.empty()) return Status::OK();
    uint64_t recv = 0;
    std::string_view json = text;
    const bool has_recv = SplitReceiveLine(text, &recv, &json);
    JsonContext cx{options_.path, line};
    od::document doc;
    od::object root;
    ARROW_RETURN_NOT_OK(ParseMessage(parser_, cx, json, &doc, &root));
    ++stats_.messages;
    bids_.clear();
    asks_.clear();
    std::string_view type;
    bool is_book = false, has_u = false, has_data = false;
    uint64_t ts = dbn::kUndefTimestamp, u = 0;
    for (auto field : root) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return cx.Fail(e, "JSON key");
      if (key == "topic") {
        std::string_view topic;
        if (auto e = field.value().get_string().get(topic)) return cx.Fail(e, "topic");
        is_book = topic.starts_with("orderbook.");
        if (!is_book) break;
        if (stats_.symbol.empty()) stats_.symbol = std::string(SymbolOfTopic(topic));
      } else if (key == "type") {
        if (auto e = field.value().get_string().get(type)) return cx.Fail(e, "type");
      } else if (key == "ts") {
        uint64_t ms = 0;
        if (auto e = field.value().get_uint64().get(ms)) return cx.Fail(e, "ts");
        ts = ms * 1000000;
      } else if (key == "data") {
        if (!is_book) break;
        od::object data;
        if (auto e = field.value().get_object().get(data)) return cx.Fail(e, "data");
        has_data = true;
        for (auto inner : data) {
          std::string_view k;
          if (auto e = inner.unescaped_key().get(k)) return cx.Fail(e, "JSON key");
          if (k == "b" || k == "a") {
            ARROW_RETURN_NOT_OK(ParseLevels(cx, inner.value(), options_.size_scale, k == "b" ? &bids_ : &asks_));
          } else if (k == "u") {
            if (auto e = inner.value().get_uint64().get(u)) return cx.Fail(e, "u");
            has_u = true;
          }
        }
      }
    }
    if (!is_book) {
      ARROW_RETURN_NOT_OK(CheckWholeMessage(whole_parser_, cx, json));
      ++stats_.skipped;
      return Status::OK();
    }
    if (!has_data || !has_u || (type != "snapshot" && type != "delta")) {
      return InputLineError(options_.path, line, "an orderbook message needs type snapshot or delta, data and u");
    }
    ++stats_.events;
    const bool snapshot = type == "snapshot";
    if (snapshot) {
      ++stats_.snapshots;
      book_.Clear();
      synced_ = true;
    } else if (!synced_) {
      ++stats_.unsynced;
      return Status::OK();
    } else if (u != prev_u_ + 1) {
      if (options_.strict) {
        return InputLineError(options_.path, line, "gap in the depth stream: u {} after u {} (expected {})", u, prev_u_,
                              prev_u_ + 1);
      }
      ++stats_.gaps;
      if (stats_.gap_list.size() < DepthStats::kMaxGapsListed) {
        stats_.gap_list.push_back({line, prev_u_ + 1, u, "u != previous u + 1"});
      }
      ++stats_.unsynced;
      synced_ = false;
      book_.Clear();
      return Status::OK();
    }
    prev_u_ = u;
    for (const auto& c : bids_) book_.bids.Set(c.price, c.size, 0);
    for (const auto& c : asks_) book_.asks.Set(c.price, c.size, 0);
    row_ = RowEvent{};
    row_.ts_event = ts;
    row_.ts_recv = has_recv ? recv : ts;
    row_.flags = static_cast<uint8_t>(dbn::flag::kLast | dbn::flag::kMbp | (snapshot ? dbn::flag::kSnapshot : 0) |
                                      (has_recv ? 0 : dbn::flag::kBadTsRecv));
    row_.sequence = u;
    has_row_ = true;
    return Status::OK();
  }


  Status Finish(int64_t last_line) override {
    if (stats_.snapshots == 0 && stats_.events > 0) {
      return InputLineError(options_.path, last_line, "no snapshot in the file: its {} deltas have no book to apply to",
                            stats_.events);
    }
    return Status::OK();
  }

 private:
  od::parser parser_;
  simdjson::dom::parser whole_parser_;  // for the messages skipped
  std::vector<LevelChange> bids_, asks_;
  bool synced_ = false;
  uint64_t prev_u_ = 0;
};

}  // namespace

std::string ProbeBybitSymbol(std::string_view line) {
  uint64_t recv = 0;
  std::string_view json = line;
  if (!SplitReceiveLine(line, &recv, &json)) json = line;
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc)) return "";
  std::string_view topic;
  if (doc["topic"].get_string().get(topic)) return "";
  return std::string(SymbolOfTopic(topic));
}

std::unique_ptr<DepthFeed> MakeBybitFeed(const DepthFeedOptions& options) { return std::make_unique<BybitFeed>(options); }

}  // namespace tickforge::book
