// One symbol's input as the builder collected it (Parquet files, or a table in memory), the
// reader of its raw batches, and what a file's footer tells before any row is read.
#pragma once

#include <arrow/record_batch.h>
#include <arrow/table.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>
#include <parquet/metadata.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tickforge/panel/panel.h"
#include "tickforge/util/status.h"

namespace tickforge::panel {

/// One symbol's input, as added; the plan fills in what the Parquet footers tell.
struct PanelBuilder::Source {
  std::string symbol;
  std::vector<std::string> paths;       // Parquet files, or
  std::shared_ptr<arrow::Table> table;  // rows in memory (already cast); null once released
  std::shared_ptr<arrow::Schema> schema;  // as the input stores it (before any cast)
  bool in_memory = false;
  int64_t bytes = 0;  // uncompressed size of the Parquet files (metadata), for read-ahead
  std::vector<std::shared_ptr<parquet::FileMetaData>> metadata;  // per path, parsed once
  std::set<std::string> null_free;  // columns known to hold no null

  std::string Name() const { return in_memory ? fmt::format("symbol '{}' (in memory)", symbol) : paths.front(); }
};

using Source = PanelBuilder::Source;

/// One input's raw batches (its own types), projected to `columns` (empty: all).
class RawReader {
 public:
  /// `drop_metadata`: forget each file's cached footer once opened, so the footers of hundreds
  /// of symbols are not all held while the panel streams (a later read parses them again).
  RawReader(std::shared_ptr<Source> source, std::vector<std::string> columns, int64_t batch_rows, bool use_threads,
            bool drop_metadata = false)
      : source_(std::move(source)),
        columns_(std::move(columns)),
        batch_rows_(batch_rows),
        use_threads_(use_threads),
        drop_metadata_(drop_metadata) {}

  /// Return the next batch, nullptr at the end.
  [[nodiscard]] Result<std::shared_ptr<arrow::RecordBatch>> Next();

  /// Return where the batch Next() returned last came from, for messages.
  [[nodiscard]] std::string current_name() const {
    return source_->in_memory ? source_->Name() : source_->paths[file_ == 0 ? 0 : file_ - 1];
  }
  /// Return the row number (in its file) of the first row of the batch Next() returned last.
  [[nodiscard]] int64_t row() const { return row_; }

 private:
  [[nodiscard]] Result<std::shared_ptr<arrow::Table>> Project(const std::shared_ptr<arrow::Table>& table) const;
  [[nodiscard]] Status OpenFile(const std::string& path, std::shared_ptr<parquet::FileMetaData> metadata);

  std::shared_ptr<Source> source_;
  std::vector<std::string> columns_;
  int64_t batch_rows_;
  bool use_threads_;
  bool drop_metadata_;
  size_t file_ = 0;
  bool opened_ = false;
  std::unique_ptr<parquet::arrow::FileReader> parquet_;
  std::shared_ptr<arrow::RecordBatchReader> reader_;
  int64_t row_ = 0;
  int64_t next_row_ = 0;
};

/// What a Parquet file's footer tells.
struct FileInfo {
  std::shared_ptr<arrow::Schema> schema;  // without the file's key-value metadata
  std::shared_ptr<parquet::FileMetaData> metadata;
  int64_t bytes = 0;  // uncompressed, summed over the row groups
  std::set<std::string> null_free;  // top-level columns whose statistics count no null
};

/// Read the footer of the Parquet file at `path`.
[[nodiscard]] Result<FileInfo> ReadFileInfo(const std::string& path);

}  // namespace tickforge::panel
