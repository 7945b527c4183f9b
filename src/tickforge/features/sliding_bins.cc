#include "tickforge/features/sliding_bins.h"

#include <algorithm>
#include <vector>

#include "tickforge/features/depth_image_internal.h"
#include "tickforge/util/time.h"

namespace tickforge::features {
namespace {

// Sizes whose range is at most this many values are counted by value; wider ranges by rank
// among the level's distinct sizes (sorted once).
constexpr uint32_t kDirectRange = 1u << 16;
constexpr int kBlockShift = 6;  // the histogram's coarse level: counts per 64 keys

// The sizes in a sliding bin as a histogram over keys (a size's offset from the smallest, or
// its rank), with a cursor that walks to the k-th smallest. Consecutive bins share all rows
// but two, so the cursor moves little between them; the coarse counts let it skip empty
// stretches of a sparse histogram 64 keys at a time.
class SlidingHistogram {
 public:
  void Reset(size_t keys) {
    const size_t blocks = (keys >> kBlockShift) + 1;
    counts_.assign(blocks << kBlockShift, 0);
    blocks_.assign(blocks, 0);
    cursor_ = 0;
    below_ = 0;
  }
  void Add(uint32_t key) {
    ++counts_[key];
    ++blocks_[key >> kBlockShift];
    below_ += key < cursor_;
  }
  void Remove(uint32_t key) {
    --counts_[key];
    --blocks_[key >> kBlockShift];
    below_ -= key < cursor_;
  }
  // Return the key of the k-th smallest size (0-based; k < the sizes held).
  uint32_t Select(uint32_t k) {
    while (below_ > k) {
      if ((cursor_ & kBlockMask) == 0 && below_ - blocks_[(cursor_ >> kBlockShift) - 1] > k) {
        cursor_ -= kBlock;
        below_ -= blocks_[cursor_ >> kBlockShift];
      } else {
        --cursor_;
        below_ -= counts_[cursor_];
      }
    }
    while (below_ + counts_[cursor_] <= k) {
      if ((cursor_ & kBlockMask) == 0 && below_ + blocks_[cursor_ >> kBlockShift] <= k) {
        below_ += blocks_[cursor_ >> kBlockShift];
        cursor_ += kBlock;
      } else {
        below_ += counts_[cursor_];
        ++cursor_;
      }
    }
    return cursor_;
  }

