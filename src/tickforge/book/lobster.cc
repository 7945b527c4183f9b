#include "tickforge/book/lobster.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <regex>
#include <vector>

#include <fmt/format.h>

#include "tickforge/book/mbp_rows.h"
#include "tickforge/dbn/to_arrow.h"
#include "tickforge/util/io.h"
#include "tickforge/util/random.h"
#include "tickforge/util/time.h"

namespace tickforge::book {
namespace {

// USD x 10^4 to 1e-9 fixed point.
constexpr int64_t kLobsterPriceToFixed = 100'000;
// LOBSTER's prices of empty levels (with size 0).
constexpr int64_t kDummyAsk = 9'999'999'999;
constexpr int64_t kDummyBid = -9'999'999'999;
// Beyond any real price: prices are checked against this before scaling, so scaling cannot
// overflow.
constexpr int64_t kMaxPrice = 10'000'000'000;
constexpr size_t kMessageFields = 6;
constexpr int kMaxFileLevels = 1000;

// The name LOBSTER gives its files: TICKER_YYYY-MM-DD_START_END_(message|orderbook)_LEVEL.csv.
const std::regex& LobsterNamePattern() {
  static const std::regex pattern(R"(^(.+)_(\d{4}-\d{2}-\d{2})_(\d+)_(\d+)_(message|orderbook)_(\d+)\.csv$)");
  return pattern;
}

// Split a CSV line (LOBSTER writes no quotes) into its fields.
void SplitFields(std::string_view line, std::vector<std::string_view>* fields) {
  fields->clear();
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      fields->push_back(line.substr(start));
      return;
    }
    fields->push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
}

// Parse a whole field as a decimal integer (an optional '-', digits): nothing else accepted.
template <typename T>
bool ParseInteger(std::string_view text, T* out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

Side SideOfDirection(int direction) { return direction == 1 ? Side::kBid : Side::kAsk; }

// True when `price` is at least as good as `bound` on `side`.
bool AtLeastAsGood(Side side, int64_t price, int64_t bound) {
  return side == Side::kBid ? price >= bound : price <= bound;
}

}  // namespace

// Named, not anonymous: LobsterReplay, declared in lobster.h, holds these types.
namespace lobster_internal {

// Lines of a text file (raw or zstd) read in chunks: memory stays one chunk plus one line
// however long the file is. A last line without a newline counts as a line.
class LineReader {
 public:
  static Result<LineReader> Open(const std::string& path) {
    ARROW_ASSIGN_OR_RAISE(auto input, OpenInput(path));
    return LineReader(path, std::move(input));
  }

  // Set *line to the next line without its "\n" or "\r\n"; return false at the end.
  Result<bool> Next(std::string_view* line) {
    while (true) {
      const size_t newline = buffer_.find('\n', pos_);
      if (newline != std::string::npos) {
        *line = Trim(std::string_view(buffer_).substr(pos_, newline - pos_));
        pos_ = newline + 1;
        ++line_;
        return true;
      }
      if (eof_) {
        if (pos_ == buffer_.size()) return false;
        *line = Trim(std::string_view(buffer_).substr(pos_));
        pos_ = buffer_.size();
        ++line_;
        return true;
      }
      buffer_.erase(0, pos_);
      pos_ = 0;
      const size_t have = buffer_.size();
      buffer_.resize(have + kChunk);
      auto read = input_.stream->Read(static_cast<int64_t>(kChunk), buffer_.data() + have);
      if (!read.ok()) return WithPath(read.status(), path_);
      buffer_.resize(have + static_cast<size_t>(*read));
      eof_ = *read == 0;
    }
  }

  [[nodiscard]] int64_t line() const { return line_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] int64_t raw_size() const { return input_.raw_size; }

 private:
  static constexpr size_t kChunk = 1 << 16;
  LineReader(std::string path, InputFile input) : path_(std::move(path)), input_(std::move(input)) {}
  static std::string_view Trim(std::string_view s) {
    if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
    return s;
  }

