#include "tickforge/book/depth_build.h"

#include <arrow/type.h>
#include <arrow/util/key_value_metadata.h>
#include <fmt/format.h>

#include "tickforge/book/binance_csv.h"
#include "tickforge/book/binance_depth.h"
#include "tickforge/book/bybit.h"
#include "tickforge/book/hyperliquid.h"
#include "tickforge/book/decimal.h"
#include "tickforge/book/depth_lines.h"
#include "tickforge/book/mbp_rows.h"
#include "tickforge/dbn/metadata.h"
#include "tickforge/dbn/to_arrow.h"
#include "tickforge/util/files.h"
#include "tickforge/util/io.h"

namespace tickforge::book {
namespace {

std::string_view FormatName(InputFormat format) {
  switch (format) {
    case InputFormat::kAuto: return "auto";
    case InputFormat::kMbo: return "mbo";
    case InputFormat::kBinance: return "binance";
    case InputFormat::kBybit: return "bybit";
    case InputFormat::kHyperliquid: return "hyperliquid";
    case InputFormat::kBinanceCsv: return "binance-csv";
    case InputFormat::kLobster: return "lobster";
  }
  return "";
}

// The format a first line shows, or nullopt.
std::optional<InputFormat> FormatOfLine(std::string_view line) {
  if (line.starts_with("symbol,timestamp,first_update_id")) return InputFormat::kBinanceCsv;
  uint64_t recv = 0;
  std::string_view json;
  if (!SplitReceiveLine(line, &recv, &json)) json = line;
  if (!json.starts_with("{")) return std::nullopt;
  if (json.find("\"topic\"") != std::string_view::npos) return InputFormat::kBybit;
  if (json.find("\"channel\"") != std::string_view::npos) return InputFormat::kHyperliquid;
  if (json.data() != line.data() &&
      (json.find("\"stream\"") != std::string_view::npos || json.find("\"lastUpdateId\"") != std::string_view::npos)) {
    return InputFormat::kBinance;
  }
  return std::nullopt;
}

// How many lines detection may read looking for the first quantity (Binance).
constexpr size_t kMaxProbeLines = 10000;
constexpr int kVenueSizeScale = 8;

}  // namespace

nlohmann::ordered_json DepthStats::ToJson() const {
  nlohmann::ordered_json gaps_json = nlohmann::ordered_json::array();
  for (const auto& gap : gap_list) {
    gaps_json.push_back({{"line", gap.line}, {"expected", gap.expected}, {"got", gap.got}, {"reason", gap.reason}});
  }
  return {{"input", input},       {"output", output},       {"format", format},       {"symbol", CleanSymbol(symbol)},
          {"size_scale", size_scale}, {"lines", lines},     {"messages", messages},   {"events", events},
          {"rows", rows},         {"snapshots", snapshots}, {"stale", stale},         {"unsynced", unsynced},
          {"skipped", skipped},   {"crossed", crossed},     {"gaps", gaps},           {"gap_list", gaps_json},
          {"input_bytes", input_bytes}, {"output_bytes", output_bytes}};
}

Result<InputFormat> DetectBookInput(const std::string& path) {
  {
    ARROW_ASSIGN_OR_RAISE(auto file, OpenReadable(path));
    uint8_t head[4] = {0, 0, 0, 0};
    ARROW_ASSIGN_OR_RAISE(int64_t got, file->Read(4, head));
    if ((got >= 3 && head[0] == 'D' && head[1] == 'B' && head[2] == 'N') || LooksLikeZstd(head, static_cast<size_t>(got))) {
      return InputFormat::kMbo;
    }
  }
  ARROW_ASSIGN_OR_RAISE(auto lines, DepthLines::Open(path));
  std::string_view line;
  while (true) {
    ARROW_ASSIGN_OR_RAISE(bool more, lines->Next(&line));
    if (!more) return InputError(path, 0, "empty file: not an MBO file nor a depth stream");
    if (!line.empty()) break;
  }
  auto format = FormatOfLine(line);
  if (!format) {
    return InputLineError(path, lines->line(),
                          "not a known book input (DBN MBO, a Binance/Hyperliquid capture `<receive ns> <json>`, "
                          "Bybit orderbook lines, Binance's order-book CSV); give --format");
  }
  return *format;
}

DepthBookReader::~DepthBookReader() = default;

Result<std::shared_ptr<DepthBookReader>> DepthBookReader::Open(const std::string& path, const BookOptions& options) {
  InputFormat format = options.input.format;
  if (format == InputFormat::kAuto) {
    ARROW_ASSIGN_OR_RAISE(format, DetectBookInput(path));
  }
  if (format == InputFormat::kMbo) return Status::Invalid(path, ": an MBO file, not a depth stream");
  ARROW_ASSIGN_OR_RAISE(auto lines, DepthLines::Open(path));
  return Start(std::move(lines), format, options);
}

Result<std::shared_ptr<DepthBookReader>> DepthBookReader::FromMemory(std::string_view bytes,
                                                                     const BookOptions& options) {
  ARROW_ASSIGN_OR_RAISE(auto lines, DepthLines::FromMemory(bytes));
  InputFormat format = options.input.format;
  if (format == InputFormat::kMbo) return Status::Invalid("<memory>: MBO is read by MboBookReader");
  return Start(std::move(lines), format, options);
}

Result<std::shared_ptr<DepthBookReader>> DepthBookReader::Start(std::unique_ptr<DepthLines> lines, InputFormat format,
                                                                const BookOptions& options) {
  if (options.input.size_scale < -1 || options.input.size_scale > kMaxScale) {
    return Status::Invalid("size_scale must be -1 (per file) or 0 to ", kMaxScale, ", got ", options.input.size_scale);
  }
  std::shared_ptr<DepthBookReader> reader(new DepthBookReader());
  reader->lines_ = std::move(lines);
  const std::string& path = reader->lines_->path();
  // Detection reads ahead; what it reads is held and fed first.
  auto probe_line = [&reader](std::string_view* line) -> Result<bool> {
    ARROW_ASSIGN_OR_RAISE(bool more, reader->lines_->Next(line));
    if (more) reader->held_.emplace_back(*line);
    return more;
  };
  std::string_view line;
  if (format == InputFormat::kAuto) {
    while (true) {
      ARROW_ASSIGN_OR_RAISE(bool more, probe_line(&line));
      if (!more) return InputError(path, 0, "empty input: not a depth stream");
      if (!line.empty()) break;
    }
    const auto detected = FormatOfLine(line);
    if (!detected) return InputLineError(path, reader->lines_->line(), "not a known depth-stream line");
    format = *detected;
  }
  DepthFeedOptions feed_options;
  feed_options.path = path;
  feed_options.strict = options.strict;
  std::string symbol;
  int scale = options.input.size_scale;
  // Return the held line `i`, reading it first when needed.
  auto held = [&](size_t i, std::string_view* out) -> Result<bool> {
    while (reader->held_.size() <= i) {
      ARROW_ASSIGN_OR_RAISE(bool more, probe_line(out));
      if (!more) return false;
    }
    *out = reader->held_[i];
    return true;
  };
  if (format == InputFormat::kBinance) {
    // Binance pads quantities to the market's precision: the first one gives the scale.
    for (size_t i = 0; i < kMaxProbeLines; ++i) {
      ARROW_ASSIGN_OR_RAISE(bool more, held(i, &line));
      if (!more) break;
      const BinanceProbe probe = ProbeBinanceLine(line);
      if (symbol.empty()) symbol = probe.symbol;
      if (scale < 0 && probe.size_decimals) scale = *probe.size_decimals;
      if (scale >= 0 && !symbol.empty()) break;
    }
  }
  if (format == InputFormat::kBybit || format == InputFormat::kHyperliquid) {
    ARROW_ASSIGN_OR_RAISE(bool more, held(0, &line));
    if (more) symbol = format == InputFormat::kBybit ? ProbeBybitSymbol(line) : ProbeHyperliquidSymbol(line);
  }
  if (format == InputFormat::kBinanceCsv) {
    // The header, then the first row: its qty has the market's padded precision.
    ARROW_ASSIGN_OR_RAISE(bool more, held(1, &line));
    if (more) {
      symbol = std::string(line.substr(0, line.find(',')));
      if (auto places = ProbeBinanceCsvLine(line); places && scale < 0) scale = *places;
    }
  }
  if (scale < 0) scale = kVenueSizeScale;
  feed_options.size_scale = scale;
  switch (format) {
    case InputFormat::kBinance:
      reader->feed_ = MakeBinanceFeed(feed_options);
      break;
    case InputFormat::kBinanceCsv:
      reader->feed_ = MakeBinanceCsvFeed(feed_options);
      break;
    case InputFormat::kBybit:
      reader->feed_ = MakeBybitFeed(feed_options);
      break;
    case InputFormat::kHyperliquid:
      reader->feed_ = MakeHyperliquidFeed(feed_options);
      break;
    default:
      return Status::NotImplemented(path, ": the ", FormatName(format), " book input is not supported yet");
  }
  symbol = CleanSymbol(symbol);
  if (!symbol.empty()) reader->feed_->stats().symbol = symbol;

  MbpRowOptions row_options;
  row_options.levels = options.levels;
  row_options.batch_rows = options.batch_rows;
  row_options.wide = true;
  row_options.map_symbols = !symbol.empty();
  if (row_options.map_symbols) {
    // One instrument per file, id 0, under the venue's symbol for all time.
    dbn::Metadata metadata;
    metadata.stype_in = 0;
    metadata.mappings.push_back({"0", {{19700101, 99991231, symbol}}});
    reader->symbols_ = std::make_unique<dbn::SymbolMap>();
    ARROW_RETURN_NOT_OK(reader->symbols_->Insert(metadata));
  }
  ARROW_ASSIGN_OR_RAISE(reader->builder_, MbpRowBuilder::Make(row_options, reader->symbols_.get()));
  const nlohmann::ordered_json build = {
      {"source", std::filesystem::path(path).filename().string()},
      {"source_format", FormatName(format)},
      {"symbol", symbol},
      {"ts_event", format == InputFormat::kBinance  ? "E (event time, ms)"
                   : format == InputFormat::kBybit  ? "ts (ms)"
                   : format == InputFormat::kHyperliquid ? "time (ms)"
                                                   : "timestamp (ms)"},
      {"size_scale", scale},
      {"price_scale", kPriceScale},
      {"options", BookBuildOptionsTable().ToJson(options)},
  };
  reader->schema_ = reader->builder_->schema()->WithMetadata(arrow::KeyValueMetadata::Make(
      {"tickforge.book", "tickforge.size_scale", "tickforge.price_scale"},
      {build.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace), std::to_string(scale), std::to_string(kPriceScale)}));
  return reader;
}

