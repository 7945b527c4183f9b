// Finding and opening input files, written once: the hidden-name rule every reader follows,
// sorted listings of a folder, openers whose errors name the file, and Arrow compute's one-time
// initialisation.
#pragma once

#include <arrow/io/type_fwd.h>
#include <arrow/ipc/type_fwd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tickforge/util/status.h"

namespace tickforge {

/// Return whether a file or folder name is hidden from readers: empty, or starting with '.' or
/// '_' (temporary and internal files; Arrow, Spark, DuckDB and Polars skip them too).
[[nodiscard]] constexpr bool IsHiddenName(std::string_view name) {
  return name.empty() || name.front() == '.' || name.front() == '_';
}

struct ListOptions {
  /// Descend into folders (hidden folders are skipped whole).
  bool recursive = false;
  /// Keep only names ending with one of these (all regular files when empty).
  std::vector<std::string> suffixes;
};

/// Return the regular files of `dir` that are not hidden, sorted by path. Errors name the
/// folder and the operating system's reason.
[[nodiscard]] Result<std::vector<std::string>> ListFiles(const std::filesystem::path& dir,
                                                         const ListOptions& options = {});

/// Fail, before anything is written, when two inputs would write one output file (inputs of
/// the same name in different folders): the later would silently replace the earlier.
/// `outputs[i]` is the file `inputs[i]` writes.
[[nodiscard]] Status CheckDistinctOutputs(const std::vector<std::string>& inputs,
                                          const std::vector<std::filesystem::path>& outputs);

/// Open a file for random access; errors name the file.
[[nodiscard]] Result<std::shared_ptr<arrow::io::RandomAccessFile>> OpenReadable(const std::string& path);

/// Open an Arrow IPC file reading only the named columns (all when empty); errors name the file
/// and a missing column.
[[nodiscard]] Result<std::shared_ptr<arrow::ipc::RecordBatchFileReader>> OpenIpcFile(
    const std::string& path, const std::vector<std::string>& columns = {});

/// Register Arrow's compute functions once per process (callers of compute kernels first).
[[nodiscard]] Status InitializeCompute();

}  // namespace tickforge