  std::string path_;
  InputFile input_;
  std::string buffer_;
  size_t pos_ = 0;
  bool eof_ = false;
  int64_t line_ = 0;
};

// One parsed message line.
struct Message {
  int64_t time_ns = 0;
  int type = 0;
  uint64_t order_id = 0;
  int64_t size = 0;
  int64_t price = 0;  // USD x 10^4 as written
  int direction = 0;
};

// The levels of one orderbook row, per side best first, in 1e-9 fixed point; empty levels are
// left out.
struct FileRow {
  std::vector<Level> bids, asks;
};

}  // namespace lobster_internal

bool IsLobsterMessageFile(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  if (name == "message.csv") return true;
  std::smatch match;
  return std::regex_match(name, match, LobsterNamePattern()) && match[5] == "message";
}

Result<LobsterFiles> FindLobsterFiles(const std::string& message, const std::string& orderbook) {
  LobsterFiles files;
  files.message = message;
  const std::filesystem::path path(message);
  const std::string name = path.filename().string();
  std::smatch match;
  std::string partner;
  if (std::regex_match(name, match, LobsterNamePattern())) {
    if (match[5] != "message") {
      return Status::Invalid(message, ": this is a LOBSTER orderbook file; give its message file");
    }
    files.ticker = match[1];
    auto date = ParseIsoDate(match[2].str());
    if (!date.ok()) return WithPath(date.status(), message);
    files.date = *date;
    if (!ParseInteger(std::string_view(match[3].str()), &files.start_ms) ||
        !ParseInteger(std::string_view(match[4].str()), &files.end_ms) ||
        !ParseInteger(std::string_view(match[6].str()), &files.levels)) {
      return Status::Invalid(message, ": a number in the LOBSTER file name is out of range");
    }
    partner = fmt::format("{}_{}_{}_{}_orderbook_{}.csv", match[1].str(), match[2].str(), match[3].str(),
                          match[4].str(), match[6].str());
  } else if (name == "message.csv") {
    partner = "orderbook.csv";
  } else {
    return Status::Invalid(message, ": not named as a LOBSTER message file (TICKER_YYYY-MM-DD_START_END_message_"
                                    "LEVEL.csv or message.csv)");
  }
  files.orderbook = orderbook.empty() ? (path.parent_path() / partner).string() : orderbook;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(files.orderbook, ec)) {
    return Status::IOError(message, ": its LOBSTER orderbook file ", files.orderbook, " does not exist");
  }
  return files;
}

Result<int64_t> ParseLobsterTime(std::string_view text) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  auto all_digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const bool empty_fraction = dot != std::string_view::npos && fraction.empty();
  if (whole.empty() || !all_digits(whole) || !all_digits(fraction) || empty_fraction) {
    return Status::Invalid("'", text, "' is not a time in seconds after midnight");
  }
  if (fraction.size() > 9) return Status::Invalid("'", text, "' has more than 9 decimals (finer than a nanosecond)");
  int64_t seconds = 0;
  if (whole.size() > 6 || !ParseInteger(whole, &seconds) || seconds > 2 * 86400) {
    return Status::Invalid("'", text, "' is past the end of the day");
  }
  int64_t nanos = 0;
  for (size_t i = 0; i < 9; ++i) nanos = nanos * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  return seconds * 1'000'000'000 + nanos;
}

std::string LobsterParquetNameFor(const std::filesystem::path& message, const BookOptions& options) {
  const std::string name = message.filename().string();
  std::smatch match;
  if (std::regex_match(name, match, LobsterNamePattern())) {
    return fmt::format("{}_{}_{}_{}.mbp-{}.parquet", match[1].str(), match[2].str(), match[3].str(), match[4].str(),
                       options.levels);
  }
  const std::string symbol =
      options.lobster.symbol.empty() ? message.parent_path().filename().string() : options.lobster.symbol;
  return fmt::format("{}{}message.mbp-{}.parquet", symbol, symbol.empty() ? "" : "_", options.levels);
}

