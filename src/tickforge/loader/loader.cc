#include "tickforge/loader/loader.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>
#include <parquet/statistics.h>

#include <algorithm>
#include <cmath>
#include <list>
#include <system_error>
#include <sys/mman.h>
#include <unistd.h>
#include <unordered_map>

#include "tickforge/dataset/dataset.h"
#include "tickforge/util/parquet.h"
#include "tickforge/util/random.h"

namespace tickforge::loader {
namespace {

using features::BinAggregates;
using features::BinCell;
using features::Book;
using features::kLevels;

constexpr int64_t kBinsPerSegment = 512;  // 51,200 rows at 100 a bin: the read to build one stays small
constexpr int64_t kRawSegmentRows = dataset::kRowGroupRows;  // a row group: the least a read decodes
constexpr int64_t kBookRowBytes = 2 * kLevels * (8 + 4 + 4);  // one row of book columns, decoded

// Estimate the memory a read of `rows` book rows takes while it lasts: the row groups it
// touches (up to two more than the rows fill), decoded, plus half again for the reader's
// buffers (as measured on label build's datasets).
constexpr int64_t ReadBytes(int64_t rows) { return (rows + 2 * kRawSegmentRows) * kBookRowBytes * 3 / 2; }
constexpr uint8_t kNoLabel = 255;

// The epoch plan's generator: the SplitMix64 sequence from key * golden gamma (so that
// consecutive keys start far apart).
Rng PlanRng(uint64_t key) { return Rng(key * kGoldenGamma); }

// The loader's reads allocate from the system allocator: it hands freed blocks of this size
// back to the system, where mimalloc (pyarrow's default pool) keeps tens of MiB per thread
// that cache_bytes cannot account for.
arrow::MemoryPool* ReadPool() { return arrow::system_memory_pool(); }

Result<std::unique_ptr<parquet::arrow::FileReader>> OpenParquet(const std::string& path) {
  return OpenParquetReader(path, ReadPool());
}

Result<std::shared_ptr<arrow::Table>> ReadRows(const std::string& path, int64_t begin, int64_t end,
                                               const std::vector<std::string>& names) {
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path));
  return ReadRowRange(*reader, path, begin, end, names);
}

// Each chunk of a table, as a record batch viewing it, in order.
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

// Rows of a dataset's book as read: a Book viewing each chunk in place.
struct ChunkedBook {
  std::vector<Book> books;
  std::vector<const Book*> chunks;
  std::vector<int64_t> starts;  // the row (from the first read) each chunk starts at

  /// Return the mid at `row` (MidMicroPips of the chunk holding it).
  int64_t Mid(int64_t row, const features::ImageOptions& options) const {
    const auto c = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), row) - starts.begin() - 1);
    return features::MidMicroPips(books[c], row - starts[c], options);
  }
};

Result<ChunkedBook> ReadBook(const std::string& path, int64_t begin, int64_t end) {
  ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path));
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

}  // namespace

// ---------------------------------------------------------------------------------------------
// The cache: per-bin aggregates (windows on the bin grid) or raw rows (other windows), by
// symbol and segment, least recently used first out once over the byte budget.

