#include "tickforge/dbn/encoder.h"

#include <arrow/io/compressed.h>

namespace tickforge::dbn {

namespace {
constexpr size_t kPendingBytes = 1 << 20;
}  // namespace

Result<std::unique_ptr<Encoder>> Encoder::Open(const std::filesystem::path& path,
                                               const Metadata& metadata, EncoderOptions options) {
  std::unique_ptr<Encoder> encoder(new Encoder());
  ARROW_ASSIGN_OR_RAISE(encoder->file_, AtomicFile::Create(path));
  encoder->out_ = encoder->file_->stream();
  if (options.zstd) {
    ARROW_ASSIGN_OR_RAISE(encoder->codec_,
                          arrow::util::Codec::Create(arrow::Compression::ZSTD, options.zstd_level));
    ARROW_ASSIGN_OR_RAISE(encoder->out_, arrow::io::CompressedOutputStream::Make(
                                             encoder->codec_.get(), encoder->file_->stream()));
  }
  encoder->pending_.reserve(kPendingBytes);
  ARROW_ASSIGN_OR_RAISE(auto header, EncodeMetadata(metadata));
  ARROW_RETURN_NOT_OK(encoder->out_->Write(header.data(), static_cast<int64_t>(header.size())));
  return encoder;
}

Encoder::~Encoder() = default;

Status Encoder::Write(const RecordHeader* header) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(header);
  pending_.insert(pending_.end(), bytes, bytes + header->size());
  return pending_.size() >= kPendingBytes ? Flush() : Status::OK();
}

Status Encoder::Flush() {
  ARROW_RETURN_NOT_OK(out_->Write(pending_.data(), static_cast<int64_t>(pending_.size())));
  pending_.clear();
  return Status::OK();
}

Status Encoder::Close() {
  ARROW_RETURN_NOT_OK(Flush());
  if (codec_) ARROW_RETURN_NOT_OK(out_->Close());
  return file_->Commit();
}

}  // namespace tickforge::dbn