namespace lobster_internal {

// The row-by-row rebuild described in lobster.h, over the two files' lines.
class LobsterReplay {
 public:
  static Result<std::unique_ptr<LobsterReplay>> Start(const std::string& message, const BookOptions& options) {
    ARROW_ASSIGN_OR_RAISE(auto files, FindLobsterFiles(message, options.lobster.orderbook));
    if (!options.lobster.date.empty()) {
      auto date = ParseIsoDate(options.lobster.date);
      if (!date.ok()) return Status::Invalid("book option date: ", date.status().message());
      files.date = *date;
    }
    if (files.date == 0) {
      return Status::Invalid(message, ": the file name states no date; give it (option date, --date YYYY-MM-DD)");
    }
    if (!options.lobster.symbol.empty()) files.ticker = options.lobster.symbol;
    if (files.ticker.empty()) files.ticker = std::filesystem::path(message).parent_path().filename().string();
    if (files.ticker.empty()) files.ticker = "LOBSTER";
    ARROW_ASSIGN_OR_RAISE(auto messages, LineReader::Open(files.message));
    ARROW_ASSIGN_OR_RAISE(auto orderbook, LineReader::Open(files.orderbook));
    std::unique_ptr<LobsterReplay> replay(
        new LobsterReplay(std::move(files), std::move(messages), std::move(orderbook), options));
    ARROW_RETURN_NOT_OK(replay->Begin());
    return replay;
  }

  // Apply the next message; return false at the end of both files. The row's book is book().
  Result<bool> Next(RowEvent* event) {
    Message m;
    FileRow row;
    if (has_first_) {
      has_first_ = false;
      m = first_message_;
      row = std::move(first_row_);
    } else {
      ARROW_ASSIGN_OR_RAISE(const bool more, ReadPair(&m, &row));
      if (!more) return false;
    }
    const int64_t line = messages_.line();
    Apply(m, /*undo=*/false);
    const bool same = Compose(row);
    if (!same) {
      stats_.anomalies.Count(Anomaly::kLobsterMismatch);
      if (options_.strict) {
        return InputLineError(files_.message, line, "{} (orderbook file {}, line {})",
                              AnomalyDescription(Anomaly::kLobsterMismatch), files_.orderbook, line);
      }
    }
    // Resync: the next message applies to this row as the orderbook file states it.
    SetKnown(row);
    *event = EventOf(m, line);
    ++stats_.records;
    ++stats_.messages;
    ++stats_.events;
    if (m.type == 7) ++stats_.halts;
    stats_.crossed += out_.crossed();
    return true;
  }

  [[nodiscard]] const Book& book() const { return out_; }
  [[nodiscard]] const LobsterFiles& files() const { return files_; }
  [[nodiscard]] const dbn::Metadata& metadata() const { return metadata_; }
  [[nodiscard]] const dbn::SymbolMap& symbols() const { return symbols_; }
  BookStats& stats() { return stats_; }
  [[nodiscard]] int file_levels() const { return file_levels_; }

 private:
  LobsterReplay(LobsterFiles files, LineReader messages, LineReader orderbook, const BookOptions& options)
      : files_(std::move(files)), messages_(std::move(messages)), orderbook_(std::move(orderbook)), options_(options) {}

  // Read the first pair, learn the file's depth, and seed the book: row 0 minus message 0.
  Status Begin() {
    stats_.input = files_.message;
    stats_.input_bytes = messages_.raw_size() + orderbook_.raw_size();
    stats_.books = 1;
    instrument_id_ = static_cast<uint32_t>(Fnv1a64(files_.ticker));
    const int64_t day = DaysFromYmd(files_.date);
    day_ns_ = day * kNanosPerDay;
    metadata_.dataset = "LOBSTER";
    metadata_.schema = options_.levels == 1 ? dbn::Schema::kMbp1 : dbn::Schema::kMbp10;
    metadata_.start = static_cast<uint64_t>(day_ns_ + std::max<int64_t>(files_.start_ms, 0) * 1'000'000);
    metadata_.end = files_.end_ms >= 0 ? static_cast<uint64_t>(day_ns_ + files_.end_ms * 1'000'000)
                                       : static_cast<uint64_t>(day_ns_ + kNanosPerDay);
    metadata_.stype_in = 1;   // raw symbol
    metadata_.stype_out = 0;  // instrument id
    metadata_.symbols = {files_.ticker};
    metadata_.mappings.push_back(dbn::SymbolMapping{
        files_.ticker, {dbn::MappingInterval{files_.date, YmdFromDays(day + 1), std::to_string(instrument_id_)}}});
    ARROW_RETURN_NOT_OK(symbols_.Insert(metadata_));

    ARROW_ASSIGN_OR_RAISE(const bool any, ReadPair(&first_message_, &first_row_));
    if (!any) return Status::Invalid(files_.message, ": the LOBSTER message file is empty");
    has_first_ = true;
    SetKnown(first_row_);
    Apply(first_message_, /*undo=*/true);
    return Status::OK();
  }

