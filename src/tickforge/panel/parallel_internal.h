// The panel's worker threads: how many there are, and a loop that spreads indices over them.
// Footers, the cross-section count, symbol read-ahead and the time-order spill all run on them.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace tickforge::panel {

/// Return how many threads read symbols ahead: one per core, at least two so reading overlaps,
/// at most eight.
[[nodiscard]] inline int Workers() {
  return static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 2u, 8u));
}

/// Call fn(0..n-1) on Workers() threads, the calling thread among them; each index once.
inline void ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  const auto work = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> threads;
  for (int w = 1; w < std::min<int>(Workers(), static_cast<int>(n)); ++w) threads.emplace_back(work);
  work();
  for (auto& thread : threads) thread.join();
}

}  // namespace tickforge::panel
