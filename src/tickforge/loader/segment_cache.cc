#include "tickforge/loader/segment_cache_internal.h"

#include <algorithm>
#include <climits>

namespace tickforge::loader::internal {

using features::BinCell;
using features::Book;
using features::kLevels;

std::shared_ptr<Segment> MakeBinSegment(const ChunkedBook& read, int64_t first, int64_t bins,
                                        const features::ImageOptions& image) {
  auto made = std::make_shared<Segment>();
  made->first = first;
  features::AggregateChunks(read.chunks, read.starts, 0, bins, image, made->bins);
  made->mids.resize(static_cast<size_t>(bins));
  for (int64_t b = 0; b < bins; ++b) made->mids[static_cast<size_t>(b)] = read.Mid((b + 1) * image.ticks_per_bin - 1, image);
  // Sorted once here rather than by each of the up to T samples that render a bin.
  made->sorted = features::SortedBins::Of(made->bins.cells.data(), bins, image);
  made->bytes =
      static_cast<int64_t>(made->bins.cells.size() * sizeof(BinCell) + made->mids.size() * 8) + made->sorted.bytes();
  return made;
}

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

namespace {

// Return a view of rows [begin, end) of a read (its chunks cut to them, starts from begin).
ChunkedBook SliceRows(const ChunkedBook& read, int64_t begin, int64_t end) {
  ChunkedBook out;
  for (size_t k = 0; k < read.books.size(); ++k) {
    const int64_t from = std::max(begin, read.starts[k]);
    const int64_t to = std::min(end, read.starts[k] + read.books[k].rows);
    if (from >= to) continue;
    Book view = read.books[k];
    const int64_t skip = from - read.starts[k];
    view.rows = to - from;
    for (int l = 0; l < kLevels; ++l) {
      view.bid_px[l] += skip;
      view.ask_px[l] += skip;
      view.bid_sz[l] += skip;
      view.ask_sz[l] += skip;
      if (view.bid_ct[l]) view.bid_ct[l] += skip;
      if (view.ask_ct[l]) view.ask_ct[l] += skip;
    }
    out.books.push_back(std::move(view));
    out.starts.push_back(from - begin);
  }
  for (const auto& book : out.books) out.chunks.push_back(&book);
  return out;
}

}  // namespace

std::shared_ptr<Segment> MakeSlidingSegment(const ChunkedBook& read, int64_t first,
                                            const features::ImageOptions& image) {
  const auto wants = [&](features::Feature f) {
    return std::find(image.features.begin(), image.features.end(), f) != image.features.end();
  };
  const bool want_variance = wants(features::Feature::kVariance);
  const bool want_trades = wants(features::Feature::kTradeCounts);
  const int64_t n = read.starts.empty() ? 0 : read.starts.back() + read.books.back().rows;
  const int64_t tpb = image.ticks_per_bin;
  const int64_t starts = std::max<int64_t>(0, n - tpb + 1);
  // The rows as a raw segment first (prices rounded to int32 offsets once), dropped at return.
  const auto raw = MakeRawSegment(read, first, n, image, want_trades);
  auto made = std::make_shared<Segment>();
  made->first = first;
  made->sliding = raw->book.micro_pip_prices;
  if (!made->sliding) return made;
  made->book.micro_pip_base = raw->book.micro_pip_base;
  const auto cells = static_cast<size_t>(starts * 2 * kLevels);
  made->slide_cells.resize(cells);
  if (want_variance) made->slide_variance.resize(cells);
  if (want_trades) made->slide_trades.resize(cells);
  if (starts > 0) {
    features::SlideBins(raw->book, starts, image,
                        {made->slide_cells.data(), want_variance ? made->slide_variance.data() : nullptr,
                         want_trades ? made->slide_trades.data() : nullptr});
  }
  made->mids.resize(static_cast<size_t>(starts));
  std::copy_n(raw->mids.begin() + (tpb - 1), starts, made->mids.begin());
  const int64_t edge = std::min(tpb - 1, n);
  if (edge > 0) {
    made->head = MakeRawSegment(SliceRows(read, 0, edge), first, edge, image, want_trades);
    made->tail = MakeRawSegment(SliceRows(read, n - edge, n), first + n - edge, edge, image, want_trades);
  }
  made->bytes = static_cast<int64_t>(cells * sizeof(features::SlidingCell) +
                                     (made->slide_variance.size() + made->slide_trades.size()) * sizeof(float)) +
                starts * 8 + (made->head ? made->head->bytes + made->tail->bytes : 0);
  return made;
}

void SegmentCache::Evict(size_t keep) {
  while (live_ + reading_ > budget_ && order_.size() > keep) {
    auto& victim = order_.back();
    stats_.bytes -= victim.second->bytes;
    --stats_.entries;
    ++stats_.evictions;
    index_.erase(victim.first);
    order_.pop_back();
  }
}

}  // namespace tickforge::loader::internal
