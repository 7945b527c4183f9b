// DBN records to Arrow record batches, with the columns of Databento's `DBNStore.to_df()`:
// the same names, order and value conventions, plus a `symbol` column resolved point in time.
#pragma once

#include <arrow/record_batch.h>
#include <arrow/type_fwd.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tickforge/dbn/decoder.h"
#include "tickforge/dbn/schema.h"
#include "tickforge/util/status.h"

namespace tickforge::dbn {

enum class PriceType {
  kFloat,  ///< float64 in currency units, UNDEF as NaN (to_df's default)
  kFixed,  ///< int64 in units of 1e-9, UNDEF kept as INT64_MAX
};

struct ArrowOptions {
  PriceType price_type = PriceType::kFloat;
  /// Timestamps as timestamp[ns, UTC] with UNDEF as null; otherwise raw uint64.
  bool pretty_ts = true;
  /// Add a `symbol` column resolved from the metadata's point-in-time mappings.
  bool map_symbols = true;
  /// Which records to convert; defaults to the metadata's schema, else the first record's type.
  std::optional<Schema> schema;
  int64_t batch_size = 1 << 16;
};

/// Point-in-time instrument_id -> symbol resolution, as Databento's InstrumentMap does it.
class SymbolMap {
 public:
  /// Add the metadata's mappings (one side of them must be instrument ids).
  [[nodiscard]] Status Insert(const Metadata& metadata);
  /// Add a mapping announced by a symbol-mapping record in the stream.
  void Insert(const SymbolMappingMsg& record);
  /// Return the symbol of `instrument_id` at `ts` (ns since the epoch), or nullptr.
  [[nodiscard]] const std::string* Resolve(uint32_t instrument_id, uint64_t ts) const;
  [[nodiscard]] bool empty() const { return by_instrument_.empty(); }
  /// Return the length of the longest symbol Resolve() may return.
  [[nodiscard]] size_t max_symbol_size() const { return max_symbol_size_; }

 private:
  struct Interval {
    int64_t start_day;
    int64_t end_day;
    uint32_t symbol;
  };
  void Add(uint32_t instrument_id, int64_t start_day, int64_t end_day, const std::string& symbol);

  std::unordered_map<uint32_t, std::vector<Interval>> by_instrument_;
  std::vector<std::string> symbols_;
  std::unordered_map<std::string, uint32_t> symbol_index_;
  size_t max_symbol_size_ = 0;
};

/// Return the Arrow schema of converted records of `layout`.
[[nodiscard]] std::shared_ptr<arrow::Schema> ArrowSchemaOf(const RecordLayout& layout,
                                                           const ArrowOptions& options, bool ts_out);

class SlabCache;

/// Collect records of one layout and turn them into a column-major record batch.
class BatchBuilder {
 public:
  BatchBuilder(const RecordLayout& layout, ArrowOptions options, bool ts_out, const SymbolMap* symbols);

  /// Copy one record in; it must be of this builder's layout.
  void Append(const RecordHeader* record);
  [[nodiscard]] int64_t rows() const { return rows_; }
  [[nodiscard]] const std::shared_ptr<arrow::Schema>& schema() const { return schema_; }
  /// Return the batch of everything appended since the last call.
  [[nodiscard]] Result<std::shared_ptr<arrow::RecordBatch>> Finish();

 private:
  const RecordLayout& layout_;
  ArrowOptions options_;
  bool ts_out_;
  const SymbolMap* symbols_;
  std::shared_ptr<arrow::Schema> schema_;
  size_t stride_;
  std::vector<uint64_t> staging_;  // rows_ records, stride_ bytes each, 8-byte aligned
  int64_t rows_ = 0;
  /// Column memory of released batches, reused by the next (see SlabCache in to_arrow.cc).
  std::shared_ptr<SlabCache> slabs_;
};

/// Open a DBN file as a stream of record batches of one record type.
[[nodiscard]] Result<std::shared_ptr<arrow::RecordBatchReader>> OpenDbnReader(
    const std::string& path, ArrowOptions options = {}, DecoderOptions decoder_options = {});

/// Open an already created decoder as a stream of record batches.
[[nodiscard]] Result<std::shared_ptr<arrow::RecordBatchReader>> OpenDbnReader(
    std::unique_ptr<Decoder> decoder, ArrowOptions options = {});

/// Return the layout of the records a reader from OpenDbnReader converts, or nullptr for
/// another reader.
[[nodiscard]] const RecordLayout* ConvertedLayout(const arrow::RecordBatchReader& reader);

/// Return the data records of other types a reader from OpenDbnReader has read past, by type
/// name: those of a mixed file read with a schema the caller named. (In a file whose metadata
/// names its schema, such a record is an error.)
[[nodiscard]] std::map<std::string, int64_t> SkippedRecords(const arrow::RecordBatchReader& reader);

/// Return the metadata as JSON (the shape of databento_dbn's Metadata, dates as YYYYMMDD).
[[nodiscard]] std::string MetadataToJson(const Metadata& metadata);

}  // namespace tickforge::dbn
