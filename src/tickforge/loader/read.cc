#include "tickforge/loader/read_internal.h"

#include <arrow/api.h>
#include <parquet/arrow/reader.h>

#include "tickforge/dataset/dataset.h"
#include "tickforge/util/parquet.h"

namespace tickforge::loader::internal {

arrow::MemoryPool* ReadPool() { return arrow::system_memory_pool(); }

Result<std::shared_ptr<arrow::Table>> ReadRows(const std::string& path, int64_t begin, int64_t end,
                                               const std::vector<std::string>& names) {
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path, {.pool = ReadPool()}));
  return ReadRowRange(*reader, path, begin, end, names);
}

Result<std::vector<std::shared_ptr<arrow::RecordBatch>>> ChunksOf(const arrow::Table& table) {
  arrow::TableBatchReader reader(table);
  std::vector<std::shared_ptr<arrow::RecordBatch>> chunks;
  while (true) {
    std::shared_ptr<arrow::RecordBatch> chunk;
    ARROW_RETURN_NOT_OK(reader.ReadNext(&chunk));
    if (!chunk) return chunks;
    chunks.push_back(std::move(chunk));
  }
}

Result<ChunkedBook> ReadBook(const std::string& path, int64_t begin, int64_t end) {
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path, {.pool = ReadPool()}));
  ARROW_ASSIGN_OR_RAISE(auto table, dataset::ReadBookRows(*reader, path, begin, end));
  ARROW_ASSIGN_OR_RAISE(auto chunks, ChunksOf(*table));
  ChunkedBook out;
  int64_t start = 0;
  for (const auto& chunk : chunks) {
    auto book = features::BookOf(*chunk);
    if (!book.ok()) return WithPath(book.status(), path);
    out.books.push_back(std::move(*book));
    out.starts.push_back(start);
    start += chunk->num_rows();
  }
  for (const auto& book : out.books) out.chunks.push_back(&book);
  return out;
}

}  // namespace tickforge::loader::internal