namespace {

// Allocates straight from the system (mmap) and gives back on free (munmap). Raw segments come
// and go by the thousand when the data exceeds the cache; glibc's heap kept tens of MiB of
// them per thread arena after they were freed, memory that cache_bytes could not account for.
template <typename T>
struct MappedAllocator {
  using value_type = T;
  MappedAllocator() = default;
  template <typename U>
  MappedAllocator(const MappedAllocator<U>&) {}
  T* allocate(size_t n) {
    void* p = ::mmap(nullptr, n * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) { ::munmap(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const MappedAllocator<U>&) const {
    return true;
  }
};
template <typename T>
using MappedVector = std::vector<T, MappedAllocator<T>>;

struct Segment {
  int64_t first = 0;            // first bin (aggregates) or first row (raw)
  BinAggregates bins;           // aggregates segments
  MappedVector<int64_t> mids;   // mid of each bin's last row (aggregates) or of each row (raw)
  Book book;
  // Raw segments own compact copies of their rows: a slice of the Parquet read would keep
  // whole row groups (and every column chunk's buffers) alive, beyond the bytes accounted.
  MappedVector<int32_t> offsets;  // prices as micro-pip offsets, or where they do not fit:
  MappedVector<int64_t> prices;   // prices in fixed point
  MappedVector<uint32_t> counts;  // sizes and (when rendered) trade counts
  int64_t bytes = 0;
};

// Make an aggregates segment: bins [first, first + bins) of the grid, from rows read from the
// first bin's first row on. The rows go once the aggregates are made.
std::shared_ptr<Segment> MakeBinSegment(const ChunkedBook& read, int64_t first, int64_t bins,
                                        const features::ImageOptions& image) {
  auto made = std::make_shared<Segment>();
  made->first = first;
  features::AggregateChunks(read.chunks, read.starts, 0, bins, image, made->bins);
  made->mids.resize(static_cast<size_t>(bins));
  for (int64_t b = 0; b < bins; ++b) made->mids[static_cast<size_t>(b)] = read.Mid((b + 1) * image.ticks_per_bin - 1, image);
  made->bytes = static_cast<int64_t>(made->bins.cells.size() * sizeof(BinCell) + made->mids.size() * 8);
  return made;
}

// Make a raw segment: compact copies of the n rows read from row `first` on, prices as int32
// micro-pip offsets (rounded once, half the bytes each window reads) unless the segment's
// price range is too wide for them, trade counts only when rendered.
std::shared_ptr<Segment> MakeRawSegment(const ChunkedBook& read, int64_t first, int64_t n,
                                        const features::ImageOptions& image, bool want_trades) {
  auto made = std::make_shared<Segment>();
  made->first = first;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const Book& from : read.books) {
    for (int l = 0; l < kLevels; ++l) {
      features::MicroPipRange(from.bid_px[l], from.rows, image, lo, hi);
      features::MicroPipRange(from.ask_px[l], from.rows, image, lo, hi);
    }
  }
  Book& book = made->book;
  book.rows = n;
  book.micro_pip_prices = lo > hi || hi - lo <= INT32_MAX;  // no price at all: all empty
  book.micro_pip_base = lo > hi ? 0 : lo;
  (book.micro_pip_prices ? made->offsets.resize(static_cast<size_t>(n * 2 * kLevels))
                         : made->prices.resize(static_cast<size_t>(n * 2 * kLevels)));
  const int columns = want_trades ? 4 : 2;
  made->counts.resize(static_cast<size_t>(n * columns * kLevels));
  for (int l = 0; l < kLevels; ++l) {
    const size_t at_level = static_cast<size_t>(2 * l * n);
    uint32_t* u = made->counts.data() + columns * l * n;
    for (size_t k = 0; k < read.books.size(); ++k) {  // the read's chunks, in order
      const Book& from = read.books[k];
      const int64_t at = read.starts[k];
      if (book.micro_pip_prices) {
        int32_t* mp = made->offsets.data() + at_level;
        features::ToMicroPipOffsets(from.bid_px[l], from.rows, image, book.micro_pip_base, mp + at);
        features::ToMicroPipOffsets(from.ask_px[l], from.rows, image, book.micro_pip_base, mp + n + at);
      } else {
        int64_t* px = made->prices.data() + at_level;
        std::copy_n(from.bid_px[l], from.rows, px + at);
        std::copy_n(from.ask_px[l], from.rows, px + n + at);
      }
      std::copy_n(from.bid_sz[l], from.rows, u + at);
      std::copy_n(from.ask_sz[l], from.rows, u + n + at);
      if (want_trades) {
        std::copy_n(from.bid_ct[l], from.rows, u + 2 * n + at);
        std::copy_n(from.ask_ct[l], from.rows, u + 3 * n + at);
      }
    }
    if (book.micro_pip_prices) {
      book.bid_mp[l] = made->offsets.data() + at_level;
      book.ask_mp[l] = made->offsets.data() + at_level + n;
    } else {
      book.bid_px[l] = made->prices.data() + at_level;
      book.ask_px[l] = made->prices.data() + at_level + n;
    }
    book.bid_sz[l] = u;
    book.ask_sz[l] = u + n;
    if (want_trades) {
      book.bid_ct[l] = u + 2 * n;
      book.ask_ct[l] = u + 3 * n;
    }
  }
  made->mids.resize(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) made->mids[static_cast<size_t>(r)] = read.Mid(r, image);
  const int64_t price_bytes = book.micro_pip_prices ? 4 : 8;
  made->bytes = n * (kLevels * 2 * price_bytes + kLevels * columns * 4 + 8);
  return made;
}

}  // namespace

class SegmentCache {
 public:
  explicit SegmentCache(int64_t budget) : budget_(budget) {}