  // Read one message line and the orderbook line beside it.
  Result<bool> ReadPair(Message* m, FileRow* row) {
    std::string_view text;
    ARROW_ASSIGN_OR_RAISE(const bool has_message, messages_.Next(&text));
    if (has_message) ARROW_RETURN_NOT_OK(ParseMessage(text, m));
    std::string_view book_text;
    ARROW_ASSIGN_OR_RAISE(const bool has_row, orderbook_.Next(&book_text));
    if (has_message != has_row) {
      const LineReader& shorter = has_message ? orderbook_ : messages_;
      const LineReader& longer = has_message ? messages_ : orderbook_;
      return InputLineError(shorter.path(), shorter.line() + 1,
                            "the file ends here, but {} has a line {}: a LOBSTER message file and its orderbook "
                            "file have one line per message",
                            longer.path(), longer.line());
    }
    if (!has_row) return false;
    ARROW_RETURN_NOT_OK(ParseRow(book_text, row));
    return true;
  }

  Status ParseMessage(std::string_view text, Message* m) {
    const int64_t line = messages_.line();
    SplitFields(text, &fields_);
    if (fields_.size() != kMessageFields) {
      return InputLineError(files_.message, line, "{} fields, a LOBSTER message line has {} (time, type, order id, "
                            "size, price, direction)", fields_.size(), kMessageFields);
    }
    auto time = ParseLobsterTime(fields_[0]);
    if (!time.ok()) return InputLineError(files_.message, line, "time: {}", time.status().message());
    m->time_ns = *time;
    auto bad = [&](std::string_view what, std::string_view value, std::string_view expected) {
      return InputLineError(files_.message, line, "{} '{}' is not {}", what, value, expected);
    };
    if (!ParseInteger(fields_[1], &m->type) || m->type < 1 || m->type > 7) return bad("type", fields_[1], "1 to 7");
    if (!ParseInteger(fields_[2], &m->order_id)) return bad("order id", fields_[2], "an unsigned integer");
    if (!ParseInteger(fields_[3], &m->size) || m->size < 0 || m->size > UINT32_MAX) {
      return bad("size", fields_[3], "a size (0 to 2^32-1)");
    }
    if (!ParseInteger(fields_[4], &m->price) || m->price <= -kMaxPrice || m->price >= kMaxPrice) {
      return bad("price", fields_[4], "a price (an integer, USD x 10^4)");
    }
    if (!ParseInteger(fields_[5], &m->direction) || (m->direction != 1 && m->direction != -1)) {
      return bad("direction", fields_[5], "1 or -1");
    }
    if (m->time_ns < last_time_ns_) {
      return InputLineError(files_.message, line, "time {} is before the previous line's", fields_[0]);
    }
    last_time_ns_ = m->time_ns;
    return Status::OK();
  }

