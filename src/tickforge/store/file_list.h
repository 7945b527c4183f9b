// A dataset's file listing as chunks shared between snapshots: copying the listing of a
// million files copies a thousand pointers, and a commit that adds one file copies the one chunk
// it changes, so a commit's cost does not grow with the store (issue 12).
#pragma once

#include <cstddef>
#include <atomic>
#include <compare>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tickforge::store {

/// One Parquet file of a dataset.
struct FileEntry {
  /// Relative to the store root, '/'-separated: `klines/exchange=binance/.../part-<id>.parquet`.
  std::string path;
  int64_t rows = 0;
  int64_t bytes = 0;
  /// Partition key -> value, in the dataset's key order.
  std::vector<std::pair<std::string, std::string>> partition;
  /// Smallest and largest value of the dataset's time column (its raw int64 value).
  int64_t min_time = 0;
  int64_t max_time = 0;
  /// The commit that added the file.
  int64_t version = 0;
};

/// Return whether `a` comes before `b` in a listing: by path.
[[nodiscard]] inline bool ByPath(const FileEntry& a, const FileEntry& b) { return a.path < b.path; }

/// An ordered list of FileEntry values, read like a const std::vector. Chunks are immutable
/// once another list shares them; a change copies only the chunks it touches. The list knows
/// whether it is sorted by path (how the writers keep listings) without scanning it.
class FileList {
 public:
  using value_type = FileEntry;
  using size_type = size_t;
  /// Something a caller derived from one chunk's files and keeps with it (ChunkMemo).
  struct Memo {
    virtual ~Memo() = default;
  };
  /// A chunk: its files, and a memo that a change of the files drops.
  struct Chunk : std::vector<FileEntry> {
    using std::vector<FileEntry>::vector;
    Chunk() = default;
    Chunk(const Chunk& other) : std::vector<FileEntry>(other) {}
    mutable std::atomic<std::shared_ptr<const Memo>> memo;
  };

  /// Chunks hold about this many files (a change copies one).
  static constexpr size_t kChunkFiles = 1024;

  /// Steps chunk by chunk; jumps (it + n) search the chunks.
  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = FileEntry;
    using difference_type = std::ptrdiff_t;
    using pointer = const FileEntry*;
    using reference = const FileEntry&;
    const_iterator() = default;
    reference operator*() const { return (*list_->chunks_[chunk_])[offset_]; }
    pointer operator->() const { return &**this; }
    reference operator[](difference_type n) const { return *(*this + n); }
    const_iterator& operator++() {
      ++index_;
      if (++offset_ == list_->chunks_[chunk_]->size()) ++chunk_, offset_ = 0;
      return *this;
    }
    const_iterator operator++(int) {
      auto copy = *this;
      ++*this;
      return copy;
    }
    const_iterator& operator--() { return *this = list_->At(index_ - 1); }
    const_iterator operator--(int) {
      auto copy = *this;
      --*this;
      return copy;
    }
    const_iterator& operator+=(difference_type n) { return *this = list_->At(index_ + static_cast<size_t>(n)); }
    const_iterator& operator-=(difference_type n) { return *this += -n; }
    friend const_iterator operator+(const_iterator it, difference_type n) { return it += n; }
    friend const_iterator operator+(difference_type n, const_iterator it) { return it += n; }
    friend const_iterator operator-(const_iterator it, difference_type n) { return it -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) {
      return static_cast<difference_type>(a.index_) - static_cast<difference_type>(b.index_);
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) { return a.index_ == b.index_; }
    friend auto operator<=>(const const_iterator& a, const const_iterator& b) { return a.index_ <=> b.index_; }

