#include "tickforge/book/mbo_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "tickforge/book/mbo.h"
#include "tickforge/book/mbp_rows.h"
#include "tickforge/dbn/to_arrow.h"

namespace tickforge::book {

nlohmann::ordered_json BookStats::ToJson() const {
  return {{"input", input},         {"output", output},     {"records", records},
          {"messages", messages},   {"events", events},     {"rows", rows},
          {"trailing", trailing},   {"crossed", crossed},   {"books", books},
          {"orders", orders},       {"halts", halts},       {"anomalies", anomalies.ToJson()},
          {"anomaly_total", anomalies.total()},
          {"input_bytes", input_bytes}, {"output_bytes", output_bytes}};
}

// The replay loop shared by the row reader and ReplayMbo: records in, books updated, one
// stop per event.
class MboReplay {
 public:
  static Result<std::unique_ptr<MboReplay>> Start(std::unique_ptr<dbn::Decoder> decoder, const BookOptions& options) {
    const dbn::Metadata& metadata = decoder->metadata();
    if (metadata.schema && *metadata.schema != dbn::Schema::kMbo) {
      return Status::Invalid(decoder->path(), ": books are built from MBO data; this file holds ",
                             dbn::SchemaName(*metadata.schema));
    }
    std::unique_ptr<MboReplay> replay(new MboReplay(std::move(decoder), options));
    ARROW_RETURN_NOT_OK(WithPath(replay->symbols_.Insert(metadata), replay->decoder_->path()));
    replay->stats_.input = replay->decoder_->path();
    replay->stats_.input_bytes = replay->decoder_->raw_size();
    return replay;
  }

  // Apply records up to the next F_LAST; return that record (nullptr at the end of the file)
  // with its book in *book.
  Result<const dbn::MboMsg*> NextEvent(uint32_t* book) {
    while (true) {
      ARROW_ASSIGN_OR_RAISE(const dbn::RecordHeader* record, decoder_->Next());
      if (record == nullptr) {
        Finish();
        return nullptr;
      }
      const int64_t index = stats_.records++;
      if (record->rtype != dbn::rtype::kMbo) {
        if (record->rtype == dbn::rtype::kSymbolMapping) {
          symbols_.Insert(*reinterpret_cast<const dbn::SymbolMappingMsg*>(record));
          symbols_changed_ = true;
        }
        continue;
      }
      const auto& msg = *reinterpret_cast<const dbn::MboMsg*>(record);
      ++stats_.messages;
      ++pending_;
      const MboBooks::Applied applied = books_.Apply(msg);
      if (applied.anomaly != Anomaly::kNone && options_.strict) return AnomalyError(index, msg, applied.anomaly);
      if ((msg.flags & dbn::flag::kLast) != 0) {
        pending_ = 0;
        ++stats_.events;
        const Book& b = books_.book(applied.book);
        stats_.crossed += b.crossed();
        *book = applied.book;
        return &msg;
      }
    }
  }

  // Return the ts_out the record carries (UNDEF when the stream has none).
  uint64_t TsOutOf(const dbn::MboMsg& msg) const {
    if (!decoder_->metadata().ts_out) return dbn::kUndefTimestamp;
    uint64_t ts_out;
    std::memcpy(&ts_out, reinterpret_cast<const uint8_t*>(&msg) + msg.hd.size() - 8, 8);
    return ts_out;
  }

  // Return whether symbol mappings arrived since the last call.
  bool TakeSymbolsChanged() { return std::exchange(symbols_changed_, false); }

  const MboBooks& books() const { return books_; }
  const dbn::SymbolMap& symbols() const { return symbols_; }
  const dbn::Decoder& decoder() const { return *decoder_; }
  const BookOptions& options() const { return options_; }
  BookStats& stats() { return stats_; }
  const BookStats& stats() const { return stats_; }

 private:
  MboReplay(std::unique_ptr<dbn::Decoder> decoder, const BookOptions& options)
      : decoder_(std::move(decoder)), options_(options) {}

  void Finish() {
    stats_.trailing = pending_;
    stats_.books = static_cast<int64_t>(books_.book_count());
    stats_.orders = static_cast<int64_t>(books_.live_orders());
    stats_.anomalies = books_.anomalies();
  }

  Status AnomalyError(int64_t index, const dbn::MboMsg& msg, Anomaly anomaly) const {
    return Status::Invalid(decoder_->path(), ": record ", index, " (byte ", decoder_->record_offset(),
                           " of the DBN stream): ", AnomalyDescription(anomaly), " (action '", msg.action,
                           "', order id ", msg.order_id, ", sequence ", msg.sequence, ", instrument ",
                           msg.hd.instrument_id, ", publisher ", msg.hd.publisher_id, ")");
  }