 private:
  static constexpr uint32_t kBlock = 1u << kBlockShift;
  static constexpr uint32_t kBlockMask = kBlock - 1;
  std::vector<uint32_t> counts_, blocks_;
  uint32_t cursor_ = 0;  // a key
  uint32_t below_ = 0;   // sizes held with a key below the cursor
};

}  // namespace

void SlideBins(const Book& book, int64_t starts, const ImageOptions& options, const SlidingOut& out) {
  const int64_t tpb = options.ticks_per_bin;
  const int64_t rows = starts + tpb - 1;
  const auto wants = [&](Feature f) { return std::find(options.features.begin(), options.features.end(), f) !=
                                             options.features.end(); };
  const bool want_volume = wants(Feature::kVolume);
  const bool want_variance = wants(Feature::kVariance) && out.variance != nullptr;
  const bool want_trades = wants(Feature::kTradeCounts) && out.trade_counts != nullptr;
  std::vector<uint32_t> keys(static_cast<size_t>(rows));
  std::vector<uint32_t> values;  // the size of each key
  std::vector<uint32_t> sizes(static_cast<size_t>(tpb));  // one bin's defined sizes, in row order
  SlidingHistogram histogram;
  for (int side = 0; side < 2; ++side) {
    for (int l = 0; l < kLevels; ++l) {
      const int32_t* px = side == 0 ? book.bid_mp[l] : book.ask_mp[l];
      const uint32_t* sz = side == 0 ? book.bid_sz[l] : book.ask_sz[l];
      const uint32_t* ct = side == 0 ? book.bid_ct[l] : book.ask_ct[l];
      const int64_t at = side * kLevels + l;
      if (want_volume) {
        uint32_t lo = UINT32_MAX, hi = 0;
        for (int64_t r = 0; r < rows; ++r) {
          if (px[r] == kNoMicroPips) continue;
          lo = std::min(lo, sz[r]);
          hi = std::max(hi, sz[r]);
        }
        if (lo > hi) lo = hi = 0;  // the level is empty throughout
        if (hi - lo < kDirectRange) {
          values.resize(hi - lo + 1);
          for (uint32_t k = 0; k <= hi - lo; ++k) values[k] = lo + k;
          for (int64_t r = 0; r < rows; ++r) keys[static_cast<size_t>(r)] = px[r] == kNoMicroPips ? 0 : sz[r] - lo;
        } else {
          values.clear();
          for (int64_t r = 0; r < rows; ++r) {
            if (px[r] != kNoMicroPips) values.push_back(sz[r]);
          }
          std::sort(values.begin(), values.end());
          values.erase(std::unique(values.begin(), values.end()), values.end());
          for (int64_t r = 0; r < rows; ++r) {
            keys[static_cast<size_t>(r)] =
                px[r] == kNoMicroPips
                    ? 0
                    : static_cast<uint32_t>(std::lower_bound(values.begin(), values.end(), sz[r]) - values.begin());
          }
        }
        histogram.Reset(values.size());
      }
      int64_t price_sum = 0;  // offsets of the defined rows in the bin: exact, so it slides
      uint32_t n = 0;
      uint64_t trades = 0;
      const auto Add = [&](int64_t r) {
        if (px[r] == kNoMicroPips) return;
        price_sum += px[r];
        ++n;
        if (want_trades) trades += ct[r];
        if (want_volume) histogram.Add(keys[static_cast<size_t>(r)]);
      };
      const auto Remove = [&](int64_t r) {
        if (px[r] == kNoMicroPips) return;
        price_sum -= px[r];
        --n;
        if (want_trades) trades -= ct[r];
        if (want_volume) histogram.Remove(keys[static_cast<size_t>(r)]);
      };
      for (int64_t r = 0; r + 1 < tpb; ++r) Add(r);
      for (int64_t s = 0; s < starts; ++s) {
        Add(s + tpb - 1);
        if (s > 0) Remove(s - 1);
        const size_t i = static_cast<size_t>(s * 2 * kLevels + at);
        SlidingCell& cell = out.cells[i];
        cell = SlidingCell{kNoMicroPips, 0};
        if (out.variance) out.variance[i] = 0;
        if (out.trade_counts) out.trade_counts[i] = 0;
        if (n == 0) continue;
        // floor(Σ(offset + base) / n) = floor(Σ offset / n) + base, so the offset mean suffices.
        // Offsets are from the smallest price, so the sum is usually a small non-negative number:
        // a 32-bit division then (the floor of a non-negative quotient), a fraction of a 64-bit one.
        cell.price = price_sum >= 0 && price_sum <= UINT32_MAX
                         ? static_cast<int32_t>(static_cast<uint32_t>(price_sum) / n)
                         : static_cast<int32_t>(FloorDiv(price_sum, static_cast<int64_t>(n)));
        if (want_volume) {
          // Aggregate's median: the middle size, or the mean of the two middle ones, in double.
          const uint32_t lower_k = (n - 1) / 2, upper_k = n / 2;
          const double lower = values[histogram.Select(lower_k)];
          const double upper = upper_k == lower_k ? lower : values[histogram.Select(upper_k)];
          cell.volume = static_cast<float>((lower + upper) / 2);
        }
        if (want_variance) {
          const uint32_t* bin = sz + s;
          if (n != static_cast<uint32_t>(tpb)) {  // gather the defined rows, in order
            size_t m = 0;
            for (int64_t r = s; r < s + tpb; ++r) {
              if (px[r] != kNoMicroPips) sizes[m++] = sz[r];
            }
            bin = sizes.data();
          }
          out.variance[i] = internal::SampleVariance(bin, n);
        }
        if (want_trades) out.trade_counts[i] = static_cast<float>(trades);
      }
    }
  }
}

void ExpandSlidingBin(const SlidingCell* cells, const float* variance, const float* trade_counts, int64_t base,
                      BinCell* out) {
  for (int i = 0; i < 2 * kLevels; ++i) {
    const SlidingCell& cell = cells[i];
    out[i] = BinCell{cell.price == kNoMicroPips ? kNoPrice : cell.price + base, cell.volume,
                     variance ? variance[i] : 0.0f, trade_counts ? trade_counts[i] : 0.0f};
  }
}

}  // namespace tickforge::features