  /// Return the segment under `key`, made by `make` when absent. While it is made, the
  /// `read_bytes` its read decodes count against the budget too: least recently used segments
  /// make room for them, and have it back once the read is done. Reads that together would
  /// exceed the budget take turns.
  template <typename Make>
  Result<std::shared_ptr<const Segment>> Get(uint64_t key, int64_t read_bytes, Make&& make) {
    {
      std::unique_lock lock(mutex_);
      if (auto it = index_.find(key); it != index_.end()) {
        order_.splice(order_.begin(), order_, it->second);
        ++stats_.hits;
        return it->second->second;
      }
      ++stats_.misses;
      read_done_.wait(lock, [&] { return reading_ == 0 || reading_ + read_bytes <= budget_; });
      reading_ += read_bytes;
      Evict(0);
    }
    auto made = make();
    std::unique_lock lock(mutex_);
    reading_ -= read_bytes;
    read_done_.notify_all();
    if (!made.ok()) return made.status();
    if (auto it = index_.find(key); it != index_.end()) return it->second->second;  // built twice
    // Counted while alive, in the cache or not: a renderer may still hold an evicted segment.
    const Segment* raw = made->get();
    live_ += raw->bytes;
    std::shared_ptr<const Segment> segment(raw, [this, owner = std::move(*made)](const Segment*) mutable {
      live_ -= owner->bytes;
      owner.reset();
    });
    order_.emplace_front(key, segment);
    index_[key] = order_.begin();
    stats_.bytes += segment->bytes;
    ++stats_.entries;
    Evict(1);  // never the segment just made
    return segment;
  }

  CacheStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

 private:
  using Entry = std::pair<uint64_t, std::shared_ptr<const Segment>>;

  // Drop least recently used segments while the live ones and the reads in progress are over
  // the budget, keeping at least `keep`.
  void Evict(size_t keep) {
    while (live_ + reading_ > budget_ && order_.size() > keep) {
      auto& victim = order_.back();
      stats_.bytes -= victim.second->bytes;
      --stats_.entries;
      ++stats_.evictions;
      index_.erase(victim.first);
      order_.pop_back();
    }
  }

  mutable std::mutex mutex_;
  std::condition_variable read_done_;
  int64_t budget_;
  int64_t reading_ = 0;             // bytes the reads in progress decode
  std::atomic<int64_t> live_ = 0;  // bytes of the segments alive
  std::list<Entry> order_;
  std::unordered_map<uint64_t, std::list<Entry>::iterator> index_;
  CacheStats stats_;
};

// Batches whose buffers went back to the pool when the consumer let go of them.
class BatchPool : public std::enable_shared_from_this<BatchPool> {
 public:
  std::shared_ptr<Batch> Acquire() {
    Batch* batch = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (!free_.empty()) {
        batch = free_.back().release();
        free_.pop_back();
      }
    }
    if (batch == nullptr) batch = new Batch();
    return std::shared_ptr<Batch>(batch, [pool = shared_from_this()](Batch* b) {
      std::lock_guard lock(pool->mutex_);
      pool->free_.emplace_back(b);
    });
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<Batch>> free_;
};

Status LoaderOptions::Validate() const {
  ARROW_RETURN_NOT_OK(image.Validate());
  if (batch_size < 1) return Status::Invalid("batch_size must be >= 1");
  if (!(sample_fraction > 0 && sample_fraction <= 1)) return Status::Invalid("sample_fraction must be in (0, 1]");
  if (stride < 0) return Status::Invalid("stride must be >= 1");
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    return Status::Invalid("rank ", rank, " is not in [0, world_size=", world_size, ")");
  }
  if (!split.empty() && split != "train" && split != "val" && split != "test") {
    return Status::Invalid("split must be train, val or test, got '", split, "'");
  }
  const double total = split_fractions[0] + split_fractions[1] + split_fractions[2];
  if (std::abs(total - 1) > 1e-9 || split_fractions[0] < 0 || split_fractions[1] < 0 || split_fractions[2] < 0) {
    return Status::Invalid("split_fractions must be three non-negative shares summing to 1");
  }
  if (threads < 1) return Status::Invalid("threads must be >= 1");
  if (prefetch < 1) return Status::Invalid("prefetch must be >= 1");
  if (cache_bytes < 0) return Status::Invalid("cache_bytes must be >= 0");
  return Status::OK();
}

