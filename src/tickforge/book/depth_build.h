// Depth-stream books: a capture or venue file in (book/binance_depth.h, bybit.h,
// hyperliquid.h, binance_csv.h), MBP-10 rows out, streamed as record batches or built into
// one Parquet file committed atomically. Sizes are exact fixed point with the file's scale in
// the schema metadata ("tickforge.size_scale"); size, sequence and the level sizes are uint64.
#pragma once

#include <arrow/record_batch.h>

#include <filesystem>
#include <memory>
#include <string>

#include "tickforge/book/depth_feed.h"
#include "tickforge/book/options.h"
#include "tickforge/util/parquet.h"

namespace tickforge::book {

class DepthLines;
class MbpRowBuilder;

/// Return the format of a depth-stream file from its first line, or kMbo when it is not one
/// (a DBN file: "DBN" or a zstd frame); an unreadable file is an error naming it.
[[nodiscard]] Result<InputFormat> DetectBookInput(const std::string& path);

/// The rows of one depth-stream file as record batches.
class DepthBookReader : public arrow::RecordBatchReader {
 public:
  /// Open `path` as `options.format` (kAuto: detected; kMbo is refused).
  [[nodiscard]] static Result<std::shared_ptr<DepthBookReader>> Open(const std::string& path,
                                                                     const BookOptions& options = {});
  /// Read `bytes` (plain or gzip), named "<memory>" in errors; `bytes` must outlive the reader.
  [[nodiscard]] static Result<std::shared_ptr<DepthBookReader>> FromMemory(std::string_view bytes,
                                                                           const BookOptions& options = {});
  ~DepthBookReader() override;

  [[nodiscard]] std::shared_ptr<arrow::Schema> schema() const override { return schema_; }
  [[nodiscard]] Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override;
  /// Return the counts so far; complete once ReadNext has returned the end of the stream.
  [[nodiscard]] const DepthStats& stats() const { return feed_->stats(); }

 private:
  DepthBookReader() = default;
  [[nodiscard]] static Result<std::shared_ptr<DepthBookReader>> Start(std::unique_ptr<DepthLines> lines,
                                                                      InputFormat format, const BookOptions& options);
  std::unique_ptr<DepthLines> lines_;
  std::unique_ptr<DepthFeed> feed_;
  std::unique_ptr<MbpRowBuilder> builder_;
  std::unique_ptr<dbn::SymbolMap> symbols_;
  std::shared_ptr<arrow::Schema> schema_;
  std::vector<std::string> held_;  // lines read while detecting, fed first
  size_t held_at_ = 0;
  bool finished_ = false;
  bool done_ = false;
};

/// Rebuild one depth-stream file into one Parquet file of rows; on any error (a strict gap
/// included) nothing is left at `output`.
[[nodiscard]] Result<DepthStats> BuildDepthFile(const std::string& input, const std::filesystem::path& output,
                                                const BookOptions& book, const ParquetWriteOptions& parquet);

/// Return the Parquet name of a depth file's rows: "btcusdt_20240808.gz" ->
/// "btcusdt_20240808.mbp-10.parquet" (".gz", ".zip", ".data", ".csv" are dropped).
[[nodiscard]] std::string DepthParquetNameFor(const std::filesystem::path& input, int levels);

}  // namespace tickforge::book