Status DepthBookReader::ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) {
  *batch = nullptr;
  if (done_) return Status::OK();
  RowEvent event;
  while (!builder_->full()) {
    ARROW_ASSIGN_OR_RAISE(bool row, feed_->Next(&event));
    if (row) {
      ARROW_RETURN_NOT_OK(builder_->Append(event, feed_->book()));
      continue;
    }
    if (finished_) {
      done_ = true;
      break;
    }
    if (held_at_ < held_.size()) {
      const std::string held = std::move(held_[held_at_]);
      ++held_at_;
      // Feed a copy padded for the JSON parser; the held lines are few.
      std::string padded = held;
      padded.reserve(held.size() + kLinePadding);
      padded.append(kLinePadding, ' ');
      ARROW_RETURN_NOT_OK(feed_->Line(std::string_view(padded.data(), held.size()), static_cast<int64_t>(held_at_)));
      if (held_at_ == held_.size()) {
        held_.clear();
        held_at_ = 0;
      }
      continue;
    }
    std::string_view line;
    ARROW_ASSIGN_OR_RAISE(bool more, lines_->Next(&line));
    if (!more) {
      // Finish may release a last event (the CSV's): drain it before the end.
      ARROW_RETURN_NOT_OK(feed_->Finish(lines_->line()));
      finished_ = true;
      continue;
    }
    ARROW_RETURN_NOT_OK(feed_->Line(line, lines_->line()));
  }
  if (builder_->rows() == 0) return Status::OK();
  ARROW_ASSIGN_OR_RAISE(*batch, builder_->Finish());
  return Status::OK();
}