   private:
    friend class FileList;
    const_iterator(const FileList* list, size_t chunk, size_t offset, size_t index)
        : list_(list), chunk_(chunk), offset_(offset), index_(index) {}
    const FileList* list_ = nullptr;
    size_t chunk_ = 0;
    size_t offset_ = 0;
    size_t index_ = 0;
  };
  using iterator = const_iterator;

  FileList() = default;
  FileList(std::vector<FileEntry> files);  // NOLINT: a listing is its files
  FileList(std::initializer_list<FileEntry> files) : FileList(std::vector<FileEntry>(files)) {}

  [[nodiscard]] size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] const_iterator begin() const { return {this, 0, 0, 0}; }
  [[nodiscard]] const_iterator end() const { return {this, chunks_.size(), 0, size_}; }
  /// Return file `i` (binary search over the chunks).
  [[nodiscard]] const FileEntry& operator[](size_t i) const;
  /// Return file `i`; throws std::out_of_range past the end.
  [[nodiscard]] const FileEntry& at(size_t i) const;
  [[nodiscard]] const FileEntry& front() const { return chunks_.front()->front(); }
  [[nodiscard]] const FileEntry& back() const { return chunks_.back()->back(); }
  /// Return whether the files are in path order (equal paths allowed).
  [[nodiscard]] bool sorted() const { return sorted_; }

  void push_back(FileEntry file);
  void clear();
  /// Remove the file at `position`.
  void erase(const_iterator position);
  /// Remove file `i`.
  void EraseAt(size_t i);
  /// Remove every file `remove` holds for; return how many. Chunks without one stay shared.
  template <typename Predicate>
  size_t EraseIf(Predicate remove);
  /// Merge `files` (sorted by path) into a sorted listing, each after the files of equal path
  /// already listed (a stable merge); an unsorted listing gets them appended and is sorted whole.
  void MergeSorted(std::vector<FileEntry> files);
  /// Append `files` in their order.
  void Append(std::vector<FileEntry> files);
  /// Return the position of the first file whose path is not less than `path` (sorted lists).
  [[nodiscard]] size_t LowerBound(std::string_view path) const;
  /// Return a copy of the files as one vector.
  [[nodiscard]] std::vector<FileEntry> ToVector() const;

  /// The chunks, for walks that skip what two listings share (a chunk's address is its identity).
  [[nodiscard]] size_t chunk_count() const { return chunks_.size(); }
  [[nodiscard]] const Chunk& chunk(size_t k) const { return *chunks_[k]; }
  /// Return what `derive` (const Chunk& -> std::shared_ptr<const T>) makes of chunk `k`,
  /// made once per chunk and shared by every listing that shares the chunk, so a summary of
  /// a million files done at every commit derives only the chunks that commit changed.
  template <typename T, typename Derive>
  [[nodiscard]] std::shared_ptr<const T> ChunkMemo(size_t k, Derive derive) const {
    const Chunk& chunk = *chunks_[k];
    if (auto kept = std::dynamic_pointer_cast<const T>(chunk.memo.load())) return kept;
    std::shared_ptr<const T> made = derive(chunk);
    chunk.memo.store(made);
    return made;
  }

 private:
  /// Return chunk `k` for writing, copied first when another listing shares it.
  Chunk& Own(size_t k);
  /// Recompute sizes and ends after chunks changed; drop empty chunks. After a removal from an
  /// unsorted listing, look again whether it is sorted now (sorted() is always exact).
  void Reindex(bool removed = false);
  /// Return the chunk holding position `i` and the position within it.
  [[nodiscard]] std::pair<size_t, size_t> Locate(size_t i) const;
  /// Return an iterator at position `i` (end() at size()).
  [[nodiscard]] const_iterator At(size_t i) const;
  /// Cut `files` into chunks of kChunkFiles and append them.
  void AppendChunks(std::vector<FileEntry>&& files);

  std::vector<std::shared_ptr<Chunk>> chunks_;
  /// ends_[k]: the position after chunk k's last file.
  std::vector<size_t> ends_;
  size_t size_ = 0;
  bool sorted_ = true;
};

template <typename Predicate>
size_t FileList::EraseIf(Predicate remove) {
  size_t removed = 0;
  for (size_t k = 0; k < chunks_.size(); ++k) {
    const Chunk& chunk = *chunks_[k];
    size_t first = 0;
    while (first < chunk.size() && !remove(chunk[first])) ++first;
    if (first == chunk.size()) continue;
    // The chunk changes: keep the files before the first match, then test the rest once each.
    auto kept = std::make_shared<Chunk>();
    kept->reserve(chunk.size() - 1);
    kept->insert(kept->end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(first));
    for (size_t i = first + 1; i < chunk.size(); ++i) {
      if (!remove(chunk[i])) kept->push_back(chunk[i]);
    }
    removed += chunk.size() - kept->size();
    chunks_[k] = std::move(kept);
  }
  if (removed > 0) Reindex(/*removed=*/true);
  return removed;
}

}  // namespace tickforge::store