  Status ParseRow(std::string_view text, FileRow* row) {
    const int64_t line = orderbook_.line();
    SplitFields(text, &fields_);
    if (file_levels_ == 0) {
      if (fields_.size() % 4 != 0 || fields_.size() / 4 > kMaxFileLevels) {
        return InputLineError(files_.orderbook, line, "{} fields: a LOBSTER orderbook line has 4 per level (ask price, "
                              "ask size, bid price, bid size)", fields_.size());
      }
      file_levels_ = static_cast<int>(fields_.size() / 4);
      if (files_.levels > 0 && files_.levels != file_levels_) {
        return InputLineError(files_.orderbook, line, "{} levels, but the file name says {}", file_levels_,
                              files_.levels);
      }
    }
    if (fields_.size() != static_cast<size_t>(file_levels_) * 4) {
      return InputLineError(files_.orderbook, line, "{} fields, the file's first line has {}", fields_.size(),
                            file_levels_ * 4);
    }
    row->bids.clear();
    row->asks.clear();
    for (int level = 0; level < file_levels_; ++level) {
      for (int s = 0; s < 2; ++s) {
        const size_t at = static_cast<size_t>(level) * 4 + static_cast<size_t>(s) * 2;
        int64_t price = 0, size = 0;
        if (!ParseInteger(fields_[at], &price) || price < kDummyBid || price > kDummyAsk) {
          return InputLineError(files_.orderbook, line, "field {}: price '{}' is not a valid integer", at + 1,
                                fields_[at]);
        }
        if (!ParseInteger(fields_[at + 1], &size) || size < 0) {
          return InputLineError(files_.orderbook, line, "field {}: size '{}' is not a valid size", at + 2,
                                fields_[at + 1]);
        }
        std::vector<Level>& levels = s == 0 ? row->asks : row->bids;
        const bool dummy = price == (s == 0 ? kDummyAsk : kDummyBid);
        if (dummy || size == 0) {
          if (!(dummy && size == 0)) {
            return InputLineError(files_.orderbook, line, "field {}: an empty level has price {} and size {}", at + 1,
                                  price, size);
          }
          continue;
        }
        const Side side = s == 0 ? Side::kAsk : Side::kBid;
        const int64_t scaled = price * kLobsterPriceToFixed;
        if (!levels.empty() && !(AtLeastAsGood(side, levels.back().price, scaled) && levels.back().price != scaled)) {
          return InputLineError(files_.orderbook, line, "field {}: level {} is not behind level {}", at + 1, level + 1,
                                level);
        }
        levels.push_back(Level{scaled, static_cast<uint64_t>(size), 0});
      }
    }
    return Status::OK();
  }

  // Make `row` the book, and the prices it covers the known region.
  void SetKnown(const FileRow& row) {
    for (const Side side : {Side::kBid, Side::kAsk}) {
      const std::vector<Level>& levels = side == Side::kBid ? row.bids : row.asks;
      PriceLevels& book = book_.side(side);
      book.Clear();
      for (const Level& l : levels) book.Add(l.price, l.size, 0);
      // A side with empty levels is wholly stated; a full one only down to its deepest level.
      const bool full = static_cast<int>(levels.size()) == file_levels_;
      const int64_t open = side == Side::kBid ? INT64_MIN : INT64_MAX;
      bound_[static_cast<size_t>(side)] = full ? levels.back().price : open;
    }
  }

  // Apply message `m` to the book, or take its effect off (`undo`, for the seed).
  void Apply(const Message& m, bool undo) {
    if (m.type > 4 || m.size == 0) return;  // hidden executions, crosses and halts change no level
    PriceLevels& levels = book_.side(SideOfDirection(m.direction));
    const int64_t price = m.price * kLobsterPriceToFixed;
    const auto size = static_cast<uint64_t>(m.size);
    if ((m.type == 1) != undo) {
      levels.Add(price, size, 0);
    } else {
      // A level the book lacks (outside the known region, or a message that disagrees with the
      // file) stays as it is; Compose finds a disagreement inside the known region.
      if (!levels.Subtract(price, size, 0)) {
        const Level at = levels.At(price);
        if (at.size > 0 && at.size < size) levels.Set(price, 0, 0);
      }
    }
  }

