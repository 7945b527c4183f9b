#include "tickforge/book/hyperliquid.h"

#include <simdjson.h>

#include <limits>
#include <vector>

#include "tickforge/book/depth_json_internal.h"
#include "tickforge/book/depth_lines.h"
#include "tickforge/dbn/records.h"

namespace tickforge::book {
namespace {

namespace od = simdjson::ondemand;

class HyperliquidFeed : public OneRowPerMessageFeed {
 public:
  explicit HyperliquidFeed(const DepthFeedOptions& options) : OneRowPerMessageFeed(options, "hyperliquid") {}

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
    bool is_book = false, has_levels = false;
    uint64_t ts = dbn::kUndefTimestamp;
    sides_[0].clear();
    sides_[1].clear();
    for (auto field : root) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return cx.Fail(e, "JSON key");
      if (key == "channel") {
        std::string_view channel;
        if (auto e = field.value().get_string().get(channel)) return cx.Fail(e, "channel");
        is_book = channel == "l2Book";
        if (!is_book) break;
      } else if (key == "data" && is_book) {
        od::object data;
        if (auto e = field.value().get_object().get(data)) return cx.Fail(e, "data");
        for (auto inner : data) {
          std::string_view k;
          if (auto e = inner.unescaped_key().get(k)) return cx.Fail(e, "JSON key");
          if (k == "time") {
            uint64_t ms = 0;
            if (auto e = inner.value().get_uint64().get(ms)) return cx.Fail(e, "time");
            ts = ms * 1000000;
          } else if (k == "coin" && stats_.symbol.empty()) {
            std::string_view coin;
            if (auto e = inner.value().get_string().get(coin)) return cx.Fail(e, "coin");
            stats_.symbol = std::string(coin);
          } else if (k == "levels") {
            ARROW_RETURN_NOT_OK(ParseSides(cx, inner.value()));
            has_levels = true;
          }
        }
      }
    }
    if (!is_book) {
      ARROW_RETURN_NOT_OK(CheckWholeMessage(whole_parser_, cx, json));
      ++stats_.skipped;
      return Status::OK();
    }
    if (!has_levels) return InputLineError(options_.path, line, "an l2Book message without levels");
    ++stats_.events;
    ++stats_.snapshots;
    book_.Clear();
    for (const auto& c : sides_[0]) book_.bids.Set(c.price, c.size, c.count);
    for (const auto& c : sides_[1]) book_.asks.Set(c.price, c.size, c.count);
    row_ = RowEvent{};
    row_.ts_event = ts;
    row_.ts_recv = recv;
    row_.flags = dbn::flag::kLast | dbn::flag::kMbp | dbn::flag::kSnapshot;
    has_row_ = true;
    return Status::OK();
  }


  Status Finish(int64_t) override { return Status::OK(); }

 private:
  // levels: [[bid, ...], [ask, ...]], each {"px": "...", "sz": "...", "n": count}.
  Status ParseSides(const JsonContext& cx, od::value value) {
    od::array sides;
    if (auto e = value.get_array().get(sides)) return cx.Fail(e, "levels");
    size_t side = 0;
    for (auto levels_value : sides) {
      if (side == 2) return InputLineError(cx.path, cx.line, "levels has more than [bids, asks]");
      od::array levels;
      if (auto e = levels_value.get_array().get(levels)) return cx.Fail(e, "levels side");
      for (auto level_value : levels) {
        od::object level;
        if (auto e = level_value.get_object().get(level)) return cx.Fail(e, "level");
        LevelChange change;
        bool px = false, sz = false;
        for (auto f : level) {
          std::string_view k;
          if (auto e = f.unescaped_key().get(k)) return cx.Fail(e, "JSON key");
          if (k == "px" || k == "sz") {
            std::string_view text;
            if (auto e = f.value().get_string().get(text)) return cx.Fail(e, k);
            if (k == "px") {
              ARROW_RETURN_NOT_OK(ParseDecimalField(cx, text, kPriceScale, "price", &change.price));
              px = true;
            } else {
              int64_t size = 0;
              ARROW_RETURN_NOT_OK(ParseDecimalField(cx, text, options_.size_scale, "size", &size));
              change.size = static_cast<uint64_t>(size);
              sz = true;
            }
          } else if (k == "n") {
            uint64_t n = 0;
            if (auto e = f.value().get_uint64().get(n)) return cx.Fail(e, "n");
            change.count = static_cast<uint32_t>(std::min<uint64_t>(n, std::numeric_limits<uint32_t>::max()));
          }
        }
        if (!px || !sz) return InputLineError(cx.path, cx.line, "a level without px and sz");
        sides_[side].push_back(change);
      }
      ++side;
    }
    if (side != 2) return InputLineError(cx.path, cx.line, "levels is not [bids, asks]");
    return Status::OK();
  }

  od::parser parser_;
  simdjson::dom::parser whole_parser_;  // for the messages skipped
  std::vector<LevelChange> sides_[2];
};

}  // namespace

std::string ProbeHyperliquidSymbol(std::string_view line) {
  uint64_t recv = 0;
  std::string_view json;
  if (!SplitReceiveLine(line, &recv, &json)) return "";
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc)) return "";
  std::string_view channel, coin;
  if (doc["channel"].get_string().get(channel) || channel != "l2Book") return "";
  if (doc["data"]["coin"].get_string().get(coin)) return "";
  return std::string(coin);
}

std::unique_ptr<DepthFeed> MakeHyperliquidFeed(const DepthFeedOptions& options) {
  return std::make_unique<HyperliquidFeed>(options);
}

}  // namespace tickforge::book
