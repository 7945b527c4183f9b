// A symbol's series read back from its scratch parts (split_internal.h), chunk by chunk, in
// series order (docs/labeling.md "Series"): parts whose rows interleave in time are merged,
// the others stream batch by batch.
#pragma once

#include <arrow/api.h>
#include <arrow/ipc/api.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tickforge/label/split_internal.h"
#include "tickforge/util/status.h"

namespace tickforge::label::internal {

/// Rows of a series, in series order.
struct Chunk {
  std::shared_ptr<arrow::RecordBatch> rows;
  std::vector<int32_t> file;  // the input file of each row
};

/// Merges sorted parts into one stream in series order, holding one batch of each part at a
/// time: memory grows with the number of parts, not with their rows.
class PartMerger {
 public:
  /// Merge `parts` (ties: key, file, the row's position in its input, then the order given);
  /// `columns` empty means all, else they must include ts_event and sequence.
  PartMerger(std::vector<const Part*> parts, std::vector<std::string> columns);

  /// Return the next chunk of at most kMergeRows rows (with the row column when the parts
  /// have one), or nullopt at the end.
  [[nodiscard]] Result<std::optional<Chunk>> Next();

  static constexpr int64_t kMergeRows = 1 << 16;

 private:
  struct Cursor {
    const Part* part;
    int order;
    std::shared_ptr<arrow::ipc::RecordBatchFileReader> reader;
    int next_batch = 0;
    std::shared_ptr<arrow::RecordBatch> batch;
    int64_t pos = 0;
    const int64_t* ts = nullptr;
    const uint32_t* seq = nullptr;
    const int64_t* row = nullptr;  // null where the part has no row column: the position is used
    int64_t slot = -1;
  };
  Status Load(Cursor& cursor);  // the next non-empty batch; batch null at the end
  bool Less(const Cursor& a, const Cursor& b) const;

  std::vector<std::string> columns_;
  std::vector<Cursor> cursors_;
  std::vector<int> heap_;
  bool started_ = false;
};

/// Reads one symbol's series from its parts.
class SeriesReader {
 public:
  /// Read the parts of files < `max_file`; `columns` empty means all (ts_event and sequence
  /// are always read).
  SeriesReader(const SymbolInfo& info, int max_file, std::vector<std::string> columns);

  /// Return the next chunk, or nullopt at the end.
  [[nodiscard]] Result<std::optional<Chunk>> Next();

 private:
  struct Group {
    std::vector<const Part*> parts;
    Key last;
  };

  Status Open(const Part& part);

  std::vector<std::string> columns_;
  std::unique_ptr<PartMerger> merger_;
  std::vector<Group> groups_;
  size_t next_group_ = 0;
  std::shared_ptr<arrow::ipc::RecordBatchFileReader> part_;
  int next_batch_ = 0;
  int32_t file_ = 0;
};

}  // namespace tickforge::label::internal
