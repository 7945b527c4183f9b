// Cross-sectional panels (docs/panel.md): hundreds of per-symbol tables combined into one
// table with a `symbol` column, streamed in bounded memory, with the cross-sectional filters
// min_cs and max_cs_samples applied on the way.
#pragma once

#include <arrow/record_batch.h>
#include <arrow/type_fwd.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tickforge/util/parquet.h"
#include "tickforge/util/progress.h"
#include "tickforge/util/status.h"

namespace tickforge::panel {

/// Row order of a panel: all rows of each symbol in turn (pandas concat of the sorted
/// symbols), or by time, then symbol (a k-way merge across the symbols).
enum class Order { kSymbol, kTime };

[[nodiscard]] Result<Order> ParseOrder(std::string_view name);
[[nodiscard]] std::string_view OrderName(Order order);

struct PanelOptions {
  /// Name of the column that holds each row's symbol.
  std::string symbol_column = "symbol";
  /// Skip symbols without this column; min_cs and max_cs_samples count its present values.
  /// Empty: no target.
  std::string target_column;
  /// The timestamp column. Empty: `ts`, else `timestamp`, else the only timestamp-typed column.
  std::string time_column;
  /// Read only these columns (plus what the filters need), in this order. Empty: all.
  std::vector<std::string> columns;
  /// Columns never cast to float32 (the symbol and time columns never are).
  std::vector<std::string> metadata_columns;
  /// Cast float64 columns other than metadata to float32.
  bool use_float32 = true;
  /// Bounded memory: in time order, per-symbol inputs read from Parquet are spilled to Arrow
  /// IPC files first. False: they are read into memory and merged there.
  bool streaming = true;
  /// Keep only timestamps where at least this many symbols have a present target. 0: off.
  int64_t min_cs = 0;
  /// At each timestamp keep at most this many symbols, chosen by a seeded hash. 0: off.
  int64_t max_cs_samples = 0;
  Order order = Order::kSymbol;
  uint64_t seed = 0;
  /// Rows per output batch.
  int64_t batch_rows = 65536;
  /// Memory for the per-symbol buffers of the time-order merge.
  int64_t merge_memory = 128 << 20;
  /// Where time order spills; empty: next to the output, else the system temp directory.
  std::filesystem::path spill_dir;
  /// Drop each in-memory input once its rows have been emitted (the panel can then be read
  /// only once).
  bool release_inputs = false;

  /// Check ranges and names.
  [[nodiscard]] Status Validate() const;
};

/// Return the cross-sectional selection hash of symbol `symbol` at time key `t`:
/// splitmix64(splitmix64(splitmix64(seed) ^ t) ^ fnv1a64(symbol)).
[[nodiscard]] uint64_t SelectionHash(uint64_t seed, int64_t t, std::string_view symbol);

struct SkippedSymbol {
  std::string symbol;
  std::string reason;
};

/// What a panel holds and what reading it did.
struct PanelReport {
  int64_t symbols_in = 0;
  std::vector<std::string> symbols;  ///< included, sorted
  std::vector<SkippedSymbol> skipped;
  std::string time_column;           ///< resolved; empty when there is none
  int64_t timestamps = 0;            ///< distinct timestamps with a present target (filters only)
  int64_t timestamps_kept = 0;       ///< of those, with at least min_cs symbols
  int64_t rows_out = 0;              ///< rows emitted so far
  int64_t spilled_bytes = 0;

  [[nodiscard]] nlohmann::ordered_json ToJson() const;
};

class PanelReader;

/// Collects per-symbol inputs, then streams them as one panel. Symbols come out in sorted
/// order whatever the order they were added in.
class PanelBuilder {
 public:
  explicit PanelBuilder(PanelOptions options);
  ~PanelBuilder();
  PanelBuilder(const PanelBuilder&) = delete;
  PanelBuilder& operator=(const PanelBuilder&) = delete;

  /// Add one symbol's Parquet files, read in the order given.
  [[nodiscard]] Status AddParquet(const std::string& symbol, std::vector<std::string> paths);
  /// Add every symbol of a directory: `NAME.parquet` is symbol NAME, and a subdirectory
  /// `<symbol_column>=NAME` holds symbol NAME's files (read in name order). Names starting with
  /// `_` or `.` are ignored.
  [[nodiscard]] Status AddDirectory(const std::filesystem::path& dir);
  /// Add one symbol's rows held in memory. Projection and the float32 cast happen now, so the
  /// caller may free its copy at once.
  [[nodiscard]] Status AddTable(const std::string& symbol, const std::shared_ptr<arrow::Table>& table);

  /// Plan the panel (schemas, skipped symbols, filter pass) and return a reader of it.
  [[nodiscard]] Result<std::shared_ptr<PanelReader>> Open();
  /// Return the plan's report without reading rows.
  [[nodiscard]] Result<PanelReport> Describe();
  /// Return the panel's schema without reading rows.
  [[nodiscard]] Result<std::shared_ptr<arrow::Schema>> Schema();
  /// Read the whole panel into one table.
  [[nodiscard]] Result<std::shared_ptr<arrow::Table>> Collect();
  /// Write the panel to one Parquet file that appears only when complete; return the report.
  /// `progress` is told the rows written (stage "build"); a callback that throws stops the
  /// write and leaves no file.
  [[nodiscard]] Result<PanelReport> WriteParquet(const std::filesystem::path& path,
                                                 const ParquetWriteOptions& write = {},
                                                 const ProgressFn& progress = {});

  [[nodiscard]] const PanelOptions& options() const { return options_; }

  struct Source;
  struct Plan;

 private:
  [[nodiscard]] Result<std::shared_ptr<Plan>> MakePlan();
  [[nodiscard]] Result<std::shared_ptr<PanelReader>> OpenWith(const std::filesystem::path& spill_dir);

  PanelOptions options_;
  std::map<std::string, std::shared_ptr<Source>> sources_;
  std::shared_ptr<Plan> plan_;
  bool opened_ = false;
};

/// The panel as a stream of record batches; report() fills in as it is read.
class PanelReader : public arrow::RecordBatchReader {
 public:
  ~PanelReader() override;
  [[nodiscard]] std::shared_ptr<arrow::Schema> schema() const override;
  [[nodiscard]] Status ReadNext(std::shared_ptr<arrow::RecordBatch>* batch) override;
  [[nodiscard]] PanelReport report() const;

  class Impl;
  explicit PanelReader(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tickforge::panel
