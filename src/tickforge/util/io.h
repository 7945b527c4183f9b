// File helpers shared by every module: transparent zstd input and atomically committed output.
#pragma once

#include <arrow/io/interfaces.h>
#include <arrow/util/compression.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tickforge/util/status.h"

namespace tickforge {

/// An input stream that hands out decompressed bytes, plus the raw file for progress.
struct InputFile {
  /// The codec the stream borrows; declared first so it outlives the stream.
  std::shared_ptr<arrow::util::Codec> codec;
  std::shared_ptr<arrow::io::InputStream> stream;
  std::shared_ptr<arrow::io::RandomAccessFile> raw;
  bool compressed = false;
  int64_t raw_size = 0;
  /// The file's first bytes (fewer if it is shorter), for format sniffing.
  std::vector<uint8_t> head;
};

/// Return true when `bytes` start with a zstd frame (regular or skippable).
[[nodiscard]] bool LooksLikeZstd(const uint8_t* bytes, size_t n);

/// Open `path`, detecting zstd compression from its first bytes rather than its name.
[[nodiscard]] Result<InputFile> OpenInput(const std::string& path);

/// Wrap an in-memory or other stream, detecting zstd the same way.
[[nodiscard]] Result<InputFile> WrapInput(std::shared_ptr<arrow::io::RandomAccessFile> raw);

/// Wrap `stream` so that every error it returns names `path` (Arrow's own file errors name no
/// file: "Error writing bytes to file").
[[nodiscard]] std::shared_ptr<arrow::io::OutputStream> NamingErrors(std::shared_ptr<arrow::io::OutputStream> stream,
                                                                    std::string path);

/// Write a file under a hidden temporary name and move it into place only on Commit(), so a
/// reader never sees a half-written file. An uncommitted file is removed on destruction.
class AtomicFile {
 public:
  /// Create the temporary file next to `path` (the parent directory is created if needed).
  [[nodiscard]] static Result<std::unique_ptr<AtomicFile>> Create(const std::filesystem::path& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Return the stream to write to.
  [[nodiscard]] const std::shared_ptr<arrow::io::OutputStream>& stream() const { return stream_; }
  /// Flush, fsync and rename into place. The stream must not be used afterwards.
  [[nodiscard]] Status Commit();
  /// Like Commit(), but only if no file has the name yet (a hard link, which fails if the name
  /// exists): of two writers racing for one name only one wins; the other gets AlreadyExists.
  [[nodiscard]] Status CommitNew();
  /// Drop the temporary file.
  void Abort();

 private:
  AtomicFile(std::filesystem::path path, std::filesystem::path tmp,
             std::shared_ptr<arrow::io::OutputStream> stream)
      : path_(std::move(path)), tmp_(std::move(tmp)), stream_(std::move(stream)) {}

  /// Close and fsync the temporary file before it is moved into place.
  [[nodiscard]] Status Finish();

  std::filesystem::path path_;
  std::filesystem::path tmp_;
  std::shared_ptr<arrow::io::OutputStream> stream_;
  bool done_ = false;
};

/// Fsync a file's data.
[[nodiscard]] Status SyncFile(const std::filesystem::path& path);
/// Fsync a directory so a rename inside it survives a crash.
[[nodiscard]] Status SyncDirectory(const std::filesystem::path& dir);

}  // namespace tickforge
