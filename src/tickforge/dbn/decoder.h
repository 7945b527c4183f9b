// Streaming DBN decoder: one record at a time with bounded memory, raw or zstd input,
// versions 1 to 3, older layouts upgraded to v3 as Databento's own decoder does.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tickforge/dbn/metadata.h"
#include "tickforge/dbn/records.h"
#include "tickforge/util/io.h"
#include "tickforge/util/status.h"

namespace tickforge::dbn {

struct DecoderOptions {
  /// Decode a headerless record stream (a ".frag" file) written in this DBN version.
  std::optional<uint8_t> fragment_version;
  /// Whether records of a fragment carry a trailing ts_out.
  bool fragment_ts_out = false;
};

class Decoder {
 public:
  /// Open a DBN file; compression is detected from its first bytes.
  [[nodiscard]] static Result<std::unique_ptr<Decoder>> Open(const std::string& path,
                                                              DecoderOptions options = {});
  /// Decode from an already opened input; `name` is used in error messages.
  [[nodiscard]] static Result<std::unique_ptr<Decoder>> Open(InputFile input, std::string name,
                                                              DecoderOptions options = {});

  /// Return the metadata (for fragments: a default block carrying the fragment's version).
  [[nodiscard]] const Metadata& metadata() const { return metadata_; }

  /// Return the next record in its v3 layout, or nullptr at the end of the stream. The
  /// pointer stays valid until the next call.
  [[nodiscard]] Result<const RecordHeader*> Next();

  /// Return the offset in the (decompressed) stream of the record Next() returned last.
  [[nodiscard]] uint64_t record_offset() const { return record_offset_; }
  /// Return `message` as an error at the record Next() returned last (file and offset).
  [[nodiscard]] Status FailAtRecord(const Status& status) const { return Fail(record_offset_, status); }
  /// Return how many bytes of the raw (possibly compressed) file were consumed so far.
  [[nodiscard]] int64_t raw_position() const;
  [[nodiscard]] int64_t raw_size() const { return input_.raw_size; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  Decoder(InputFile input, std::string path) : input_(std::move(input)), path_(std::move(path)) {}

  Status ReadMetadata(const DecoderOptions& options);
  // Make at least `n` unread bytes available; returns how many are (fewer only at the end).
  Result<size_t> Fill(size_t n);
  Result<const RecordHeader*> Upgrade(const RecordHeader* record, size_t size);
  Status Fail(uint64_t offset, const Status& status) const;

  InputFile input_;
  std::string path_;
  Metadata metadata_;
  std::vector<uint8_t> buffer_;
  size_t begin_ = 0;
  size_t end_ = 0;
  uint64_t consumed_ = 0;  // stream offset of buffer_[begin_]
  uint64_t record_offset_ = 0;
  bool eof_ = false;
  // The size check of the previous record's type, reused while the type repeats.
  int last_rtype_ = -1;
  size_t last_min_size_ = 0;
  alignas(8) std::array<uint8_t, 1024> scratch_{};
};

}  // namespace tickforge::dbn
