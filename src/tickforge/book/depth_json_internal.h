// simdjson helpers the depth-stream parsers share: errors that name the file and the line,
// and `[["price","size"], ...]` level lists parsed exactly into fixed point.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "tickforge/book/decimal.h"
#include "tickforge/book/depth_lines.h"
#include "tickforge/util/status.h"

namespace tickforge::book {

/// One level a message sets: its price (1e-9) and its new size (0 removes it).
struct LevelChange {
  int64_t price = 0;
  uint64_t size = 0;
  uint32_t count = 0;
};

struct JsonContext {
  std::string_view path;
  int64_t line;

  [[nodiscard]] Status Fail(simdjson::error_code error, std::string_view what) const {
    return InputLineError(path, line, "malformed JSON at {}: {}", what, simdjson::error_message(error));
  }
};

/// Parse one line's JSON message into its root object (`doc` must outlive `root`); the line's
/// buffer holds kLinePadding readable bytes past `json`, as simdjson needs.
[[nodiscard]] inline Status ParseMessage(simdjson::ondemand::parser& parser, const JsonContext& cx,
                                         std::string_view json, simdjson::ondemand::document* doc,
                                         simdjson::ondemand::object* root) {
  if (auto e = parser.iterate(json.data(), json.size(), json.size() + kLinePadding).get(*doc)) {
    return cx.Fail(e, "JSON");
  }
  if (auto e = doc->get_object().get(*root)) return cx.Fail(e, "JSON message");
  return Status::OK();
}

/// A message a feed does not apply (another stream's: bookTicker, trades) is still parsed in
/// full, so a broken line is an error rather than a silent skip. On-demand parsing stops at
/// the field that names the stream and would not see the rest.
[[nodiscard]] inline Status CheckWholeMessage(simdjson::dom::parser& parser, const JsonContext& cx,
                                              std::string_view json) {
  static_assert(kLinePadding >= simdjson::SIMDJSON_PADDING);
  simdjson::dom::element element;
  if (auto e = parser.parse(json.data(), json.size(), false).get(element)) return cx.Fail(e, "JSON");
  return Status::OK();
}

/// Split a capture line `<receive ns> <json>` into its receive time, its JSON text and its
/// parsed JSON object.
[[nodiscard]] inline Status ParseCaptureLine(simdjson::ondemand::parser& parser, const JsonContext& cx,
                                             std::string_view text, uint64_t* recv, std::string_view* json,
                                             simdjson::ondemand::document* doc, simdjson::ondemand::object* root) {
  if (!SplitReceiveLine(text, recv, json)) {
    return InputLineError(cx.path, cx.line, "not a capture line '<receive ns> <json>'");
  }
  return ParseMessage(parser, cx, *json, doc, root);
}

/// Parse a decimal string exactly, or fail naming the file, the line and the text.
[[nodiscard]] inline Status ParseDecimalField(const JsonContext& cx, std::string_view text, int scale,
                                              std::string_view what, int64_t* out) {
  const DecimalError error = ParseFixed(text, scale, out);
  if (error == DecimalError::kOk) return Status::OK();
  return InputLineError(cx.path, cx.line, "{} '{}' {} (scale {})", what, text, DecimalErrorText(error), scale);
}

/// Append the levels of `[["price","size"], ...]` to `out`.
[[nodiscard]] inline Status ParseLevels(const JsonContext& cx, simdjson::ondemand::value value, int size_scale,
                                        std::vector<LevelChange>* out) {
  simdjson::ondemand::array levels;
  if (auto e = value.get_array().get(levels)) return cx.Fail(e, "level list");
  for (auto level : levels) {
    simdjson::ondemand::array pair;
    if (auto e = level.get_array().get(pair)) return cx.Fail(e, "level");
    std::string_view texts[2];
    int n = 0;
    for (auto item : pair) {
      if (n == 2) return InputLineError(cx.path, cx.line, "a level has more than [price, size]");
      if (auto e = item.get_string().get(texts[n])) return cx.Fail(e, "level value");
      ++n;
    }
    if (n != 2) return InputLineError(cx.path, cx.line, "a level is not [price, size]");
    LevelChange change;
    ARROW_RETURN_NOT_OK(ParseDecimalField(cx, texts[0], kPriceScale, "price", &change.price));
    int64_t size = 0;
    ARROW_RETURN_NOT_OK(ParseDecimalField(cx, texts[1], size_scale, "size", &size));
    change.size = static_cast<uint64_t>(size);
    out->push_back(change);
  }
  return Status::OK();
}

}  // namespace tickforge::book
