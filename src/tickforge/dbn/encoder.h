// DBN v3 encoder: metadata plus records, raw or zstd, committed atomically on Close().
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "tickforge/dbn/metadata.h"
#include "tickforge/dbn/records.h"
#include "tickforge/util/io.h"
#include "tickforge/util/status.h"

namespace tickforge::dbn {

struct EncoderOptions {
  bool zstd = true;
  int zstd_level = 3;
};

class Encoder {
 public:
  /// Start writing `path`; nothing appears under that name until Close() succeeds.
  [[nodiscard]] static Result<std::unique_ptr<Encoder>> Open(const std::filesystem::path& path,
                                                              const Metadata& metadata,
                                                              EncoderOptions options = {});
  ~Encoder();

  /// Append one record; `header->length` must match its size.
  [[nodiscard]] Status Write(const RecordHeader* header);
  template <typename T>
  [[nodiscard]] Status Write(const T& record) {
    return Write(&record.hd);
  }
  /// Finish the stream and move the file into place.
  [[nodiscard]] Status Close();

 private:
  Encoder() = default;
  Status Flush();
  std::unique_ptr<AtomicFile> file_;
  std::shared_ptr<arrow::util::Codec> codec_;
  std::shared_ptr<arrow::io::OutputStream> out_;
  // Records collect here so the compressor and the kernel see large writes.
  std::vector<uint8_t> pending_;
};

}  // namespace tickforge::dbn