Result<std::unique_ptr<Loader>> Loader::Open(LoaderOptions options) {
  ARROW_RETURN_NOT_OK(options.Validate());
  if (options.stride == 0) options.stride = options.image.ticks_per_bin;
  std::unique_ptr<Loader> loader(new Loader(std::move(options)));
  ARROW_RETURN_NOT_OK(loader->BuildIndex());
  // Building the index read every label column: hand what the allocator kept of those reads
  // back to the system rather than carry it through training.
  ReadPool()->ReleaseUnused();
  // cache_bytes bounds what the loader holds, not only the cache. Out of it come first the
  // sample index and the batches in flight (rendered ahead, being rendered, held by the
  // consumer), which may take half of it: a small budget renders fewer batches ahead, at
  // least one. The cache gets the rest, and lends it to the reads in progress.
  auto& o = loader->options_;
  const int64_t batch_bytes = o.batch_size * o.image.image_floats() * static_cast<int64_t>(sizeof(float));
  // The consumer holds two: the one it works on and, as its loop moves on, the next.
  while (o.prefetch > 1 && (o.prefetch + o.threads + 2) * batch_bytes > o.cache_bytes / 2) --o.prefetch;
  const int64_t in_flight = (o.prefetch + o.threads + 2) * batch_bytes;
  int64_t index = static_cast<int64_t>(loader->samples_.capacity() * sizeof(Sample));
  for (const auto& indices : loader->by_class_) index += static_cast<int64_t>(indices.capacity() * sizeof(uint32_t));
  // The plan of an epoch: a sample index per sample drawn.
  index += loader->batches_per_epoch_ * o.batch_size * static_cast<int64_t>(sizeof(uint32_t));
  loader->cache_ = std::make_unique<SegmentCache>(std::max<int64_t>(0, o.cache_bytes - in_flight - index));
  loader->pool_ = std::make_shared<BatchPool>();
  return loader;
}

Loader::Loader(LoaderOptions options) : options_(std::move(options)) {}

Loader::~Loader() { Stop(); }