  std::unique_ptr<dbn::Decoder> decoder_;
  BookOptions options_;
  dbn::SymbolMap symbols_;
  bool symbols_changed_ = false;
  MboBooks books_;
  BookStats stats_;
  int64_t pending_ = 0;  // MBO records since the last F_LAST
};

namespace {

// The row fields of the event `msg` ended. Its depth is the level it touched: how many of its
// side's levels are better than its price, after the event (0 without a side or a price).
RowEvent EventOf(const dbn::MboMsg& msg, const Book& book, uint64_t ts_out) {
  RowEvent e;
  e.ts_recv = msg.ts_recv;
  e.ts_event = msg.hd.ts_event;
  e.publisher_id = msg.hd.publisher_id;
  e.instrument_id = msg.hd.instrument_id;
  e.action = msg.action;
  e.side = msg.side;
  const bool book_action = msg.action == 'A' || msg.action == 'C' || msg.action == 'M';
  if (book_action && (msg.side == 'B' || msg.side == 'A') && msg.price != dbn::kUndefPrice) {
    const size_t better = book.side(msg.side == 'B' ? Side::kBid : Side::kAsk).CountBetter(msg.price);
    e.depth = static_cast<uint8_t>(std::min<size_t>(better, UINT8_MAX));
  }
  e.price = msg.price;
  e.size = msg.size;
  e.flags = msg.flags;
  e.ts_in_delta = msg.ts_in_delta;
  e.sequence = msg.sequence;
  e.ts_out = ts_out;
  return e;
}

}  // namespace

MboBookReader::~MboBookReader() = default;

Result<std::shared_ptr<MboBookReader>> MboBookReader::Open(const std::string& path, const BookOptions& options) {
  ARROW_ASSIGN_OR_RAISE(auto decoder, dbn::Decoder::Open(path));
  return Open(std::move(decoder), options);
}

Result<std::shared_ptr<MboBookReader>> MboBookReader::Open(std::unique_ptr<dbn::Decoder> decoder,
                                                           const BookOptions& options) {
  std::shared_ptr<MboBookReader> reader(new MboBookReader());
  ARROW_ASSIGN_OR_RAISE(reader->replay_, MboReplay::Start(std::move(decoder), options));
  MbpRowOptions rows;
  rows.levels = options.levels;
  rows.ts_out = reader->replay_->decoder().metadata().ts_out;
  rows.batch_rows = options.batch_rows;
  ARROW_ASSIGN_OR_RAISE(reader->builder_, MbpRowBuilder::Make(rows, &reader->replay_->symbols()));
  return reader;
}

std::shared_ptr<arrow::Schema> MboBookReader::schema() const { return builder_->schema(); }

const BookStats& MboBookReader::stats() const { return replay_->stats(); }

const dbn::Metadata& MboBookReader::metadata() const { return replay_->decoder().metadata(); }

int64_t MboBookReader::raw_position() const { return replay_->decoder().raw_position(); }

int64_t MboBookReader::raw_size() const { return replay_->decoder().raw_size(); }

Status MboBookReader::ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) {
  *batch = nullptr;
  while (!done_ && !builder_->full()) {
    uint32_t b = 0;
    ARROW_ASSIGN_OR_RAISE(const dbn::MboMsg* msg, replay_->NextEvent(&b));
    if (msg == nullptr) {
      done_ = true;
      break;
    }
    if (replay_->TakeSymbolsChanged()) builder_->SymbolsChanged();
    const Book& book = replay_->books().book(b);
    ARROW_RETURN_NOT_OK(builder_->Append(EventOf(*msg, book, replay_->TsOutOf(*msg)), book));
    ++replay_->stats().rows;
  }
  if (builder_->rows() == 0) return Status::OK();
  ARROW_ASSIGN_OR_RAISE(*batch, builder_->Finish());
  return Status::OK();
}

Result<BookStats> ReplayMbo(const std::string& path, const BookOptions& options) {
  ARROW_ASSIGN_OR_RAISE(auto decoder, dbn::Decoder::Open(path));
  ARROW_ASSIGN_OR_RAISE(auto replay, MboReplay::Start(std::move(decoder), options));
  uint32_t b = 0;
  while (true) {
    ARROW_ASSIGN_OR_RAISE(const dbn::MboMsg* msg, replay->NextEvent(&b));
    if (msg == nullptr) break;
  }
  return replay->stats();
}

}  // namespace tickforge::book
