#include "tickforge/store/ingest.h"

#include <arrow/api.h>
#include <arrow/compute/api.h>

#include <algorithm>

#include "tickforge/binance/binance.h"
#include "tickforge/book/build.h"
#include "tickforge/book/decimal.h"
#include "tickforge/book/depth_build.h"
#include "tickforge/book/lobster.h"
#include "tickforge/book/mbo_reader.h"
#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/schema.h"
#include "tickforge/dbn/to_arrow.h"
#include "tickforge/dbn/to_parquet.h"
#include "tickforge/util/prefetch.h"

namespace tickforge::store {

namespace {

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Fill DBN rows whose instrument has no symbol mapping with the instrument id, so every row
/// has a partition (a null would have nowhere to go).
class SymbolFill : public arrow::RecordBatchReader {
 public:
  explicit SymbolFill(std::shared_ptr<arrow::RecordBatchReader> input) : input_(std::move(input)) {}
  std::shared_ptr<arrow::Schema> schema() const override { return input_->schema(); }
  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* out) override {
    ARROW_RETURN_NOT_OK(input_->ReadNext(out));
    if (!*out) return arrow::Status::OK();
    const int symbol_index = (*out)->schema()->GetFieldIndex("symbol");
    auto symbol = (*out)->column(symbol_index);
    if (symbol->null_count() == 0) return arrow::Status::OK();
    ARROW_ASSIGN_OR_RAISE(auto ids, arrow::compute::Cast(*(*out)->GetColumnByName("instrument_id"), arrow::utf8()));
    ARROW_ASSIGN_OR_RAISE(auto filled, arrow::compute::CallFunction("coalesce", {symbol, ids}));
    ARROW_ASSIGN_OR_RAISE(*out, (*out)->SetColumn(symbol_index, (*out)->schema()->field(symbol_index)->WithNullable(false), filled.make_array()));
    return arrow::Status::OK();
  }

 private:
  std::shared_ptr<arrow::RecordBatchReader> input_;
};

/// Read a source's batches one ahead on a thread of their own, so decoding the next batch
/// overlaps with splitting, deduplicating and encoding this one (a DBN file is one reader: the
/// writer's threads have nothing else to overlap it with).
class PrefetchedReader : public arrow::RecordBatchReader {
 public:
  explicit PrefetchedReader(std::shared_ptr<arrow::RecordBatchReader> input)
      : schema_(input->schema()), prefetcher_(std::move(input), /*depth=*/2) {}
  std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  arrow::Status ReadNext(std::shared_ptr<arrow::RecordBatch>* out) override {
    ARROW_ASSIGN_OR_RAISE(*out, prefetcher_.Next());
    return arrow::Status::OK();
  }

 private:
  std::shared_ptr<arrow::Schema> schema_;
  BatchPrefetcher prefetcher_;
};

/// Return the store's dataset type of a DBN schema: its name without dashes, every OHLCV
/// interval one type.
std::string DbnType(dbn::Schema schema) {
  std::string name(dbn::SchemaName(schema));
  name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
  if (name.rfind("ohlcv", 0) == 0) name = "ohlcv";
  return name;
}

Result<IngestSource> OpenDbn(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto decoder, dbn::Decoder::Open(path));
  const auto& metadata = decoder->metadata();
  if (!metadata.schema) {
    return Status::Invalid(path, ": the file mixes several DBN schemas; the store takes one schema per file");
  }
  IngestSource source;
  source.path = path;
  const std::string name = DbnType(*metadata.schema);
  source.dataset = name;
  source.type = name;
  if (metadata.dataset.empty()) return Status::Invalid(path, ": the DBN metadata names no dataset");
  source.constants["dataset"] = metadata.dataset;
  dbn::ArrowOptions options;
  // Prices stay in DBN fixed point (int64, 1e-9) in the store: lossless, as DESIGN.md asks.
  options.price_type = dbn::PriceType::kFixed;
  ARROW_ASSIGN_OR_RAISE(auto reader, dbn::OpenDbnReader(std::move(decoder), options));
  source.schema = reader->schema();
  source.time_column = source.schema->field(0)->name();
  // The metadata is read; the records are decoded again when the writer gets to the file.
  source.open = [path, options]() -> Result<std::shared_ptr<arrow::RecordBatchReader>> {
    ARROW_ASSIGN_OR_RAISE(auto reader, dbn::OpenDbnReader(path, options));
    return std::make_shared<PrefetchedReader>(std::make_shared<SymbolFill>(std::move(reader)));
  };
  return source;
}