Status Loader::BuildIndex() {
  ARROW_ASSIGN_OR_RAISE(auto found, dataset::Discover(options_.parquet_dir));
  // Split cuts come from every dataset of the directory, so they do not move with `symbols`.
  int64_t t_min = INT64_MAX, t_max = INT64_MIN;
  for (const auto& [symbol, path] : found) {
    ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path));
    const auto metadata = reader->parquet_reader()->metadata();
    const std::string ts_column(dataset::kTsEventColumn);
    const int ts_index = metadata->schema()->ColumnIndex(ts_column);
    if (ts_index < 0) return Status::Invalid(path, ": no column '", ts_column, "' (is this a label build dataset?)");
    bool have_stats = true;
    for (int g = 0; g < metadata->num_row_groups(); ++g) {
      auto stats = metadata->RowGroup(g)->ColumnChunk(ts_index)->statistics();
      if (!stats || !stats->HasMinMax()) {
        have_stats = false;
        break;
      }
      auto typed = std::static_pointer_cast<parquet::Int64Statistics>(stats);
      t_min = std::min(t_min, typed->min());
      t_max = std::max(t_max, typed->max());
    }
    if (!have_stats && metadata->num_rows() > 0) {
      // Files written without statistics: the (sorted) column itself gives the range.
      ARROW_ASSIGN_OR_RAISE(auto ts, ReadRows(path, 0, metadata->num_rows(), {ts_column}));
      const auto& chunks = ts->column(0)->chunks();
      t_min = std::min(t_min, static_cast<const arrow::TimestampArray&>(*chunks.front()).Value(0));
      const auto& last = static_cast<const arrow::TimestampArray&>(*chunks.back());
      t_max = std::max(t_max, last.Value(last.length() - 1));
    }
  }
  if (!options_.symbols.empty()) {
    std::map<std::string, std::string> chosen;
    for (const auto& symbol : options_.symbols) {
      auto it = found.find(symbol);
      if (it == found.end()) {
        std::string known;
        for (const auto& [name, _] : found) known += (known.empty() ? "" : ", ") + name;
        return Status::KeyError("unknown symbol '", symbol, "' (datasets in ", options_.parquet_dir, ": ", known, ")");
      }
      chosen.insert(*it);
    }
    found = std::move(chosen);
  }

  const int64_t W = options_.image.window_rows();
  // Pass 1: metadata only: row counts, schema, label horizon.
  int64_t horizon = -1;
  int nbins = 0;
  for (const auto& [symbol, path] : found) {
    ARROW_ASSIGN_OR_RAISE(auto reader, OpenParquet(path));
    std::shared_ptr<arrow::Schema> schema;
    ARROW_RETURN_NOT_OK(reader->GetSchema(&schema));
    ARROW_RETURN_NOT_OK(dataset::CheckSchema(*schema, path));
    ARROW_ASSIGN_OR_RAISE(const auto label_metadata, dataset::LabelMetadata::FromSchema(*schema, path));
    if (label_metadata) {
      horizon = std::max(horizon, label_metadata->horizon());
      nbins = std::max(nbins, label_metadata->nbins);
    }
    const auto metadata = reader->parquet_reader()->metadata();
    names_.push_back(symbol);
    datasets_.push_back({path, metadata->num_rows()});
  }
  if (!options_.split.empty() && horizon < 0) {
    return Status::Invalid("split='", options_.split,
                           "' needs the label horizon, which these datasets do not record; rebuild them with label build");
  }
  const double span = static_cast<double>(t_max) - static_cast<double>(t_min);
  const auto cut1 = static_cast<int64_t>(static_cast<double>(t_min) + options_.split_fractions[0] * span);
  const auto cut2 = static_cast<int64_t>(static_cast<double>(t_min) +
                                         (options_.split_fractions[0] + options_.split_fractions[1]) * span);

  // Pass 2: labels, timestamps and sequence numbers of each dataset, row group by row group
  // as read (never copied into one array). Ranks take disjoint shares by a seeded hash of
  // (symbol, row), the same every epoch.
  if (datasets_.size() > static_cast<size_t>(INT16_MAX)) {
    return Status::Invalid(options_.parquet_dir, ": ", datasets_.size(), " symbol datasets; at most ", INT16_MAX,
                           " are served at once (choose some with symbols=)");
  }
  // At stride 1 the index holds a sample per row: reserve it once (this rank's expected share
  // of all windows) rather than let it grow by doubling, and fit it afterwards if a split
  // took fewer.
  int64_t windows = 0;
  for (const auto& dataset : datasets_) windows += std::max<int64_t>(0, (dataset.rows - W) / options_.stride + 1);
  samples_.reserve(static_cast<size_t>(std::min<double>(
      static_cast<double>(windows), static_cast<double>(windows) * options_.sample_fraction / options_.world_size * 1.05 + 1024)));
  int64_t total = 0;  // samples of all ranks
  const auto keep_limit = static_cast<uint64_t>(std::ldexp(options_.sample_fraction, 64) - 1);
  for (size_t s = 0; s < datasets_.size(); ++s) {
    const auto& path = datasets_[s].path;
    ARROW_ASSIGN_OR_RAISE(auto table, ReadRows(path, 0, datasets_[s].rows,
                                                {std::string(dataset::kLabelColumn), std::string(dataset::kTsEventColumn),
                                                 std::string(dataset::kSequenceColumn)}));
    ARROW_ASSIGN_OR_RAISE(auto chunks, ChunksOf(*table));
    // The split cuts as rows: the first at or after each cut (ts_event is sorted).
    const auto first_at = [&chunks](int64_t cut) {
      int64_t offset = 0;
      for (const auto& chunk : chunks) {
        const auto& ts = static_cast<const arrow::TimestampArray&>(*chunk->column(1));
        const int64_t* begin = ts.raw_values();
        const int64_t at = std::lower_bound(begin, begin + ts.length(), cut) - begin;
        if (at < ts.length()) return offset + at;
        offset += ts.length();
      }
      return offset;
    };
    const int64_t r1 = first_at(cut1), r2 = first_at(cut2);
    int64_t lo = W - 1, hi = datasets_[s].rows - 1;
    if (options_.split == "train") {
      hi = std::min(hi, r1 - 1 - horizon);
    } else if (options_.split == "val") {
      lo = std::max(lo, r1 + W - 1);
      hi = std::min(hi, r2 - 1 - horizon);
    } else if (options_.split == "test") {
      lo = std::max(lo, r2 + W - 1);
    }
    const uint64_t symbol_hash = Fnv1a64(names_[s]);
    int64_t start = 0;
    for (const auto& chunk : chunks) {
      const auto& labels = static_cast<const arrow::UInt8Array&>(*chunk->column(0));
      const auto& ts = static_cast<const arrow::TimestampArray&>(*chunk->column(1));
      const auto& seq = static_cast<const arrow::UInt32Array&>(*chunk->column(2));
      const int64_t end = start + chunk->num_rows();
      // Samples are rows W-1, W-1+stride, ...: the first of them in this chunk.
      const int64_t from = std::max(start, W - 1);
      for (int64_t t = W - 1 + (from - (W - 1) + options_.stride - 1) / options_.stride * options_.stride;
           t < end && t <= hi; t += options_.stride) {
        if (t < lo || labels.IsNull(t - start)) continue;
        if (options_.sample_fraction < 1 && MixSeeds({options_.seed, 1, symbol_hash, static_cast<uint64_t>(t)}) > keep_limit) {
          continue;
        }
        const uint8_t label = labels.Value(t - start);
        ++total;
        nbins = std::max(nbins, label + 1);
        if (options_.world_size > 1 &&
            MixSeeds({options_.seed, 2, symbol_hash, static_cast<uint64_t>(t)}) % static_cast<uint64_t>(options_.world_size) !=
                static_cast<uint64_t>(options_.rank)) {
          continue;
        }
        samples_.push_back(Sample{t, ts.Value(t - start), seq.Value(t - start), static_cast<int16_t>(s), label});
      }
      start = end;
    }
  }
  if (samples_.capacity() > samples_.size() + samples_.size() / 4) samples_.shrink_to_fit();
  if (samples_.size() > UINT32_MAX) {
    return Status::Invalid(options_.parquet_dir, ": ", samples_.size(), " samples on one rank; at most ", UINT32_MAX,
                           " (raise stride or lower sample_fraction)");
  }
  num_classes_ = nbins;
  // Each class's samples, in index order; the lists are sized exactly.
  std::vector<int64_t> per_class(static_cast<size_t>(num_classes_), 0);
  for (const auto& sample : samples_) ++per_class[sample.label];
  by_class_.assign(static_cast<size_t>(num_classes_), {});
  for (int c = 0; c < num_classes_; ++c) by_class_[static_cast<size_t>(c)].reserve(static_cast<size_t>(per_class[static_cast<size_t>(c)]));
  for (size_t i = 0; i < samples_.size(); ++i) by_class_[samples_[i].label].push_back(static_cast<uint32_t>(i));
  class_counts_.assign(static_cast<size_t>(num_classes_), 0);
  batches_per_epoch_ = total / (options_.batch_size * options_.world_size);
  // No sample at all (say, a split in which the chosen symbols have no rows) is an empty epoch;
  // some, but fewer than a batch, is a configuration to point out.
  if (batches_per_epoch_ == 0 && total > 0) {
    return Status::Invalid(options_.parquet_dir, ": ", total, " samples",
                           options_.split.empty() ? "" : " in split " + options_.split,
                           " are fewer than one batch of ", options_.batch_size, " per rank");
  }
  // A class no sample of this rank holds has an empty list and is not drawn here: such a rank
  // builds its batches over the classes it has (possible only with rare classes and
  // world_size > 1).
  return Status::OK();
}

