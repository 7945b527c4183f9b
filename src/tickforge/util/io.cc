#include "tickforge/util/io.h"

#include <arrow/io/compressed.h>
#include <arrow/io/file.h>
#include <arrow/util/compression.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "tickforge/util/files.h"

namespace tickforge {

bool LooksLikeZstd(const uint8_t* bytes, size_t n) {
  if (n < 4) return false;
  uint32_t magic;
  std::memcpy(&magic, bytes, 4);
  return magic == 0xFD2FB528u || (magic & 0xFFFFFFF0u) == 0x184D2A50u;
}

Result<InputFile> WrapInput(std::shared_ptr<arrow::io::RandomAccessFile> raw) {
  InputFile input;
  input.raw = raw;
  ARROW_ASSIGN_OR_RAISE(input.raw_size, raw->GetSize());
  input.head.resize(16);
  ARROW_ASSIGN_OR_RAISE(int64_t got, raw->ReadAt(0, static_cast<int64_t>(input.head.size()), input.head.data()));
  input.head.resize(static_cast<size_t>(got));
  ARROW_RETURN_NOT_OK(raw->Seek(0));  // ReadAt leaves a file's implicit position undefined
  input.compressed = LooksLikeZstd(input.head.data(), input.head.size());
  if (input.compressed) {
    ARROW_ASSIGN_OR_RAISE(input.codec, arrow::util::Codec::Create(arrow::Compression::ZSTD));
    ARROW_ASSIGN_OR_RAISE(input.stream,
                          arrow::io::CompressedInputStream::Make(input.codec.get(), raw));
  } else {
    input.stream = raw;
  }
  return input;
}

Result<InputFile> OpenInput(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto file, OpenReadable(path));
  return WrapInput(std::move(file));
}

namespace {

std::atomic<uint64_t> temp_counter{0};

class NamedOutputStream final : public arrow::io::OutputStream {
 public:
  NamedOutputStream(std::shared_ptr<arrow::io::OutputStream> inner, std::string path)
      : inner_(std::move(inner)), path_(std::move(path)) {}

  Status Close() override { return WithPath(inner_->Close(), path_); }
  Status Abort() override { return WithPath(inner_->Abort(), path_); }
  bool closed() const override { return inner_->closed(); }
  Result<int64_t> Tell() const override { return Named(inner_->Tell()); }
  Status Write(const void* data, int64_t nbytes) override { return WithPath(inner_->Write(data, nbytes), path_); }
  Status Write(const std::shared_ptr<arrow::Buffer>& data) override { return WithPath(inner_->Write(data), path_); }
  Status Flush() override { return WithPath(inner_->Flush(), path_); }

 private:
  template <typename T>
  Result<T> Named(Result<T> result) const {
    if (!result.ok()) return WithPath(result.status(), path_);
    return result;
  }

  std::shared_ptr<arrow::io::OutputStream> inner_;
  std::string path_;
};

}  // namespace

std::shared_ptr<arrow::io::OutputStream> NamingErrors(std::shared_ptr<arrow::io::OutputStream> stream,
                                                      std::string path) {
  return std::make_shared<NamedOutputStream>(std::move(stream), std::move(path));
}

Result<std::unique_ptr<AtomicFile>> AtomicFile::Create(const std::filesystem::path& path) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return Status::IOError(path.parent_path().string(), ": cannot create directory: ", ec.message());
  auto tmp = path.parent_path() /
             fmt::format(".{}.tmp-{}-{}", path.filename().string(), ::getpid(), temp_counter++);
  auto stream = arrow::io::FileOutputStream::Open(tmp.string());
  if (!stream.ok()) return WithPath(stream.status(), tmp.string());
  // Errors name the file the caller asked for, not the hidden temporary one.
  return std::unique_ptr<AtomicFile>(new AtomicFile(path, tmp, NamingErrors(*stream, path.string())));
}

AtomicFile::~AtomicFile() { Abort(); }

void AtomicFile::Abort() {
  if (done_) return;
  done_ = true;
  (void)stream_->Close();
  ::unlink(tmp_.c_str());
}

Status AtomicFile::Finish() {
  if (done_) return Status::Invalid(path_.string(), ": file already committed or aborted");
  // A compressing wrapper may already have closed the stream when it was finished.
  if (!stream_->closed()) {
    if (auto status = stream_->Close(); !status.ok()) {
      Abort();
      return WithPath(status, tmp_.string());
    }
  }
  done_ = true;
  return SyncFile(tmp_);
}

Status AtomicFile::Commit() {
  ARROW_RETURN_NOT_OK(Finish());
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_.c_str());
    return Status::IOError(path_.string(), ": cannot rename into place: ", std::strerror(err));
  }
  return SyncDirectory(path_.has_parent_path() ? path_.parent_path() : ".");
}

Status AtomicFile::CommitNew() {
  ARROW_RETURN_NOT_OK(Finish());
  const int rc = ::link(tmp_.c_str(), path_.c_str());
  const int err = errno;
  ::unlink(tmp_.c_str());
  if (rc != 0) {
    if (err == EEXIST) return Status::AlreadyExists(path_.string(), ": exists already");
    return Status::IOError(path_.string(), ": ", std::strerror(err));
  }
  return SyncDirectory(path_.has_parent_path() ? path_.parent_path() : ".");
}

namespace {
Status Sync(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) return Status::IOError(path.string(), ": cannot open: ", std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::IOError(path.string(), ": fsync failed: ", std::strerror(errno));
  return Status::OK();
}
}  // namespace

Status SyncFile(const std::filesystem::path& path) { return Sync(path, 0); }

Status SyncDirectory(const std::filesystem::path& dir) { return Sync(dir, O_DIRECTORY); }

}  // namespace tickforge
