#include "tickforge/book/depth_lines.h"

#include <zlib.h>

#include <cstring>
#include <limits>
#include <vector>

#include "tickforge/binance/source_internal.h"

namespace tickforge::book {
namespace {

constexpr size_t kChunk = 1 << 16;

// A gzip stream (one member or several, as `cat a.gz b.gz` makes) inflated as it is read.
class GzipSource : public binance::ByteSource {
 public:
  GzipSource(std::unique_ptr<binance::ByteSource> raw, std::string path)
      : raw_(std::move(raw)), path_(std::move(path)), in_(kChunk) {}
  ~GzipSource() override {
    if (started_) inflateEnd(&z_);
  }

  Result<int64_t> Read(int64_t n, char* out) override {
    if (!started_) {
      std::memset(&z_, 0, sizeof(z_));
      if (inflateInit2(&z_, 15 + 16) != Z_OK) return Status::OutOfMemory(path_, ": cannot start zlib");
      started_ = true;
    }
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = static_cast<uInt>(std::min<int64_t>(n, std::numeric_limits<uInt>::max()));
    while (z_.avail_out > 0) {
      if (z_.avail_in == 0 && !raw_eof_) {
        ARROW_ASSIGN_OR_RAISE(int64_t got, raw_->Read(static_cast<int64_t>(in_.size()), in_.data()));
        z_.next_in = reinterpret_cast<Bytef*>(in_.data());
        z_.avail_in = static_cast<uInt>(got);
        raw_eof_ = got == 0;
      }
      if (z_.avail_in == 0 && raw_eof_) {
        if (in_member_) {
          return InputError(path_, consumed_, "truncated gzip stream: the file ends inside a compressed member");
        }
        break;
      }
      if (!in_member_) {
        // A member ended and more bytes follow: the next member starts here.
        if (inflateReset(&z_) != Z_OK) return InputError(path_, consumed_, "cannot restart zlib");
        in_member_ = true;
      }
      const uInt before = z_.avail_in;
      const int rc = inflate(&z_, Z_NO_FLUSH);
      consumed_ += before - z_.avail_in;
      if (rc == Z_STREAM_END) {
        in_member_ = false;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return InputError(path_, consumed_, "corrupt gzip data: {}", z_.msg != nullptr ? z_.msg : "zlib error");
      }
    }
    return n - static_cast<int64_t>(z_.avail_out);
  }

 private:
  std::unique_ptr<binance::ByteSource> raw_;
  std::string path_;
  std::vector<char> in_;
  z_stream z_{};
  bool started_ = false;
  bool raw_eof_ = false;
  bool in_member_ = true;
  uint64_t consumed_ = 0;
};

// A source that first hands out bytes already read (the sniffed head), then the rest.
class PrefixedSource : public binance::ByteSource {
 public:
  PrefixedSource(std::string head, std::unique_ptr<binance::ByteSource> rest)
      : head_(std::move(head)), rest_(std::move(rest)) {}
  Result<int64_t> Read(int64_t n, char* out) override {
    if (at_ < head_.size()) {
      const size_t take = std::min(head_.size() - at_, static_cast<size_t>(n));
      std::memcpy(out, head_.data() + at_, take);
      at_ += take;
      return static_cast<int64_t>(take);
    }
    return rest_->Read(n, out);
  }

 private:
  std::string head_;
  size_t at_ = 0;
  std::unique_ptr<binance::ByteSource> rest_;
};

Result<std::string> ReadHead(binance::ByteSource* source, size_t n) {
  std::string head(n, '\0');
  size_t got = 0;
  while (got < n) {
    ARROW_ASSIGN_OR_RAISE(int64_t r, source->Read(static_cast<int64_t>(n - got), head.data() + got));
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  head.resize(got);
  return head;
}

bool IsGzip(std::string_view head) { return head.size() >= 2 && head[0] == '\x1f' && head[1] == '\x8b'; }

}  // namespace

DepthLines::~DepthLines() = default;

Result<std::unique_ptr<DepthLines>> DepthLines::Make(std::unique_ptr<binance::ByteSource> raw, std::string path,
                                                     std::string_view compression) {
  std::unique_ptr<DepthLines> lines(new DepthLines());
  lines->path_ = std::move(path);
  lines->compression_ = compression;
  lines->source_ = compression == "gzip" ? std::make_unique<GzipSource>(std::move(raw), lines->path_) : std::move(raw);
  lines->buffer_.resize(kChunk + kLinePadding);
  return lines;
}

Result<std::unique_ptr<DepthLines>> DepthLines::Open(const std::string& path) {
  ARROW_ASSIGN_OR_RAISE(auto file, binance::OpenFileSource(path));
  ARROW_ASSIGN_OR_RAISE(std::string head, ReadHead(file.get(), 4));
  if (head.size() == 4 && head.compare(0, 4, "PK\x03\x04") == 0) {
    file.reset();
    ARROW_ASSIGN_OR_RAISE(auto zip, binance::OpenZipSource(path));
    return Make(std::move(zip), path, "zip");
  }
  const bool gzip = IsGzip(head);
  return Make(std::make_unique<PrefixedSource>(std::move(head), std::move(file)), path, gzip ? "gzip" : "none");
}

Result<std::unique_ptr<DepthLines>> DepthLines::FromMemory(std::string_view bytes, std::string name) {
  return Make(binance::MakeMemorySource(bytes), std::move(name), IsGzip(bytes) ? "gzip" : "none");
}

Result<bool> DepthLines::Next(std::string_view* line) {
  while (true) {
    const char* start = buffer_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    if (nl != nullptr || (eof_ && end_ > begin_)) {
      const size_t len = nl != nullptr ? static_cast<size_t>(static_cast<const char*>(nl) - start) : end_ - begin_;
      begin_ += len + (nl != nullptr ? 1 : 0);
      ++line_;
      *line = std::string_view(start, len);
      if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
      return true;
    }
    if (eof_) return false;
    // Keep the partial line, moved to the front, and read more behind it.
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buffer_.size() - end_ < kChunk / 2 + kLinePadding) buffer_.resize(buffer_.size() * 2);
    const auto room = static_cast<int64_t>(buffer_.size() - end_ - kLinePadding);
    auto got = source_->Read(room, buffer_.data() + end_);
    if (!got.ok()) return WithPath(got.status(), path_);
    end_ += static_cast<size_t>(*got);
    eof_ = *got == 0;
  }
}

bool SplitReceiveLine(std::string_view line, uint64_t* receive_ns, std::string_view* json) {
  uint64_t ns = 0;
  size_t i = 0;
  for (; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
    const auto d = static_cast<uint64_t>(line[i] - '0');
    if (ns > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    ns = ns * 10 + d;
  }
  if (i == 0 || i >= line.size() || line[i] != ' ') return false;
  *receive_ns = ns;
  *json = line.substr(i + 1);
  return true;
}

}  // namespace tickforge::book
