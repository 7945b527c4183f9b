// A random-walk MBP-10 book held in vectors, for the tests and benchmarks of depth images.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "tickforge/dbn/records.h"
#include "tickforge/features/depth_image.h"

namespace tickforge::testing {

// A book held in vectors, viewed through features::Book.
struct OwnedBook {
  static constexpr int kLevels = features::kLevels;
  std::array<std::vector<int64_t>, kLevels> bid_px, ask_px;
  std::array<std::vector<uint32_t>, kLevels> bid_sz, ask_sz, bid_ct, ask_ct;

  [[nodiscard]] features::Book View() const {
    features::Book book;
    book.rows = static_cast<int64_t>(bid_px[0].size());
    for (int l = 0; l < kLevels; ++l) {
      book.bid_px[l] = bid_px[l].data();
      book.ask_px[l] = ask_px[l].data();
      book.bid_sz[l] = bid_sz[l].data();
      book.ask_sz[l] = ask_sz[l].data();
      book.bid_ct[l] = bid_ct[l].data();
      book.ask_ct[l] = ask_ct[l].data();
    }
    return book;
  }
};

// A random walk around 0.65 with 0.5 micro-pip ticks (fixed point 5000 = 0.000005), gaps of a
// tick in the ladder (adjacent levels' means often round to one micro-pip) and an empty bid
// level now and then.
inline OwnedBook RandomBook(int64_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  OwnedBook b;
  int64_t mid = 650'000'000;
  for (int64_t r = 0; r < rows; ++r) {
    mid += (static_cast<int64_t>(rng() % 3) - 1) * 5000;
    for (int l = 0; l < OwnedBook::kLevels; ++l) {
      const bool empty = rng() % 50 == 0;
      b.bid_px[l].push_back(empty ? dbn::kUndefPrice : mid - 5000 * (l + 1 + static_cast<int64_t>(rng() % 2)));
      b.ask_px[l].push_back(mid + 5000 * (l + 1 + static_cast<int64_t>(rng() % 2)));
      b.bid_sz[l].push_back(static_cast<uint32_t>(1 + rng() % 100));
      b.ask_sz[l].push_back(static_cast<uint32_t>(1 + rng() % 100));
      b.bid_ct[l].push_back(static_cast<uint32_t>(1 + rng() % 5));
      b.ask_ct[l].push_back(static_cast<uint32_t>(1 + rng() % 5));
    }
  }
  return b;
}

}  // namespace tickforge::testing