Result<DepthStats> BuildDepthFile(const std::string& input, const std::filesystem::path& output,
                                  const BookOptions& book, const ParquetWriteOptions& parquet) {
  ARROW_ASSIGN_OR_RAISE(auto reader, DepthBookReader::Open(input, book));
  ARROW_ASSIGN_OR_RAISE(auto file, ParquetFile::Create(output, reader->schema(), parquet));
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    ARROW_RETURN_NOT_OK(reader->ReadNext(&batch));
    if (!batch) break;
    ARROW_RETURN_NOT_OK(file->Write(*batch));
  }
  DepthStats stats = reader->stats();
  stats.output = output.string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(input, ec);
  stats.input_bytes = ec ? 0 : static_cast<int64_t>(size);
  ARROW_ASSIGN_OR_RAISE(stats.output_bytes, file->Close());
  return stats;
}

std::string DepthParquetNameFor(const std::filesystem::path& input, int levels) {
  std::string name = input.filename().string();
  for (const char* suffix : {".gz", ".zip", ".data", ".csv"}) {
    const std::string_view s(suffix);
    if (name.size() > s.size() && name.ends_with(s)) name.resize(name.size() - s.size());
  }
  return fmt::format("{}.mbp-{}.parquet", name, levels);
}

}  // namespace tickforge::book
