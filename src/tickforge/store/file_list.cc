// Chunked, shared file listings (see file_list.h).
#include "tickforge/store/file_list.h"

#include <algorithm>
#include <stdexcept>

namespace tickforge::store {

FileList::FileList(std::vector<FileEntry> files) {
  sorted_ = std::is_sorted(files.begin(), files.end(), ByPath);
  AppendChunks(std::move(files));
  Reindex();
}

const FileEntry& FileList::operator[](size_t i) const {
  const auto [k, offset] = Locate(i);
  return (*chunks_[k])[offset];
}

const FileEntry& FileList::at(size_t i) const {
  if (i >= size_) throw std::out_of_range("FileList::at: " + std::to_string(i) + " >= " + std::to_string(size_));
  return (*this)[i];
}

std::pair<size_t, size_t> FileList::Locate(size_t i) const {
  const size_t k = static_cast<size_t>(std::upper_bound(ends_.begin(), ends_.end(), i) - ends_.begin());
  return {k, i - (k == 0 ? 0 : ends_[k - 1])};
}

FileList::const_iterator FileList::At(size_t i) const {
  if (i >= size_) return end();
  const auto [k, offset] = Locate(i);
  return {this, k, offset, i};
}

FileList::Chunk& FileList::Own(size_t k) {
  // Only this list holds a chunk whose count is 1, so no other snapshot can see it change.
  if (chunks_[k].use_count() > 1) chunks_[k] = std::make_shared<Chunk>(*chunks_[k]);
  chunks_[k]->memo.store(nullptr);  // its files are about to change
  return *chunks_[k];
}

void FileList::Reindex(bool removed) {
  std::erase_if(chunks_, [](const std::shared_ptr<Chunk>& chunk) { return chunk->empty(); });
  ends_.resize(chunks_.size());
  size_ = 0;
  for (size_t k = 0; k < chunks_.size(); ++k) ends_[k] = size_ += chunks_[k]->size();
  if (removed && !sorted_) {
    const FileEntry* last = nullptr;
    sorted_ = true;
    for (const auto& file : *this) {
      if (last && file.path < last->path) {
        sorted_ = false;
        break;
      }
      last = &file;
    }
  }
}

void FileList::AppendChunks(std::vector<FileEntry>&& files) {
  for (size_t begin = 0; begin < files.size(); begin += kChunkFiles) {
    const size_t end = std::min(files.size(), begin + kChunkFiles);
    auto chunk = std::make_shared<Chunk>(std::make_move_iterator(files.begin() + static_cast<std::ptrdiff_t>(begin)),
                                         std::make_move_iterator(files.begin() + static_cast<std::ptrdiff_t>(end)));
    chunks_.push_back(std::move(chunk));
  }
}

void FileList::push_back(FileEntry file) {
  if (!empty() && file.path < back().path) sorted_ = false;
  if (chunks_.empty() || chunks_.back()->size() >= kChunkFiles) {
    chunks_.push_back(std::make_shared<Chunk>());
    chunks_.back()->reserve(kChunkFiles);
    ends_.push_back(size_);
  }
  Own(chunks_.size() - 1).push_back(std::move(file));
  ends_.back() = ++size_;
}

void FileList::clear() {
  chunks_.clear();
  ends_.clear();
  size_ = 0;
  sorted_ = true;
}

void FileList::erase(const_iterator position) {
  Chunk& chunk = Own(position.chunk_);
  chunk.erase(chunk.begin() + static_cast<std::ptrdiff_t>(position.offset_));
  Reindex(/*removed=*/true);
}

void FileList::EraseAt(size_t i) {
  const auto [k, offset] = Locate(i);
  erase(const_iterator(this, k, offset, i));
}

void FileList::Append(std::vector<FileEntry> files) {
  if (files.empty()) return;
  if (!std::is_sorted(files.begin(), files.end(), ByPath) || (!empty() && files.front().path < back().path)) {
    sorted_ = false;
  }
  // Top up the last chunk first, so appending one file at a time keeps chunks full.
  size_t taken = 0;
  if (!chunks_.empty() && chunks_.back()->size() < kChunkFiles) {
    Chunk& last = Own(chunks_.size() - 1);
    taken = std::min(files.size(), kChunkFiles - last.size());
    last.insert(last.end(), std::make_move_iterator(files.begin()),
                std::make_move_iterator(files.begin() + static_cast<std::ptrdiff_t>(taken)));
  }
  files.erase(files.begin(), files.begin() + static_cast<std::ptrdiff_t>(taken));
  AppendChunks(std::move(files));
  Reindex();
}

void FileList::MergeSorted(std::vector<FileEntry> files) {
  if (files.empty()) return;
  if (!std::is_sorted(files.begin(), files.end(), ByPath)) std::stable_sort(files.begin(), files.end(), ByPath);
  if (!sorted_) {
    // As a sort of the whole listing would leave it (the writers' order).
    std::vector<FileEntry> all = ToVector();
    all.insert(all.end(), std::make_move_iterator(files.begin()), std::make_move_iterator(files.end()));
    std::sort(all.begin(), all.end(), ByPath);
    *this = FileList(std::move(all));
    return;
  }
  if (chunks_.empty()) {
    AppendChunks(std::move(files));
    Reindex();
    return;
  }
  // A new file goes into the last chunk whose first path is not greater than its own, so a
  // file of equal path follows those listed (what std::merge does); chunks no file goes to
  // stay shared.
  std::vector<std::shared_ptr<Chunk>> merged;
  merged.reserve(chunks_.size() + files.size() / kChunkFiles + 1);
  size_t next = 0;
  for (size_t k = 0; k < chunks_.size(); ++k) {
    size_t end = files.size();
    if (k + 1 < chunks_.size()) {
      const std::string& boundary = chunks_[k + 1]->front().path;
      end = static_cast<size_t>(
          std::lower_bound(files.begin() + static_cast<std::ptrdiff_t>(next), files.end(), boundary,
                           [](const FileEntry& file, const std::string& path) { return file.path < path; }) -
          files.begin());
    }
    if (end == next) {
      merged.push_back(chunks_[k]);
      continue;
    }
    std::vector<FileEntry> both;
    both.reserve(chunks_[k]->size() + end - next);
    std::merge(chunks_[k]->begin(), chunks_[k]->end(), std::make_move_iterator(files.begin() + static_cast<std::ptrdiff_t>(next)),
               std::make_move_iterator(files.begin() + static_cast<std::ptrdiff_t>(end)), std::back_inserter(both), ByPath);
    next = end;
    // A chunk that grew past twice its size is cut again, so chunks stay about kChunkFiles.
    const size_t pieces = std::max<size_t>(1, both.size() / kChunkFiles);
    for (size_t p = 0; p < pieces; ++p) {
      const size_t begin = both.size() * p / pieces, stop = both.size() * (p + 1) / pieces;
      merged.push_back(std::make_shared<Chunk>(std::make_move_iterator(both.begin() + static_cast<std::ptrdiff_t>(begin)),
                                               std::make_move_iterator(both.begin() + static_cast<std::ptrdiff_t>(stop))));
    }
  }
  chunks_ = std::move(merged);
  Reindex();
}

size_t FileList::LowerBound(std::string_view path) const {
  // The first chunk whose last path is not less than `path`, then within it.
  size_t lo = 0, hi = chunks_.size();
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (chunks_[mid]->back().path < path) lo = mid + 1;
    else hi = mid;
  }
  if (lo == chunks_.size()) return size_;
  const Chunk& chunk = *chunks_[lo];
  const auto it = std::lower_bound(chunk.begin(), chunk.end(), path,
                                   [](const FileEntry& file, std::string_view p) { return file.path < p; });
  return (lo == 0 ? 0 : ends_[lo - 1]) + static_cast<size_t>(it - chunk.begin());
}

std::vector<FileEntry> FileList::ToVector() const {
  std::vector<FileEntry> files;
  files.reserve(size_);
  for (const auto& chunk : chunks_) files.insert(files.end(), chunk->begin(), chunk->end());
  return files;
}

}  // namespace tickforge::store
