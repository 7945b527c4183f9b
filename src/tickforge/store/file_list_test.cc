// FileList against a std::vector doing the same: random pushes, erasures, sorted merges and
// appends over many chunks keep the same files in the same order, sorted() always says what
// std::is_sorted says, and a copy shares its chunks until one side changes.
#include "tickforge/store/file_list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tickforge/util/random.h"

namespace tickforge::store {
namespace {

bool ByPath(const FileEntry& a, const FileEntry& b) { return a.path < b.path; }

FileEntry File(uint64_t n) {
  FileEntry file;
  char name[32];
  std::snprintf(name, sizeof(name), "d/%08llu", static_cast<unsigned long long>(n));
  file.path = name;
  file.rows = static_cast<int64_t>(n);
  return file;
}

std::vector<std::string> Paths(const FileList& list) {
  std::vector<std::string> paths;
  for (const auto& file : list) paths.push_back(file.path + "#" + std::to_string(file.rows));
  return paths;
}

std::vector<std::string> Paths(const std::vector<FileEntry>& files) {
  std::vector<std::string> paths;
  for (const auto& file : files) paths.push_back(file.path + "#" + std::to_string(file.rows));
  return paths;
}

TEST(StoreFileListTest, EveryOperationMatchesAVector) {
  Rng rng(11);
  for (int round = 0; round < 4; ++round) {
    FileList list;
    std::vector<FileEntry> oracle;
    for (int step = 0; step < 400; ++step) {
      const uint64_t op = rng.Below(6);
      if (op == 0) {  // push_back, now and then out of order
        FileEntry file = File(rng.Below(round < 2 ? 100'000 : 1'000));
        list.push_back(file);
        oracle.push_back(file);
      } else if (op == 1 && !oracle.empty()) {
        const size_t at = rng.Below(oracle.size());
        list.EraseAt(at);
        oracle.erase(oracle.begin() + static_cast<std::ptrdiff_t>(at));
      } else if (op == 2) {  // a sorted batch merged in, equal paths after those listed
        std::vector<FileEntry> batch;
        for (uint64_t k = rng.Below(3000); k > 0; --k) batch.push_back(File(rng.Below(round < 2 ? 100'000 : 1'000)));
        std::stable_sort(batch.begin(), batch.end(), ByPath);
        const bool was_sorted = std::is_sorted(oracle.begin(), oracle.end(), ByPath);
        list.MergeSorted(batch);
        if (was_sorted) {
          std::vector<FileEntry> merged;
          std::merge(oracle.begin(), oracle.end(), batch.begin(), batch.end(), std::back_inserter(merged), ByPath);
          oracle = std::move(merged);
        } else {
          oracle.insert(oracle.end(), batch.begin(), batch.end());
          std::sort(oracle.begin(), oracle.end(), ByPath);
        }
      } else if (op == 3) {
        std::vector<FileEntry> batch;
        for (uint64_t k = rng.Below(1500); k > 0; --k) batch.push_back(File(rng.Below(100'000)));
        list.Append(batch);
        oracle.insert(oracle.end(), batch.begin(), batch.end());
      } else if (op == 4) {
        const uint64_t mod = 2 + rng.Below(50);
        auto odd = [mod](const FileEntry& file) { return file.rows % static_cast<int64_t>(mod) == 1; };
        const size_t expected = static_cast<size_t>(std::count_if(oracle.begin(), oracle.end(), odd));
        EXPECT_EQ(list.EraseIf(odd), expected);
        std::erase_if(oracle, odd);
      } else if (op == 5 && rng.Below(20) == 0) {
        list.clear();
        oracle.clear();
      }
      ASSERT_EQ(list.size(), oracle.size()) << "step " << step;
      ASSERT_EQ(list.sorted(), std::is_sorted(oracle.begin(), oracle.end(), ByPath)) << "step " << step;
      if (step % 37 == 0 || step == 399) {
        ASSERT_EQ(Paths(list), Paths(oracle)) << "step " << step;
        ASSERT_EQ(Paths(list.ToVector()), Paths(oracle));
        for (size_t i = 0; i < oracle.size(); i += 1 + oracle.size() / 50) {
          EXPECT_EQ(list[i].path, oracle[i].path);
          EXPECT_EQ((list.begin() + static_cast<std::ptrdiff_t>(i))->path, oracle[i].path);
        }
        if (list.sorted() && !oracle.empty()) {
          const std::string probe = File(rng.Below(100'000)).path;
          const auto expected = std::lower_bound(oracle.begin(), oracle.end(), probe,
                                                 [](const FileEntry& f, const std::string& p) { return f.path < p; });
          EXPECT_EQ(list.LowerBound(probe), static_cast<size_t>(expected - oracle.begin()));
        }
      }
    }
    EXPECT_THROW((void)list.at(list.size()), std::out_of_range);
  }
}

TEST(StoreFileListTest, ACopySharesItsChunksUntilOneSideChanges) {
  std::vector<FileEntry> files;
  for (uint64_t i = 0; i < 10 * FileList::kChunkFiles; ++i) files.push_back(File(2 * i));
  const FileList original(files);
  EXPECT_TRUE(original.sorted());
  EXPECT_EQ(original.chunk_count(), 10u);
  FileList copy = original;
  copy.MergeSorted({File(1)});  // lands in the first chunk
  ASSERT_EQ(copy.size(), original.size() + 1);
  EXPECT_EQ(copy[1].path, File(1).path);
  EXPECT_EQ(original[1].path, File(2).path);  // the original is unchanged
  size_t shared = 0;
  for (size_t k = 0; k < copy.chunk_count(); ++k) {
    for (size_t j = 0; j < original.chunk_count(); ++j) shared += &copy.chunk(k) == &original.chunk(j);
  }
  EXPECT_EQ(shared, 9u);  // only the chunk that changed was copied
  copy.EraseAt(copy.size() - 1);
  EXPECT_EQ(original.back().path, File(2 * (10 * FileList::kChunkFiles - 1)).path);
  EXPECT_EQ(Paths(FileList(files)), Paths(files));
}

struct Count : FileList::Memo {
  explicit Count(size_t n) : files(n) {}
  size_t files;
};

TEST(StoreFileListTest, AChunkMemoIsMadeOncePerChunkAndDroppedWhenItChanges) {
  std::vector<FileEntry> files;
  for (uint64_t i = 0; i < 3 * FileList::kChunkFiles; ++i) files.push_back(File(2 * i));
  FileList list(files);
  int derived = 0;
  auto count = [&](const FileList::Chunk& chunk) {
    ++derived;
    return std::make_shared<const Count>(chunk.size());
  };
  auto total = [&](const FileList& l) {
    size_t n = 0;
    for (size_t k = 0; k < l.chunk_count(); ++k) n += l.ChunkMemo<Count>(k, count)->files;
    return n;
  };
  EXPECT_EQ(total(list), list.size());
  EXPECT_EQ(derived, 3);
  EXPECT_EQ(total(list), list.size());
  EXPECT_EQ(derived, 3);  // kept
  FileList copy = list;
  copy.push_back(File(1'000'000));  // a new chunk of the copy only (the last is full)
  EXPECT_EQ(total(copy), copy.size());
  EXPECT_EQ(derived, 4);
  EXPECT_EQ(total(list), list.size());
  EXPECT_EQ(derived, 4);  // the original's chunks kept theirs
  list.EraseAt(0);  // the chunk it changes is its own copy now, derived again
  EXPECT_EQ(total(list), list.size());
  EXPECT_EQ(derived, 5);
}

}  // namespace
}  // namespace tickforge::store
