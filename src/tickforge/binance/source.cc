// Byte sources: a plain file, one zip entry, or memory.
#include "tickforge/binance/source_internal.h"

#include <arrow/io/interfaces.h>
#include <zip.h>

#include <algorithm>
#include <cstring>

#include "tickforge/util/files.h"

namespace tickforge::binance {
namespace {

class FileSource : public ByteSource {
 public:
  FileSource(std::shared_ptr<arrow::io::InputStream> stream, std::string path, int64_t size)
      : stream_(std::move(stream)), path_(std::move(path)), size_(size) {}
  Result<int64_t> Read(int64_t n, char* out) override {
    auto got = stream_->Read(n, out);
    if (!got.ok()) return WithPath(got.status(), path_);
    read_ += *got;
    return *got;
  }
  int64_t Remaining() const override { return size_ < 0 ? -1 : std::max<int64_t>(0, size_ - read_); }

 private:
  std::shared_ptr<arrow::io::InputStream> stream_;
  std::string path_;
  int64_t size_;
  int64_t read_ = 0;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  Result<int64_t> Read(int64_t n, char* out) override {
    const auto take = std::min<size_t>(static_cast<size_t>(n), bytes_.size() - pos_);
    if (take > 0) std::memcpy(out, bytes_.data() + pos_, take);
    pos_ += take;
    return static_cast<int64_t>(take);
  }
  int64_t Remaining() const override { return static_cast<int64_t>(bytes_.size() - pos_); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

std::string ZipErrorString(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string message = zip_error_strerror(&error);
  zip_error_fini(&error);
  return message;
}

// The single CSV entry of a zip archive, decompressed as it is read.
class ZipSource : public ByteSource {
 public:
  static Result<std::unique_ptr<ByteSource>> Open(const std::string& path) {
    int code = 0;
    // ZIP_CHECKCONS: a truncated archive fails here, at its central directory.
    zip_t* archive = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (archive == nullptr) {
      return InputError(path, 0, "not a readable zip archive: {}", ZipErrorString(code));
    }
    std::unique_ptr<ZipSource> source(new ZipSource(archive, path));
    const zip_int64_t entries = zip_get_num_entries(archive, 0);
    if (entries != 1) {
      return InputError(path, 0, "zip archive holds {} entries, expected exactly one CSV", entries);
    }
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(archive, 0, 0, &stat) != 0) {
      return InputError(path, 0, "zip entry unreadable: {}", zip_strerror(archive));
    }
    if (stat.valid & ZIP_STAT_NAME) source->entry_ = stat.name;
    if (stat.valid & ZIP_STAT_SIZE) source->size_ = static_cast<int64_t>(stat.size);
    source->file_ = zip_fopen_index(archive, 0, 0);
    if (source->file_ == nullptr) {
      return InputError(path, 0, "cannot open zip entry {}: {}", source->entry_, zip_strerror(archive));
    }
    return source;
  }
  ~ZipSource() override {
    if (file_ != nullptr) zip_fclose(file_);
    zip_discard(archive_);
  }
  Result<int64_t> Read(int64_t n, char* out) override {
    const zip_int64_t got = zip_fread(file_, out, static_cast<zip_uint64_t>(n));
    if (got < 0) {
      // libzip gives no position in the archive; the offset is into the entry's CSV bytes.
      return InputError(path_, read_, "corrupt zip data in entry {} (offset into its uncompressed bytes): {}",
                        entry_, zip_file_strerror(file_));
    }
    read_ += got;
    return static_cast<int64_t>(got);
  }
  int64_t Remaining() const override { return size_ < 0 ? -1 : std::max<int64_t>(0, size_ - read_); }

 private:
  ZipSource(zip_t* archive, std::string path) : archive_(archive), path_(std::move(path)) {}
  zip_t* archive_;
  zip_file_t* file_ = nullptr;
  std::string path_;
  std::string entry_;
  int64_t size_ = -1;
  int64_t read_ = 0;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto file, OpenReadable(path));
  auto size = file->GetSize();
  return std::make_unique<FileSource>(file, path, size.ok() ? *size : -1);
}

Result<std::unique_ptr<ByteSource>> OpenZipSource(const std::string& path) { return ZipSource::Open(path); }

std::unique_ptr<ByteSource> MakeMemorySource(std::string_view bytes) { return std::make_unique<MemorySource>(bytes); }

}  // namespace tickforge::binance