std::vector<uint32_t> Loader::PlanEpoch(int64_t epoch) const {
  const uint64_t seed = options_.seed;
  const auto rank = static_cast<uint64_t>(options_.rank);
  std::vector<int> classes;
  for (int c = 0; c < num_classes_; ++c) {
    if (!by_class_[static_cast<size_t>(c)].empty()) classes.push_back(c);
  }
  // Each class is a stream: its samples in a seeded order, reshuffled whenever exhausted.
  struct Stream {
    std::vector<uint32_t> order;
    size_t next = 0;
    uint64_t pass = 0;
  };
  std::vector<Stream> streams(static_cast<size_t>(num_classes_));
  const int64_t segment_rows = options_.image.ticks_per_bin * kBinsPerSegment;
  const auto refill = [&](int c) {
    Stream& s = streams[static_cast<size_t>(c)];
    s.order = by_class_[static_cast<size_t>(c)];
    Rng rng = PlanRng(MixSeeds({seed, 3, static_cast<uint64_t>(epoch), rank, static_cast<uint64_t>(c), s.pass}));
    if (options_.shuffle && options_.locality) {
      // Blocks of samples sharing a cache segment, in shuffled order, shuffled inside.
      std::map<std::pair<int32_t, int64_t>, std::vector<uint32_t>> blocks;
      for (uint32_t i : s.order) {
        const Sample& x = samples_[static_cast<size_t>(i)];
        blocks[{x.symbol, x.row / segment_rows}].push_back(i);
      }
      std::vector<std::vector<uint32_t>> shuffled;
      for (auto& [key, block] : blocks) shuffled.push_back(std::move(block));
      rng.Shuffle(shuffled);
      s.order.clear();
      for (auto& block : shuffled) {
        rng.Shuffle(block);
        s.order.insert(s.order.end(), block.begin(), block.end());
      }
    } else if (options_.shuffle) {
      rng.Shuffle(s.order);
    }
    s.next = 0;
    ++s.pass;
  };
  for (int c : classes) refill(c);
  const int64_t B = options_.batch_size;
  const auto C = static_cast<int64_t>(classes.size());
  if (C == 0) return {};
  std::vector<uint32_t> plan(static_cast<size_t>(batches_per_epoch_ * B));
  for (int64_t b = 0; b < batches_per_epoch_; ++b) {
    Rng rng = PlanRng(MixSeeds({seed, 4, static_cast<uint64_t>(epoch), rank, static_cast<uint64_t>(b)}));
    std::vector<int64_t> quota(static_cast<size_t>(C), B / C);
    std::vector<int64_t> pick(static_cast<size_t>(C));
    for (int64_t i = 0; i < C; ++i) pick[static_cast<size_t>(i)] = i;
    rng.Shuffle(pick);
    for (int64_t i = 0; i < B % C; ++i) ++quota[static_cast<size_t>(pick[static_cast<size_t>(i)])];
    uint32_t* const batch = plan.data() + b * B;
    int64_t filled = 0;
    for (int64_t i = 0; i < C; ++i) {
      const int c = classes[static_cast<size_t>(i)];
      for (int64_t k = 0; k < quota[static_cast<size_t>(i)]; ++k) {
        Stream& s = streams[static_cast<size_t>(c)];
        if (s.next == s.order.size()) refill(c);
        batch[filled++] = s.order[s.next++];
      }
    }
    if (options_.shuffle) rng.Shuffle(batch, static_cast<size_t>(B));
  }
  return plan;
}