Result<IngestSource> OpenBinance(const std::string& path, const IngestOptions& options, bool single_input) {
  auto inferred = binance::InferFileInfo(path);
  IngestSource source;
  source.path = path;
  binance::Kind kind = binance::Kind::kKlines;
  std::string symbol, timeframe, exchange = options.exchange;
  if (inferred.ok()) {
    kind = inferred->kind;
    symbol = inferred->symbol;
    timeframe = inferred->timeframe;
    if (inferred->consolidated && !inferred->exchange.empty()) exchange = inferred->exchange;
    // Futures files are named as spot files are: their market keeps them in partitions of
    // their own (exchange=binance-um), or their rows would be taken for the spot rows' duplicates.
    if (!inferred->market.empty()) exchange += "-" + inferred->market;
  }
  if (!options.kind.empty()) {
    ARROW_ASSIGN_OR_RAISE(kind, binance::ParseKind(options.kind));
  } else if (!inferred.ok()) {
    return inferred.status();
  }
  if (!options.symbol.empty()) symbol = options.symbol;
  if (symbol.empty()) return Status::Invalid(path, ": the file name gives no symbol; pass one");
  if (kind == binance::Kind::kKlines && timeframe.empty()) {
    return Status::Invalid(path, ": the file name gives no kline interval (e.g. BTCUSDT-1m-2024-01.csv)");
  }
  source.type = source.dataset = std::string(binance::KindName(kind));
  source.time_column = "timestamp";
  source.constants = {{"exchange", exchange}, {"symbol", symbol}};
  if (kind == binance::Kind::kKlines) source.constants["timeframe"] = timeframe;
  binance::ReadOptions read;
  read.verify_checksum = options.verify_checksum;
  // Many files are read by as many threads at once; one file alone gets the thread pool.
  read.use_threads = single_input;
  if (inferred.ok() && inferred->consolidated) {
    // A Parquet file may carry extra columns: its schema is known only once opened (the
    // footer alone is read).
    ARROW_ASSIGN_OR_RAISE(auto reader, binance::OpenFile(path, kind, read));
    source.schema = reader->schema();
    source.open = [reader]() -> Result<std::shared_ptr<arrow::RecordBatchReader>> { return reader; };
  } else {
    source.schema = binance::NormalizedSchema(kind);
    source.open = [path, kind, read]() { return binance::OpenFile(path, kind, read); };
  }
  return source;
}

// LOBSTER's orderbook files are read with their message file, never alone.
bool IsLobsterOrderbookFile(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  return name.ends_with(".csv") && (name == "orderbook.csv" || name.find("_orderbook_") != std::string::npos);
}

