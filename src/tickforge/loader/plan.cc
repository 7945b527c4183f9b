#include "tickforge/loader/plan_internal.h"

#include <map>
#include <utility>

#include "tickforge/loader/segment_cache_internal.h"

namespace tickforge::loader::internal {

std::vector<uint32_t> PlanEpoch(const SampleIndex& index, const LoaderOptions& options, int64_t epoch) {
  const uint64_t seed = options.seed;
  const auto rank = static_cast<uint64_t>(options.rank);
  const int num_classes = index.num_classes;
  std::vector<int> classes;
  for (int c = 0; c < num_classes; ++c) {
    if (!index.by_class[static_cast<size_t>(c)].empty()) classes.push_back(c);
  }
  // Each class is a stream: its samples in a seeded order, reshuffled whenever exhausted.
  struct Stream {
    std::vector<uint32_t> order;
    size_t next = 0;
    uint64_t pass = 0;
  };
  std::vector<Stream> streams(static_cast<size_t>(num_classes));
  const int64_t segment_rows = options.image.ticks_per_bin * kBinsPerSegment;
  const auto refill = [&](int c) {
    Stream& s = streams[static_cast<size_t>(c)];
    s.order = index.by_class[static_cast<size_t>(c)];
    Rng rng = PlanRng(MixSeeds({seed, 3, static_cast<uint64_t>(epoch), rank, static_cast<uint64_t>(c), s.pass}));
    if (options.shuffle && options.locality) {
      // Blocks of samples sharing a cache segment, in shuffled order, shuffled inside.
      std::map<std::pair<int32_t, int64_t>, std::vector<uint32_t>> blocks;
      for (uint32_t i : s.order) {
        const Sample& x = index.samples[static_cast<size_t>(i)];
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
    } else if (options.shuffle) {
      rng.Shuffle(s.order);
    }
    s.next = 0;
    ++s.pass;
  };
  for (int c : classes) refill(c);
  const int64_t B = options.batch_size;
  const auto C = static_cast<int64_t>(classes.size());
  if (C == 0) return {};
  const int64_t batches = index.batches_per_epoch;
  std::vector<uint32_t> plan(static_cast<size_t>(batches * B));
  for (int64_t b = 0; b < batches; ++b) {
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
    if (options.shuffle) rng.Shuffle(batch, static_cast<size_t>(B));
  }
  return plan;
}

}  // namespace tickforge::loader::internal