  // Build the row's book: the messages' levels inside the known region, then the file's deeper
  // ones; return whether it equals the file's row.
  bool Compose(const FileRow& row) {
    bool same = true;
    for (const Side side : {Side::kBid, Side::kAsk}) {
      const int64_t bound = bound_[static_cast<size_t>(side)];
      const PriceLevels& book = book_.side(side);
      const std::vector<Level>& file = side == Side::kBid ? row.bids : row.asks;
      merged_.clear();
      for (size_t i = 0; i < book.size() && merged_.size() < static_cast<size_t>(file_levels_); ++i) {
        const Level l = book[i];
        if (!AtLeastAsGood(side, l.price, bound)) break;
        merged_.push_back(l);
      }
      for (const Level& l : file) {
        if (merged_.size() == static_cast<size_t>(file_levels_)) break;
        if (!AtLeastAsGood(side, l.price, bound)) merged_.push_back(l);
      }
      same = same && merged_ == file;
      PriceLevels& out = out_.side(side);
      out.Clear();
      for (const Level& l : merged_) out.Add(l.price, l.size, 0);
    }
    return same;
  }

  RowEvent EventOf(const Message& m, int64_t line) const {
    RowEvent e;
    e.ts_event = e.ts_recv = static_cast<uint64_t>(day_ns_ + m.time_ns);
    e.instrument_id = instrument_id_;
    static constexpr std::array<char, 8> kActions = {0, 'A', 'C', 'C', 'F', 'T', 'T', 'N'};
    e.action = kActions[static_cast<size_t>(m.type)];
    e.flags = dbn::flag::kLast;
    e.sequence = static_cast<uint32_t>(line);
    if (m.type == 7) {
      e.side = 'N';
      return e;
    }
    const Side side = SideOfDirection(m.direction);
    e.side = side == Side::kBid ? 'B' : 'A';
    e.price = m.price * kLobsterPriceToFixed;
    e.size = static_cast<uint32_t>(m.size);
    if (m.type <= 4) e.depth = static_cast<uint8_t>(std::min<size_t>(out_.side(side).CountBetter(e.price), UINT8_MAX));
    return e;
  }

  LobsterFiles files_;
  LineReader messages_, orderbook_;
  BookOptions options_;
  dbn::Metadata metadata_;
  dbn::SymbolMap symbols_;
  BookStats stats_;
  uint32_t instrument_id_ = 0;
  int64_t day_ns_ = 0;
  int file_levels_ = 0;
  int64_t last_time_ns_ = 0;
  Book book_;  // the book the next message applies to
  Book out_;   // the row's book
  // Per side (Side order): the worst price the book states exactly.
  std::array<int64_t, 2> bound_{};
  Message first_message_;
  FileRow first_row_;
  bool has_first_ = false;
  std::vector<std::string_view> fields_;
  std::vector<Level> merged_;
};

}  // namespace lobster_internal

LobsterBookReader::~LobsterBookReader() = default;

Result<std::shared_ptr<LobsterBookReader>> LobsterBookReader::Open(const std::string& message,
                                                                   const BookOptions& options) {
  std::shared_ptr<LobsterBookReader> reader(new LobsterBookReader());
  ARROW_ASSIGN_OR_RAISE(reader->replay_, lobster_internal::LobsterReplay::Start(message, options));
  MbpRowOptions rows;
  rows.levels = options.levels;
  rows.batch_rows = options.batch_rows;
  ARROW_ASSIGN_OR_RAISE(reader->builder_, MbpRowBuilder::Make(rows, &reader->replay_->symbols()));
  return reader;
}

std::shared_ptr<arrow::Schema> LobsterBookReader::schema() const { return builder_->schema(); }

const BookStats& LobsterBookReader::stats() const { return replay_->stats(); }

const dbn::Metadata& LobsterBookReader::metadata() const { return replay_->metadata(); }

const LobsterFiles& LobsterBookReader::files() const { return replay_->files(); }

Status LobsterBookReader::ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) {
  *batch = nullptr;
  while (!done_ && !builder_->full()) {
    RowEvent event;
    ARROW_ASSIGN_OR_RAISE(const bool more, replay_->Next(&event));
    if (!more) {
      done_ = true;
      break;
    }
    ARROW_RETURN_NOT_OK(builder_->Append(event, replay_->book()));
    ++replay_->stats().rows;
  }
  if (builder_->rows() == 0) return Status::OK();
  ARROW_ASSIGN_OR_RAISE(*batch, builder_->Finish());
  return Status::OK();
}

}  // namespace tickforge::book