std::vector<Sample> Loader::PlanBatch(int64_t epoch, int64_t index) const {
  if (index < 0 || index >= batches_per_epoch_) return {};
  const auto plan = PlanEpoch(epoch);
  std::vector<Sample> out;
  for (int64_t i = 0; i < options_.batch_size; ++i) {
    out.push_back(samples_[plan[static_cast<size_t>(index * options_.batch_size + i)]]);
  }
  return out;
}

Status Loader::RenderBatch(const uint32_t* plan, Batch& batch) {
  const auto& image = options_.image;
  const int64_t floats = image.image_floats();
  const int64_t tpb = image.ticks_per_bin;
  const int64_t T = image.time_bins;
  const int64_t W = image.window_rows();
  const bool aligned = options_.stride % tpb == 0;
  batch.size = options_.batch_size;
  batch.features.resize(static_cast<size_t>(batch.size * floats));
  batch.labels.resize(static_cast<size_t>(batch.size));
  batch.symbols.resize(static_cast<size_t>(batch.size));
  batch.rows.resize(static_cast<size_t>(batch.size));
  batch.ts_event.resize(static_cast<size_t>(batch.size));
  batch.sequence.resize(static_cast<size_t>(batch.size));
  // The window's bins are read in place from the cached segments that hold them.
  std::vector<const BinCell*> columns(static_cast<size_t>(T));
  std::vector<std::shared_ptr<const Segment>> held;
  std::vector<const Book*> books;
  std::vector<int64_t> starts;
  features::BinAggregates window_bins;  // reused by every off-grid window of the batch
  const bool want_trades =
      std::count(image.features.begin(), image.features.end(), features::Feature::kTradeCounts) > 0;
  for (int64_t i = 0; i < batch.size; ++i) {
    const Sample& sample = samples_[plan[i]];
    const auto& dataset = datasets_[static_cast<size_t>(sample.symbol)];
    float* out = batch.features.data() + i * floats;
    if (aligned) {
      // The window is bins [last - T + 1, last] of the symbol's grid; gather them from segments.
      const int64_t last = (sample.row + 1) / tpb - 1;
      held.clear();
      int64_t mid = 0;
      for (int64_t bin = last - T + 1; bin <= last;) {
        const int64_t seg = bin / kBinsPerSegment;
        const uint64_t key = MixSeeds({static_cast<uint64_t>(sample.symbol), 0, static_cast<uint64_t>(seg)});
        ARROW_ASSIGN_OR_RAISE(auto segment, cache_->Get(key, ReadBytes(kBinsPerSegment * tpb), [&]() -> Result<std::shared_ptr<const Segment>> {
          const int64_t first = seg * kBinsPerSegment;
          const int64_t bins = std::min(kBinsPerSegment, dataset.rows / tpb - first);
          ARROW_ASSIGN_OR_RAISE(auto read, ReadBook(dataset.path, first * tpb, (first + bins) * tpb));
          return MakeBinSegment(read, first, bins, image);
        }));
        const int64_t end = std::min(last, segment->first + segment->bins.bins() - 1);
        for (int64_t b = bin; b <= end; ++b) {
          columns[static_cast<size_t>(b - (last - T + 1))] = &segment->bins.at(b - segment->first, 0, 0);
        }
        if (end == last) mid = segment->mids[static_cast<size_t>(last - segment->first)];
        held.push_back(std::move(segment));
        bin = end + 1;
      }
      features::RenderFromBinPointers(columns.data(), mid, image, out);
    } else {
      // Raw rows are cached in disjoint chunks (none held twice, unlike overlapping windows);
      // the window's bins are aggregated across the chunks it spans.
      const int64_t first_row = sample.row - W + 1;
      held.clear();
      books.clear();
      starts.clear();
      for (int64_t c = first_row / kRawSegmentRows; c <= sample.row / kRawSegmentRows; ++c) {
        const uint64_t key = MixSeeds({static_cast<uint64_t>(sample.symbol), 1, static_cast<uint64_t>(c)});
        ARROW_ASSIGN_OR_RAISE(auto segment, cache_->Get(key, ReadBytes(kRawSegmentRows), [&]() -> Result<std::shared_ptr<const Segment>> {
          const int64_t first = c * kRawSegmentRows;
          const int64_t end = std::min(dataset.rows, first + kRawSegmentRows);
          ARROW_ASSIGN_OR_RAISE(auto read, ReadBook(dataset.path, first, end));
          return MakeRawSegment(read, first, end - first, image, want_trades);
        }));
        books.push_back(&segment->book);
        starts.push_back(segment->first);
        held.push_back(std::move(segment));
      }
      features::AggregateChunks(books, starts, first_row, T, image, window_bins);
      const int64_t mid = held.back()->mids[static_cast<size_t>(sample.row - starts.back())];
      features::RenderFromBins(window_bins, T - 1, mid, image, out);
    }
    batch.labels[static_cast<size_t>(i)] = sample.label;
    batch.symbols[static_cast<size_t>(i)] = sample.symbol;
    batch.rows[static_cast<size_t>(i)] = sample.row;
    batch.ts_event[static_cast<size_t>(i)] = sample.ts_event;
    batch.sequence[static_cast<size_t>(i)] = sample.sequence;
  }
  return Status::OK();
}

