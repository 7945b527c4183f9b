#include "tickforge/book/binance_csv.h"

#include <array>
#include <charconv>
#include <string>
#include <vector>

#include "tickforge/book/binance_depth.h"
#include "tickforge/book/decimal.h"
#include "tickforge/book/depth_json_internal.h"
#include "tickforge/dbn/records.h"

namespace tickforge::book {
namespace {

constexpr std::string_view kHeader = "symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu";
constexpr size_t kFields = 9;

bool SplitFields(std::string_view line, std::array<std::string_view, kFields>* out) {
  size_t n = 0;
  while (n < kFields) {
    const size_t comma = line.find(',');
    (*out)[n++] = line.substr(0, comma);
    if (comma == std::string_view::npos) break;
    line.remove_prefix(comma + 1);
    if (n == kFields) return false;  // a tenth field
  }
  return n == kFields;
}

bool ParseUint(std::string_view text, uint64_t* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

struct CsvEvent {
  bool snapshot = false;
  uint64_t ts = 0;
  int64_t line = 0;
  BinanceIds ids;
  std::vector<LevelChange> bids, asks;
};

class BinanceCsvFeed : public DepthFeed {
 public:
  explicit BinanceCsvFeed(const DepthFeedOptions& options) : DepthFeed(options, "binance-csv") {}

  Status Line(std::string_view text, int64_t line) override {
    ++stats_.lines;
    if (line == 1) {
      if (text != kHeader) return InputLineError(options_.path, line, "expected the header '{}'", kHeader);
      return Status::OK();
    }
    if (text.empty()) return Status::OK();
    std::array<std::string_view, kFields> f;
    if (!SplitFields(text, &f)) return InputLineError(options_.path, line, "expected {} fields", kFields);
    ++stats_.messages;
    uint64_t ts = 0, first = 0, last = 0;
    if (!ParseUint(f[1], &ts) || !ParseUint(f[2], &first) || !ParseUint(f[3], &last)) {
      return InputLineError(options_.path, line, "timestamp and update ids must be integers");
    }
    const bool snapshot = f[5] == "snap";
    if (!snapshot && f[5] != "set") return InputLineError(options_.path, line, "update_type '{}' is not snap or set", f[5]);
    if (f[4] != "b" && f[4] != "a") return InputLineError(options_.path, line, "side '{}' is not b or a", f[4]);
    std::optional<uint64_t> pu;
    uint64_t pu_value = 0;
    if (f[8] != "-1" && !f[8].empty()) {
      if (!ParseUint(f[8], &pu_value)) return InputLineError(options_.path, line, "pu '{}' is not an integer", f[8]);
      pu = pu_value;
    }
    if (stats_.symbol.empty()) stats_.symbol = std::string(f[0]);
    // A row of another event completes the one collected so far.
    if (has_current_ && (current_.snapshot != snapshot || current_.ids.first != first || current_.ids.last != last ||
                         current_.ts != ts * 1000000)) {
      ready_ = current_;
      has_ready_ = true;
      has_current_ = false;
    }
    if (!has_current_) {
      current_.snapshot = snapshot;
      current_.ts = ts * 1000000;
      current_.line = line;
      current_.ids = BinanceIds{first, last, pu};
      current_.bids.clear();
      current_.asks.clear();
      has_current_ = true;
    }
    const JsonContext cx{options_.path, line};
    LevelChange change;
    ARROW_RETURN_NOT_OK(ParseDecimalField(cx, f[6], kPriceScale, "price", &change.price));
    int64_t size = 0;
    ARROW_RETURN_NOT_OK(ParseDecimalField(cx, f[7], options_.size_scale, "qty", &size));
    change.size = static_cast<uint64_t>(size);
    (f[4] == "b" ? current_.bids : current_.asks).push_back(change);
    return Status::OK();
  }

  Result<bool> Next(RowEvent* row) override {
    if (!has_ready_) return false;
    has_ready_ = false;
    const CsvEvent& e = ready_;
    ++stats_.events;
    if (e.snapshot) {
      sync_.Snapshot(e.ids.last);
      ++stats_.snapshots;
      book_.Clear();
    } else {
      const auto verdict = sync_.Check(e.ids);
      if (verdict == BinanceSync::Verdict::kWait) {
        ++stats_.unsynced;
        return false;
      }
      if (verdict == BinanceSync::Verdict::kStale) {
        ++stats_.stale;
        return false;
      }
      if (verdict == BinanceSync::Verdict::kGap) {
        DepthGap gap = sync_.last_gap();
        gap.line = e.line;
        if (options_.strict) {
          return InputLineError(options_.path, e.line, "gap in the depth stream: {} (expected {}, got {})", gap.reason,
                                gap.expected, gap.got);
        }
        ++stats_.gaps;
        ++stats_.unsynced;
        if (stats_.gap_list.size() < DepthStats::kMaxGapsListed) stats_.gap_list.push_back(std::move(gap));
        book_.Clear();
        return false;
      }
    }
    for (const auto& c : e.bids) book_.bids.Set(c.price, c.size, 0);
    for (const auto& c : e.asks) book_.asks.Set(c.price, c.size, 0);
    *row = RowEvent{};
    row->ts_event = row->ts_recv = e.ts;
    row->flags = static_cast<uint8_t>(dbn::flag::kLast | dbn::flag::kMbp | dbn::flag::kBadTsRecv |
                                      (e.snapshot ? dbn::flag::kSnapshot : 0));
    row->sequence = e.ids.last;
    ++stats_.rows;
    stats_.crossed += book_.crossed();
    return true;
  }

  Status Finish(int64_t last_line) override {
    if (has_current_) {
      ready_ = current_;
      has_ready_ = true;
      has_current_ = false;
    }
    if (stats_.lines == 0) return InputLineError(options_.path, 1, "empty file: expected the header '{}'", kHeader);
    if (stats_.messages > 0 && !saw_snapshot_in_file()) {
      return InputLineError(options_.path, last_line,
                            "no snapshot (update_type snap) in the file: its updates cannot be synchronised");
    }
    return Status::OK();
  }

 private:
  // Finish runs before the last event is applied: look at what is still to come too.
  [[nodiscard]] bool saw_snapshot_in_file() const {
    return stats_.snapshots > 0 || (has_ready_ && ready_.snapshot);
  }

  BinanceSync sync_;
  CsvEvent current_, ready_;
  bool has_current_ = false, has_ready_ = false;
};

}  // namespace

std::optional<int> ProbeBinanceCsvLine(std::string_view line) {
  std::array<std::string_view, kFields> f;
  if (!SplitFields(line, &f)) return std::nullopt;
  const int places = DecimalPlaces(f[7]);
  return places < 0 ? std::nullopt : std::optional<int>(places);
}

std::unique_ptr<DepthFeed> MakeBinanceCsvFeed(const DepthFeedOptions& options) {
  return std::make_unique<BinanceCsvFeed>(options);
}

}  // namespace tickforge::book