// The rebuilt books of one MBO, depth-stream or LOBSTER input, as rows of an mbp10 dataset:
// partitioned by the data's dataset (the DBN dataset, "LOBSTER", or the depth venue) and
// symbol; a depth book's files record its size scale.
Result<IngestSource> OpenBookSource(const std::string& path, const BookIngestOptions& books, book::InputFormat format) {
  book::BookOptions options = books.book;
  options.input.format = format;
  IngestSource source;
  source.path = path;
  source.dataset = books.dataset;
  source.type = "mbp10";
  source.time_column = "ts_recv";
  // The reader is opened here for the schema (and the venue, the scale) and again by the writer.
  if (format == book::InputFormat::kLobster) {
    ARROW_ASSIGN_OR_RAISE(auto reader, book::LobsterBookReader::Open(path, options));
    source.constants["dataset"] = reader->metadata().dataset;
    source.schema = reader->schema();
  } else if (book::IsDepthFormat(format)) {
    ARROW_ASSIGN_OR_RAISE(auto reader, book::DepthBookReader::Open(path, options));
    source.constants["dataset"] = reader->stats().format;
    source.metadata["tickforge.size_scale"] = std::to_string(reader->stats().size_scale);
    source.metadata["tickforge.price_scale"] = std::to_string(book::kPriceScale);
    // The scale found in this file is the one the writer's reopen must use.
    options.input.size_scale = reader->stats().size_scale;
    source.schema = reader->schema();
  } else {
    ARROW_ASSIGN_OR_RAISE(auto reader, book::MboBookReader::Open(path, options));
    if (reader->metadata().dataset.empty()) return Status::Invalid(path, ": the DBN metadata names no dataset");
    source.constants["dataset"] = reader->metadata().dataset;
    source.schema = reader->schema();
  }
  source.schema = source.schema->RemoveMetadata();
  source.open = [path, options]() -> Result<std::shared_ptr<arrow::RecordBatchReader>> {
    ARROW_ASSIGN_OR_RAISE(auto reader, book::OpenBookReader(path, options));
    return std::make_shared<SymbolFill>(std::move(reader));
  };
  return source;
}

}  // namespace

std::map<std::string, ParquetColumnCoding> ParquetColumnsFor(const std::string& type) {
  for (uint16_t i = 0; i < dbn::kSchemaCount; ++i) {
    const auto schema = static_cast<dbn::Schema>(i);
    if (DbnType(schema) != type) continue;
    if (const dbn::RecordLayout* layout = dbn::LayoutOf(dbn::RTypeOf(schema))) return dbn::ParquetColumnsOf(*layout);
  }
  return {};
}

bool IsDbnPath(const std::string& path) {
  return EndsWith(path, ".dbn") || EndsWith(path, ".dbn.zst");
}

Result<IngestSource> OpenIngestSource(const std::string& path, const IngestOptions& options, bool single_input) {
  if (IsDbnPath(path)) return OpenDbn(path);
  return OpenBinance(path, options, single_input);
}

Result<std::vector<IngestSource>> OpenIngestSources(const std::string& path, const IngestOptions& options,
                                                   bool single_input) {
  const BookIngestOptions& books = options.books;
  if (!books.derive && !books.only) {
    ARROW_ASSIGN_OR_RAISE(auto source, OpenIngestSource(path, options, single_input));
    return std::vector<IngestSource>{std::move(source)};
  }
  if (IsLobsterOrderbookFile(path)) return std::vector<IngestSource>{};
  std::vector<IngestSource> sources;
  if (!books.only && !IsDbnPath(path) && !book::IsLobsterMessageFile(path) && binance::InferFileInfo(path).ok()) {
    // A Binance file has no book to rebuild: its rows alone.
    ARROW_ASSIGN_OR_RAISE(auto source, OpenIngestSource(path, options, single_input));
    sources.push_back(std::move(source));
    return sources;
  }
  ARROW_ASSIGN_OR_RAISE(const auto format, book::ResolveBookFormat(path, books.book));
  if (format == book::InputFormat::kMbo && !books.only) {
    ARROW_ASSIGN_OR_RAISE(auto raw, OpenIngestSource(path, options, single_input));
    const bool is_mbo = raw.type == "mbo";
    sources.push_back(std::move(raw));
    // Other DBN schemas (trades, mbp-10, ...) are ingested as they are; only MBO has a book.
    if (!is_mbo) return sources;
  }
  ARROW_ASSIGN_OR_RAISE(auto book, OpenBookSource(path, books, format));
  sources.push_back(std::move(book));
  return sources;
}

}  // namespace tickforge::store
