// Rendering depth images from precomputed bins (DESIGN.md §3.4): each bin's levels placed on
// the price grid around the sample's mid, the column's changes cumulated per side, and the
// planes written row by row with streaming stores.
#include "tickforge/features/render_bins.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "tickforge/features/depth_image_internal.h"

namespace tickforge::features {

namespace {

// The levels of one side of one bin placed on the grid: the n occupied rows ascending, and each
// one's value in every rendered plane (kPlanes of them); the last slot is scratch. Structure of arrays, so a level
// is placed with scalar stores that later loads read without waiting.
template <int kPlanes>
struct PlacedLevels {
  static constexpr int kScratch = kLevels + 1;
  int n;
  alignas(64) int32_t y[kLevels + 2];
  float value[kPlanes][kLevels + 2];
};

// Return the row of the grid (§3.4) a level price lands on, or -1 when it is dropped.
inline int GridRow(int64_t p, int64_t mid) {
  if (p >= mid - kHalfRange && p <= mid - 1) return static_cast<int>((mid - 1) - p);
  if (p >= mid + 1 && p <= mid + kHalfRange) return static_cast<int>(kHalfRange + 2 + (p - (mid + 1)));
  return -1;
}

// Place a side's levels of one bin on the grid rows, sorted by row; a deeper level replaces a
// shallower one on a shared row. `member[f]` is plane f's field of BinCell; kAsk says which
// side `cells` holds.
template <int kPlanes, bool kAsk>
inline void PlaceLevels(const BinCell* cells, int64_t mid, float BinCell::*const* member, PlacedLevels<kPlanes>& out) {
  // Prices fall with depth on the bid side and rise on the ask side. Where they do (levels
  // whose mean prices round to one micro-pip may tie), the levels on each half of the grid
  // (below the mid: rows 0..199, above: 202..401) follow each other in level order and their
  // rows run one way: bids below the mid ascend and bids above it descend, asks the other way
  // round. So a level's place in the sorted list follows from how many levels of its half
  // come before it, counted in one pass without branches; a level that ties with the one
  // before takes its place, and is written after it. Otherwise place them by insertion.
  int32_t y[kLevels];
  uint8_t half[kLevels];   // 0: dropped, 1: below the mid, 2: above
  uint8_t before[kLevels];  // levels of its half before it, itself not counted
  int low = 0, high = 0;
  int64_t last = 0;
  bool seen = false, ordered = true;
  for (int l = 0; l < kLevels; ++l) {
    const int64_t p = cells[l].price;
    // In unsigned arithmetic the offsets of an out-of-range price wrap (no overflow) and fail
    // the range tests, which are GridRow's.
    const uint64_t below = static_cast<uint64_t>(mid - 1) - static_cast<uint64_t>(p);
    const uint64_t above = static_cast<uint64_t>(p) - static_cast<uint64_t>(mid + 1);
    const bool defined = p != kNoPrice;
    const bool tie = defined && seen && p == last;
    ordered &= !defined || !seen || (kAsk ? p >= last : p <= last);
    last = defined ? p : last;
    seen |= defined;
    const bool is_low = defined && below < static_cast<uint64_t>(kHalfRange);
    const bool is_high = defined && above < static_cast<uint64_t>(kHalfRange);
    y[l] = is_low ? static_cast<int32_t>(below) : kHalfRange + 2 + static_cast<int32_t>(above);
    half[l] = static_cast<uint8_t>(is_low + 2 * is_high);
    before[l] = static_cast<uint8_t>(is_low ? low - tie : high - tie);
    low += is_low && !tie;
    high += is_high && !tie;
  }
  if (__builtin_expect(ordered, 1)) {
    // Sorted by row: the bids below the mid in level order, then those above it in reverse;
    // the asks below the mid in reverse, then those above it in level order. Dropped levels
    // go to the last slot, which nothing reads.
    for (int l = 0; l < kLevels; ++l) {
      const int b = before[l];
      const int in_low = kAsk ? low - 1 - b : b;
      const int in_high = low + (kAsk ? b : high - 1 - b);
      const int at = half[l] == 1 ? in_low : half[l] == 2 ? in_high : out.kScratch;
      out.y[at] = y[l];
      for (int f = 0; f < kPlanes; ++f) out.value[f][at] = cells[l].*member[f];
    }
    out.n = low + high;
  } else {
    int n = 0;
    for (int l = 0; l < kLevels; ++l) {
      const BinCell& cell = cells[l];
      if (cell.price == kNoPrice) continue;
      const int y = GridRow(cell.price, mid);
      if (y < 0) continue;
      int i = n;
      while (i > 0 && out.y[i - 1] > y) --i;
      if (i > 0 && out.y[i - 1] == y) {
        for (int f = 0; f < kPlanes; ++f) out.value[f][i - 1] = cell.*member[f];
        continue;
      }
      for (int j = n; j > i; --j) {
        out.y[j] = out.y[j - 1];
        for (int f = 0; f < kPlanes; ++f) out.value[f][j] = out.value[f][j - 1];
      }
      out.y[i] = y;
      for (int f = 0; f < kPlanes; ++f) out.value[f][i] = cell.*member[f];
      ++n;
    }
    out.n = n;
  }
}

// Copy n floats to dst bypassing the caches where the processor can (SSE2 streaming stores,
// part of x86-64's baseline): an image is written once and read by the consumer much later,
// so ordinary stores would first read every line of it from memory (read for ownership) and
// then evict it, twice the memory traffic of the write itself. Call StreamFence after.
inline void StreamFloats(const float* src, float* dst, int n) {
#if defined(__SSE2__)
  int i = 0;
  for (; i < n && (reinterpret_cast<uintptr_t>(dst + i) & 15) != 0; ++i) dst[i] = src[i];
  for (; i + 4 <= n; i += 4) _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
  for (; i < n; ++i) dst[i] = src[i];
#else
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
#endif
}

// StreamFloats with 32-byte streaming stores, for processors with AVX2: half the store
// instructions. A row of 500 floats is 2,000 bytes, so every other row starts 16 bytes past a
// 32-byte boundary; its first and last four floats go out as 16-byte streaming stores, so no
// line is written both through the cache and around it.
TICKFORGE_TARGET_AVX2 void StreamFloatsAvx2(const float* src, float* dst, int n) {
#if defined(__x86_64__)
  int i = 0;
  for (; i < n && (reinterpret_cast<uintptr_t>(dst + i) & 15) != 0; ++i) dst[i] = src[i];
  if (i + 4 <= n && (reinterpret_cast<uintptr_t>(dst + i) & 31) != 0) {
    _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
    i += 4;
  }
  for (; i + 16 <= n; i += 16) {
    _mm256_stream_ps(dst + i, _mm256_loadu_ps(src + i));
    _mm256_stream_ps(dst + i + 8, _mm256_loadu_ps(src + i + 8));
  }
  for (; i + 8 <= n; i += 8) _mm256_stream_ps(dst + i, _mm256_loadu_ps(src + i));
  for (; i + 4 <= n; i += 4) _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
  for (; i < n; ++i) dst[i] = src[i];
#else
  StreamFloats(src, dst, n);
#endif
}

// Order the streaming stores before whatever follows (a lock handing the batch on).
inline void StreamFence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

// A bin's cumulated image column is constant between the rows where it changes: row 0, each
// ask row (the ask sum grows there) and the row after each bid row (rows above it no longer
// hold that bid in the descending bid sum): at most 2·kLevels changes below row 0.
constexpr int kMaxEvents = 2 * kLevels;

// The column of one bin for the sample's mid, from its levels placed on the grid: the rows of
// its changes, the asks' first, and per plane f their values (value[f·kMaxEvents + p]), its
// value at row 0 (first[f]) and max |value| (max_abs[f]), the same double sums in the same
// order as cumulating the dense grids (the ask sum over rows ascending, rounded to float as the
// float grid's cumulation is, minus the bid sum over rows descending). Return the number of
// changes.
template <int kPlanes>
inline int ChangesOf(const PlacedLevels<kPlanes>& bid, const PlacedLevels<kPlanes>& ask, int16_t* row, float* value,
                     double* first_value, double* max_abs) {
  const int nb = bid.n, na = ask.n;
  const int first_asks = na > 0 && ask.y[0] == 0;  // row 0 holds the asks on it
  const int bid_rows = nb > 0 && bid.y[nb - 1] == kImageRows - 1 ? nb - 1 : nb;  // the last row changes nothing
  // The ask sum at row y adds the asks at rows <= y from the bottom up, as the dense cumulation
  // does (ask_prefix[i]: the first i, rounded to float as the float grid's cumulation is); the
  // bid sum adds the bids at rows >= y from the top down (bid_suffix[j]: all from the j-th).
  double ask_prefix[kLevels + 1], bid_suffix[kLevels + 1];
  const auto sums = [&](int f) {
    double acc = 0;
    ask_prefix[0] = static_cast<double>(static_cast<float>(acc));
    for (int i = 0; i < na; ++i) {
      acc += ask.value[f][i];
      ask_prefix[i + 1] = static_cast<double>(static_cast<float>(acc));
    }
    acc = 0;
    bid_suffix[nb] = 0;
    for (int j = nb - 1; j >= 0; --j) bid_suffix[j] = acc += bid.value[f][j];
    first_value[f] = ask_prefix[first_asks] - bid_suffix[0];
  };
  // Each change: its row, how many asks lie at or below it (i) and how many bids below it (j);
  // the column there is ask_prefix[i] - bid_suffix[j]. Usually one side lies wholly above the
  // other on the grid (their prices do not cross): then every ask sees the same bids below it
  // and every bid the same asks, and the values follow from the sums directly.
  const bool bids_first = nb == 0 || na == 0 || bid.y[nb - 1] + 1 < ask.y[0];
  const bool asks_first = nb > 0 && na > 0 && ask.y[na - 1] < bid.y[0];
  int n = 0;
  if (bids_first || asks_first) {
    for (int i = first_asks; i < na; ++i) row[n++] = static_cast<int16_t>(ask.y[i]);
    for (int j = 0; j < bid_rows; ++j) row[n++] = static_cast<int16_t>(bid.y[j] + 1);
    for (int f = 0; f < kPlanes; ++f) {
      sums(f);
      const double bids_below = bid_suffix[bids_first ? nb : 0], asks_at = ask_prefix[bids_first ? 0 : na];
      // Stored as float32, which is what pass 2 scales: only the maximum needs the double.
      float* v = value + f * kMaxEvents;
      double m0 = std::abs(first_value[f]), m1 = 0;  // in registers, merged after
      int p = 0;
      for (int i = first_asks; i < na; ++i, ++p) {
        const double d = ask_prefix[i + 1] - bids_below;
        v[p] = static_cast<float>(d);
        m0 = std::abs(d) > m0 ? std::abs(d) : m0;
      }
      for (int j = 0; j < bid_rows; ++j, ++p) {
        const double d = asks_at - bid_suffix[j + 1];
        v[p] = static_cast<float>(d);
        m1 = std::abs(d) > m1 ? std::abs(d) : m1;
      }
      max_abs[f] = m1 > m0 ? m1 : m0;
    }
    return n;
  }
  // A book that drifted across the mid: both lists ascend, so each count only grows: merge them.
  uint8_t asks_at[kMaxEvents], bids_below[kMaxEvents];
  int below = 0;
  for (int i = first_asks; i < na; ++i, ++n) {
    while (below < nb && bid.y[below] < ask.y[i]) ++below;
    row[n] = static_cast<int16_t>(ask.y[i]);
    asks_at[n] = static_cast<uint8_t>(i + 1);
    bids_below[n] = static_cast<uint8_t>(below);
  }
  int at = 0;
  for (int j = 0; j < bid_rows; ++j, ++n) {
    while (at < na && ask.y[at] <= bid.y[j] + 1) ++at;
    row[n] = static_cast<int16_t>(bid.y[j] + 1);
    asks_at[n] = static_cast<uint8_t>(at);
    bids_below[n] = static_cast<uint8_t>(j + 1);
  }
  for (int f = 0; f < kPlanes; ++f) {
    sums(f);
    float* v = value + f * kMaxEvents;
    double m0 = std::abs(first_value[f]), m1 = 0;
    int p = 0;
    for (; p + 2 <= n; p += 2) {
      const double v0 = ask_prefix[asks_at[p]] - bid_suffix[bids_below[p]];
      const double v1 = ask_prefix[asks_at[p + 1]] - bid_suffix[bids_below[p + 1]];
      v[p] = static_cast<float>(v0);
      v[p + 1] = static_cast<float>(v1);
      m0 = std::abs(v0) > m0 ? std::abs(v0) : m0;
      m1 = std::abs(v1) > m1 ? std::abs(v1) : m1;
    }
    if (p < n) {
      const double v0 = ask_prefix[asks_at[p]] - bid_suffix[bids_below[p]];
      v[p] = static_cast<float>(v0);
      m0 = std::abs(v0) > m0 ? std::abs(v0) : m0;
    }
    max_abs[f] = m1 > m0 ? m1 : m0;
  }
  return n;
}

// The field of BinCell each plane renders.
template <int kPlanes>
void PlaneMembers(const Feature* planes, float BinCell::** member) {
  for (int f = 0; f < kPlanes; ++f) {
    member[f] = planes[f] == Feature::kVolume     ? &BinCell::volume
                : planes[f] == Feature::kVariance ? &BinCell::variance
                                                  : &BinCell::trade_counts;
  }
}

// The features rendered, as planes in their fixed stacking order (whatever order the options
// list them in); return how many.
int PlanesOf(const ImageOptions& options, Feature* planes) {
  int num_planes = 0;
  for (Feature feature : {Feature::kVolume, Feature::kVariance, Feature::kTradeCounts}) {
    if (std::find(options.features.begin(), options.features.end(), feature) != options.features.end()) {
      planes[num_planes++] = feature;
    }
  }
  return num_planes;
}

// A bin's levels as SortedBins stores them: each side in book order (bids falling, asks rising
// with depth), equal prices merged into the deepest of them, as micro-pip offsets from `base`,
// with their values in each rendered plane. The slots after a side's last level hold offsets
// no count below includes.
template <int kPlanes>
struct Sorted {
  SortedBin head;
  int32_t bid[kLevels], ask[kLevels];
  float bid_value[kPlanes][kLevels], ask_value[kPlanes][kLevels];
};

// Offsets and the mids they are compared with stay within these, so neither overflows an
// int32 and the padding compares as no level.
constexpr int64_t kSortedReach = int64_t{1} << 30;
constexpr int32_t kBelowAll = INT32_MIN, kAboveAll = INT32_MAX;
// Prices beyond this are left unsorted (no grid reaches them from a real mid).
constexpr int64_t kFarPrice = int64_t{1} << 61;

// Sort one bin's levels, or leave it unsorted (its head's `sorted` false) where a side is out of
// book order or its prices span more than the offsets reach.
template <int kPlanes>
void SortBin(const BinCell* bin, float BinCell::*const* member, Sorted<kPlanes>& out) {
  out.head = SortedBin{};
  std::fill(std::begin(out.bid), std::end(out.bid), kBelowAll);
  std::fill(std::begin(out.ask), std::end(out.ask), kAboveAll);
  int64_t base = kNoPrice;
  for (int l = 0; l < 2 * kLevels && base == kNoPrice; ++l) base = bin[l].price;
  out.head.base = base == kNoPrice ? 0 : base;
  for (int side = 0; side < 2; ++side) {
    int32_t* offsets = side == 0 ? out.bid : out.ask;
    int n = 0;
    for (int l = 0; l < kLevels; ++l) {
      const BinCell& cell = bin[side * kLevels + l];
      if (cell.price == kNoPrice) continue;
      // Both prices are defined; far from the int64 limits their difference cannot overflow.
      if (std::abs(cell.price) >= kFarPrice || std::abs(base) >= kFarPrice) return;
      const int64_t offset = cell.price - base;
      if (offset <= -kSortedReach || offset >= kSortedReach) return;
      const auto at = static_cast<int32_t>(offset);
      if (n > 0 && (side == 0 ? at > offsets[n - 1] : at < offsets[n - 1])) return;  // out of order
      const int slot = n > 0 && at == offsets[n - 1] ? n - 1 : n++;  // a tie: the deeper one's values
      offsets[slot] = at;
      for (int f = 0; f < kPlanes; ++f) {
        (side == 0 ? out.bid_value : out.ask_value)[f][slot] = cell.*member[f];
      }
    }
    (side == 0 ? out.head.bids : out.head.asks) = static_cast<uint8_t>(n);
  }
  out.head.sorted = true;
}

// How many of a side's offsets (padded) are at or above x (bids, falling) or below x (asks,
// rising): a side's levels on one stretch of the grid are the run between two such counts.
inline int CountAtOrAbove(const int32_t* offsets, int32_t x) {
  int n = 0;
  for (int i = 0; i < kLevels; ++i) n += offsets[i] >= x;
  return n;
}
inline int CountBelow(const int32_t* offsets, int32_t x) {
  int n = 0;
  for (int i = 0; i < kLevels; ++i) n += offsets[i] < x;
  return n;
}

// Place a sorted bin's levels on the grid rows for `mid`, as PlaceLevels does from its cells.
// With m the mid's offset, the levels below the mid (rows m - 1 - offset, 0..199) and above it
// (rows offset - m + kHalfRange + 1, 202..401) are runs of each side: bids below the mid in
// book order, then those above it in reverse; asks below the mid in reverse, then those above
// it in book order.
template <int kPlanes>
inline void PlaceSorted(const Sorted<kPlanes>& bin, int64_t mid, PlacedLevels<kPlanes>& bid,
                        PlacedLevels<kPlanes>& ask) {
  // Far from every level, a mid places none; clamped there, its counts are the same.
  const auto m = static_cast<int32_t>(std::clamp<__int128>(static_cast<__int128>(mid) - bin.head.base,
                                                           -kSortedReach - 1024, kSortedReach + 1024));
  constexpr int32_t kHigh = kHalfRange + 1;
  // Append offsets[from, to) (in reverse where `reverse`), below or above the mid.
  const auto take = [m](const int32_t* offsets, const float (*values)[kLevels], int from, int to, bool reverse,
                        bool below, PlacedLevels<kPlanes>& out) {
    for (int k = 0; k < to - from; ++k) {
      const int i = reverse ? to - 1 - k : from + k;
      out.y[out.n] = below ? m - 1 - offsets[i] : offsets[i] - m + kHigh;
      for (int f = 0; f < kPlanes; ++f) out.value[f][out.n] = values[f][i];
      ++out.n;
    }
  };
  bid.n = 0;
  take(bin.bid, bin.bid_value, CountAtOrAbove(bin.bid, m), CountAtOrAbove(bin.bid, m - kHalfRange), false, true, bid);
  take(bin.bid, bin.bid_value, CountAtOrAbove(bin.bid, m + kHigh), CountAtOrAbove(bin.bid, m + 1), true, false, bid);
  ask.n = 0;
  take(bin.ask, bin.ask_value, CountBelow(bin.ask, m - kHalfRange), CountBelow(bin.ask, m), true, true, ask);
  take(bin.ask, bin.ask_value, CountBelow(bin.ask, m + 1), CountBelow(bin.ask, m + kHigh), false, false, ask);
}

// RenderFromBinPointers for kPlanes planes, in three passes:
//  1. per bin, its levels placed on the grid (from its sorted levels where it has them, else
//     from its cells), its column's value at row 0 and at each row where it changes
//     (ChangesOf), the planes' max |value|, and how many changes fall on each row;
//  2. the changes bucketed by row (a counting sort), each with its value scaled: the max is
//     known before any of the image is written;
//  3. per plane, each image row built from the row above in one row of scratch (in L1) with
//     that row's changes, and streamed out: the image is written once, its empty cells with
//     it, and never read back.
// An ask row that is also the row after a bid row changes the column once, so its two changes
// carry the same value and either may be applied last.
template <int kPlanes>
void RenderPieces(const BinCell* const* bins, const SortedBin* const* sorted, int64_t mid, int T,
                  const Feature* planes, PlaneScale plane_scale, float* out) {
  float BinCell::*member[kPlanes];
  PlaneMembers<kPlanes>(planes, member);
  // Scratch reused by each thread, used through plain pointers (a thread_local named in a
  // loop costs a __tls_get_addr call per use in a shared library).
  thread_local std::vector<int16_t> change_row_buffer;     // T × kMaxEvents
  thread_local std::vector<float> change_value_buffer;     // T × kPlanes × kMaxEvents
  thread_local std::vector<uint8_t> changes_buffer;        // T
  thread_local std::vector<int32_t> row_first_buffer;      // kImageRows + 1: events of row y
  thread_local std::vector<int16_t> event_bin_buffer;      // T × kMaxEvents, by row
  thread_local std::vector<float> event_value_buffer;      // kPlanes × T × kMaxEvents, by row
  thread_local std::vector<double> first_value_buffer;     // kPlanes × T: row 0
  thread_local std::vector<float> row_buffer;              // kPlanes × T: the row being built
  const size_t plane_stride = static_cast<size_t>(T) * kMaxEvents;
  change_row_buffer.resize(plane_stride);
  change_value_buffer.resize(kPlanes * plane_stride);
  changes_buffer.resize(static_cast<size_t>(T));
  row_first_buffer.assign(kImageRows + 1, 0);
  event_bin_buffer.resize(plane_stride);
  event_value_buffer.resize(kPlanes * plane_stride);
  first_value_buffer.resize(kPlanes * static_cast<size_t>(T));
  row_buffer.resize(kPlanes * static_cast<size_t>(T));
  int16_t* const change_row = change_row_buffer.data();
  float* const change_value = change_value_buffer.data();
  uint8_t* const changes = changes_buffer.data();
  int32_t* const row_first = row_first_buffer.data();
  int16_t* const event_bin = event_bin_buffer.data();
  float* const event_value = event_value_buffer.data();
  double* const first_value = first_value_buffer.data();
  float* const rows = row_buffer.data();

  // Pass 1.
  double max_abs[kPlanes] = {};
  for (int k = 0; k < T; ++k) {
    int16_t* row = &change_row[static_cast<size_t>(k) * kMaxEvents];
    const auto* levels = sorted != nullptr ? reinterpret_cast<const Sorted<kPlanes>*>(sorted[k]) : nullptr;
    if (k + 8 < T) {
      // The cells (or the sorted levels) 8 bins ahead: a sample's bins are spread over memory.
      const char* ahead = sorted != nullptr ? reinterpret_cast<const char*>(sorted[k + 8])
                                            : reinterpret_cast<const char*>(bins[k + 8]);
      const size_t bytes = sorted != nullptr ? sizeof(Sorted<kPlanes>) : 2 * kLevels * sizeof(BinCell);
      for (size_t b = 0; b < bytes; b += 64) __builtin_prefetch(ahead + b);
    }
    PlacedLevels<kPlanes> bid, ask;
    if (levels != nullptr && levels->head.sorted) {
      PlaceSorted<kPlanes>(*levels, mid, bid, ask);
    } else {
      PlaceLevels<kPlanes, false>(bins[k], mid, member, bid);
      PlaceLevels<kPlanes, true>(bins[k] + kLevels, mid, member, ask);
    }
    float* value = &change_value[static_cast<size_t>(k) * kPlanes * kMaxEvents];
    double first[kPlanes], bin_max[kPlanes];
    const int n = ChangesOf<kPlanes>(bid, ask, row, value, first, bin_max);
    for (int f = 0; f < kPlanes; ++f) first_value[static_cast<size_t>(f) * T + k] = first[f];
    changes[static_cast<size_t>(k)] = static_cast<uint8_t>(n);
    for (int p = 0; p < n; ++p) ++row_first[row[p] + 1];
    for (int f = 0; f < kPlanes; ++f) max_abs[f] = bin_max[f] > max_abs[f] ? bin_max[f] : max_abs[f];
  }
  // Pass 2. Unscaled, value × 1.0f is float(value): the combined grid's own float32.
  float scale[kPlanes];
  for (int f = 0; f < kPlanes; ++f) {
    scale[f] = plane_scale == PlaneScale::kNone ? 1.0f
               : max_abs[f] > 0                 ? static_cast<float>(1.0 / max_abs[f])
                                                : 0.0f;
    for (int k = 0; k < T; ++k) {
      rows[f * T + k] = static_cast<float>(first_value[static_cast<size_t>(f) * T + k]) * scale[f];
    }
  }
  for (int y = 0; y < kImageRows; ++y) row_first[y + 1] += row_first[y];
  int32_t fill[kImageRows];
  std::copy(row_first, row_first + kImageRows, fill);
  for (int k = 0; k < T; ++k) {
    const int16_t* row = &change_row[static_cast<size_t>(k) * kMaxEvents];
    const float* value = &change_value[static_cast<size_t>(k) * kPlanes * kMaxEvents];
    for (int p = 0; p < changes[static_cast<size_t>(k)]; ++p) {
      const int32_t e = fill[row[p]]++;
      event_bin[e] = static_cast<int16_t>(k);
      for (int f = 0; f < kPlanes; ++f) {
        event_value[f * plane_stride + static_cast<size_t>(e)] = value[f * kMaxEvents + p] * scale[f];
      }
    }
  }
  // Pass 3.
  void (*const stream)(const float*, float*, int) = internal::HaveAvx2() ? StreamFloatsAvx2 : StreamFloats;
  for (int f = 0; f < kPlanes; ++f) {
    float* const row = rows + f * T;
    const float* const values = event_value + f * plane_stride;
    float* dst = out + static_cast<ptrdiff_t>(f) * kImageRows * T;
    stream(row, dst, T);
    for (int y = 1; y < kImageRows; ++y) {
      for (int32_t e = row_first[y]; e < row_first[y + 1]; ++e) row[event_bin[e]] = values[e];
      stream(row, dst + static_cast<ptrdiff_t>(y) * T, T);
    }
  }
  StreamFence();
}

}  // namespace

SortedBins SortedBins::Of(const BinCell* cells, int64_t bins, const ImageOptions& options) {
  SortedBins out;
  Feature planes[3];
  const int num_planes = PlanesOf(options, planes);
  const auto sort = [&]<int kPlanes>(std::integral_constant<int, kPlanes>) {
    static_assert(sizeof(Sorted<kPlanes>) % sizeof(uint64_t) == 0);
    float BinCell::*member[kPlanes];
    PlaneMembers<kPlanes>(planes, member);
    out.stride_words_ = sizeof(Sorted<kPlanes>) / sizeof(uint64_t);
    out.storage_.resize(static_cast<size_t>(bins) * out.stride_words_);
    auto* sorted = reinterpret_cast<Sorted<kPlanes>*>(out.storage_.data());
    for (int64_t b = 0; b < bins; ++b) {
      SortBin<kPlanes>(cells + b * 2 * kLevels, member, *new (sorted + b) Sorted<kPlanes>);
    }
  };
  if (num_planes == 1) sort(std::integral_constant<int, 1>{});
  else if (num_planes == 2) sort(std::integral_constant<int, 2>{});
  else sort(std::integral_constant<int, 3>{});
  return out;
}

void RenderFromBinPointers(const BinCell* const* bins, int64_t mid, const ImageOptions& options, float* out,
                           PlaneScale plane_scale, const SortedBin* const* sorted) {
  Feature planes[3];
  const int T = options.time_bins;
  switch (PlanesOf(options, planes)) {
    case 1: return RenderPieces<1>(bins, sorted, mid, T, planes, plane_scale, out);
    case 2: return RenderPieces<2>(bins, sorted, mid, T, planes, plane_scale, out);
    default: return RenderPieces<3>(bins, sorted, mid, T, planes, plane_scale, out);
  }
}

void RenderFromBins(const BinAggregates& bins, int64_t last_bin, int64_t mid, const ImageOptions& options,
                    float* out, PlaneScale scale) {
  const int T = options.time_bins;
  thread_local std::vector<const BinCell*> columns;
  columns.resize(static_cast<size_t>(T));
  for (int k = 0; k < T; ++k) columns[static_cast<size_t>(k)] = &bins.at(last_bin - T + 1 + k, 0, 0);
  RenderFromBinPointers(columns.data(), mid, options, out, scale);
}

}  // namespace tickforge::features
