// The panel's worker threads.
#include "tickforge/panel/parallel_internal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace tickforge::panel {
namespace {

TEST(PanelParallelTest, EachIndexOnceOnUpToWorkersThreads) {
  EXPECT_GE(Workers(), 2);
  EXPECT_LE(Workers(), 8);
  for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{1000}}) {
    std::vector<std::atomic<int>> calls(n);
    std::mutex mutex;
    std::set<std::thread::id> threads;
    ParallelFor(n, [&](size_t i) {
      ++calls[i];
      std::lock_guard lock(mutex);
      threads.insert(std::this_thread::get_id());
    });
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(calls[i].load(), 1) << "n=" << n << " i=" << i;
    EXPECT_LE(threads.size(), std::max<size_t>(1, std::min<size_t>(n, static_cast<size_t>(Workers()))));
  }
}

}  // namespace
}  // namespace tickforge::panel