Status Loader::Start(int64_t epoch, int64_t first, int64_t step) {
  Stop();
  if (step < 1 || first < 0) return Status::Invalid("bad batch range");
  auto plan = PlanEpoch(epoch);
  std::lock_guard lock(sync_->mutex);
  plan_ = std::move(plan);
  order_.clear();
  for (int64_t b = first; b < batches_per_epoch_; b += step) order_.push_back(b);
  next_job_ = next_out_ = 0;
  done_.clear();
  stopping_ = false;
  owner_pid_ = ::getpid();
  for (int i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { Work(); });
  return Status::OK();
}

void Loader::Work() {
  while (true) {
    size_t job;
    {
      std::unique_lock lock(sync_->mutex);
      sync_->changed.wait(lock, [this] {
        return stopping_ || next_job_ >= order_.size() ||
               next_job_ < next_out_ + static_cast<size_t>(options_.prefetch);
      });
      // Threads end with the epoch's last job, so none outlive an iteration (or a fork).
      if (stopping_ || next_job_ >= order_.size()) return;
      job = next_job_++;
    }
    auto batch = pool_->Acquire();
    batch->index = order_[job];
    batch->status = RenderBatch(plan_.data() + order_[job] * options_.batch_size, *batch);
    {
      std::lock_guard lock(sync_->mutex);
      done_[static_cast<int64_t>(job)] = std::move(batch);
    }
    sync_->changed.notify_all();
  }
}

Result<std::shared_ptr<Batch>> Loader::Next() {
  std::shared_ptr<Batch> batch;
  {
    std::unique_lock lock(sync_->mutex);
    if (next_out_ >= order_.size()) return nullptr;
    sync_->changed.wait(lock, [this] { return done_.count(static_cast<int64_t>(next_out_)) > 0; });
    auto it = done_.find(static_cast<int64_t>(next_out_));
    batch = std::move(it->second);
    done_.erase(it);
    ++next_out_;
    if (batch->status.ok()) {
      for (int64_t label : batch->labels) ++class_counts_[static_cast<size_t>(label)];
    }
  }
  sync_->changed.notify_all();
  if (!batch->status.ok()) return batch->status;
  return batch;
}

void Loader::Stop() {
  if (owner_pid_ != 0 && owner_pid_ != ::getpid()) {
    // A forked child (a DataLoader worker) inherits the objects but not the threads: drop the
    // thread handles and the lock and condition they may still be parked on, unjoined.
    for (auto& worker : workers_) {
      try {
        worker.detach();
      } catch (const std::system_error&) {
      }
    }
    workers_.clear();
    (void)sync_.release();
    sync_ = std::make_unique<Sync>();
    owner_pid_ = 0;
    return;
  }
  {
    std::lock_guard lock(sync_->mutex);
    stopping_ = true;
  }
  sync_->changed.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
}

CacheStats Loader::cache_stats() const { return cache_->stats(); }

std::vector<int64_t> Loader::class_counts() const {
  std::lock_guard lock(sync_->mutex);
  return class_counts_;
}

}  // namespace tickforge::loader
