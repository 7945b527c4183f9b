// One side's level structure, measured on the level updates of a real MBO day (ESH4,
// 2023-12-25, in the shared test data): the sorted vector PriceLevels keeps against the
// std::map a textbook book keeps, each followed by reading the best 10 levels after every event
// as the row writer does. Also the whole replay (decode and apply) of that day. Google Benchmark.
#include <benchmark/benchmark.h>

#include <functional>
#include <map>
#include <unordered_map>
#include <vector>

#include "tickforge/book/mbo_reader.h"
#include "tickforge/book/price_levels.h"
#include "tickforge/dbn/decoder.h"
#include "tickforge/testing/testdata.h"

namespace tickforge::book {
namespace {

// One level update: add (or take off) size and count at a price of one side; `event` marks the
// end of an event (the top levels are read after it).
struct LevelOp {
  int64_t price;
  int64_t size;
  int32_t count;
  bool ask;
  bool event;
};

std::string DayFile() {
  const auto dir = testing::TestDataDir();
  return dir.empty() ? std::string() : (dir / "nautilus/databento/esh4-glbx-mdp3-20231225.mbo.dbn.zst").string();
}

// The day's level updates, derived once with a plain order map (the day has no anomalies).
const std::vector<LevelOp>& DayOps() {
  static const std::vector<LevelOp> ops = [] {
    std::vector<LevelOp> out;
    auto decoder = dbn::Decoder::Open(DayFile());
    if (!decoder.ok()) return out;
    struct Resting {
      int64_t price;
      int64_t size;
      bool ask;
    };
    std::unordered_map<uint64_t, Resting> orders;
    while (true) {
      auto record = (*decoder)->Next();
      if (!record.ok() || *record == nullptr) break;
      const auto& m = *reinterpret_cast<const dbn::MboMsg*>(*record);
      const bool ask = m.side == 'A';
      const bool event = (m.flags & dbn::flag::kLast) != 0;
      auto it = orders.find(m.order_id);
      if (m.action == 'A') {
        orders[m.order_id] = {m.price, m.size, ask};
        out.push_back({m.price, m.size, 1, ask, event});
      } else if (m.action == 'C' && it != orders.end()) {
        const bool full = m.size >= it->second.size;
        out.push_back({it->second.price, -static_cast<int64_t>(full ? it->second.size : m.size), full ? -1 : 0, ask, event});
        if (full) orders.erase(it); else it->second.size -= m.size;
      } else if (m.action == 'M' && it != orders.end()) {
        out.push_back({it->second.price, -it->second.size, -1, ask, false});
        out.push_back({m.price, m.size, 1, ask, event});
        it->second = {m.price, m.size, ask};
      } else if (event && !out.empty()) {
        out.back().event = true;
      }
    }
    return out;
  }();
  return ops;
}

void BM_SortedVectorLevels(benchmark::State& state) {
  const auto& ops = DayOps();
  if (ops.empty()) return state.SkipWithError("test data not found (set TICKFORGE_TESTDATA)");
  int64_t checksum = 0;
  for (auto _ : state) {
    PriceLevels bids(Side::kBid), asks(Side::kAsk);
    for (const auto& op : ops) {
      PriceLevels& side = op.ask ? asks : bids;
      if (op.size >= 0) {
        side.Add(op.price, static_cast<uint64_t>(op.size), static_cast<uint32_t>(op.count));
      } else {
        benchmark::DoNotOptimize(side.Subtract(op.price, static_cast<uint64_t>(-op.size), static_cast<uint32_t>(-op.count)));
      }
      if (op.event) {
        for (size_t i = 0; i < 10 && i < bids.size(); ++i) checksum += bids[i].price;
        for (size_t i = 0; i < 10 && i < asks.size(); ++i) checksum += asks[i].price;
      }
    }
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(ops.size()));
}
BENCHMARK(BM_SortedVectorLevels)->Unit(benchmark::kMillisecond);

template <typename Compare>
void ApplyToMap(std::map<int64_t, Level, Compare>& side, const LevelOp& op) {
  if (op.size >= 0) {
    Level& level = side[op.price];
    level.price = op.price;
    level.size += static_cast<uint64_t>(op.size);
    level.count += static_cast<uint32_t>(op.count);
    return;
  }
  auto it = side.find(op.price);
  it->second.size -= static_cast<uint64_t>(-op.size);
  it->second.count -= static_cast<uint32_t>(-op.count);
  if (it->second.size == 0 && it->second.count == 0) side.erase(it);
}

void BM_StdMapLevels(benchmark::State& state) {
  const auto& ops = DayOps();
  if (ops.empty()) return state.SkipWithError("test data not found (set TICKFORGE_TESTDATA)");
  int64_t checksum = 0;
  for (auto _ : state) {
    std::map<int64_t, Level, std::greater<>> bids;
    std::map<int64_t, Level, std::less<>> asks;
    for (const auto& op : ops) {
      if (op.ask) {
        ApplyToMap(asks, op);
      } else {
        ApplyToMap(bids, op);
      }
      if (op.event) {
        int n = 0;
        for (auto it = bids.begin(); it != bids.end() && n < 10; ++it, ++n) checksum += it->first;
        n = 0;
        for (auto it = asks.begin(); it != asks.end() && n < 10; ++it, ++n) checksum += it->first;
      }
    }
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(ops.size()));
}
BENCHMARK(BM_StdMapLevels)->Unit(benchmark::kMillisecond);

void BM_ReplayDay(benchmark::State& state) {
  const std::string path = DayFile();
  if (path.empty()) return state.SkipWithError("test data not found (set TICKFORGE_TESTDATA)");
  int64_t messages = 0;
  for (auto _ : state) {
    auto stats = ReplayMbo(path);
    if (!stats.ok()) return state.SkipWithError(stats.status().ToString().c_str());
    messages += stats->messages;
  }
  state.SetItemsProcessed(messages);
}
BENCHMARK(BM_ReplayDay)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tickforge::book
