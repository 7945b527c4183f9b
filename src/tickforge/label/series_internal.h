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
  Result<std::optional<Chunk>> Merge(const Group& group);

  std::vector<std::string> columns_;
  std::vector<Group> groups_;
  size_t next_group_ = 0;
  std::shared_ptr<arrow::ipc::RecordBatchFileReader> part_;
  int next_batch_ = 0;
  int32_t file_ = 0;
};

}  // namespace tickforge::label::internal
