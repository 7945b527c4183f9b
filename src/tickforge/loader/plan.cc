#include "tickforge/loader/plan_internal.h"

#include <map>
#include <utility>

#include "tickforge/loader/segment_cache_internal.h"

namespace tickforge::loader::internal {
namespace {

// Put `order` (indices into index.samples) in the seeded order of one pass: shuffled, or
// segment block by segment block when options.locality, or as it is without shuffle.
void OrderPass(const SampleIndex& index, const LoaderOptions& options, Rng& rng, std::vector<uint32_t>& order) {
  if (options.shuffle && options.locality) {
    // Blocks of samples sharing a cache segment, in shuffled order, shuffled inside.
    const int64_t segment_rows = options.image.ticks_per_bin * kBinsPerSegment;
    std::map<std::pair<int32_t, int64_t>, std::vector<uint32_t>> blocks;
    for (uint32_t i : order) {
      const Sample& x = index.samples[static_cast<size_t>(i)];
      blocks[{x.symbol, x.row / segment_rows}].push_back(i);
    }
    std::vector<std::vector<uint32_t>> shuffled;
    for (auto& [key, block] : blocks) shuffled.push_back(std::move(block));
    rng.Shuffle(shuffled);
    order.clear();
    for (auto& block : shuffled) {
      rng.Shuffle(block);
      order.insert(order.end(), block.begin(), block.end());
    }
  } else if (options.shuffle) {
    rng.Shuffle(order);
  }
}

// A class's (or a class and symbol's) samples, used in passes, each pass in a seeded order.
struct Stream {
  std::vector<uint32_t> members;  // in index order
  std::vector<uint32_t> order;
  size_t next = 0;
  uint64_t pass = 0;
  uint64_t key = 0;  // the stream's part of the seed

  uint32_t Draw(const SampleIndex& index, const LoaderOptions& options, int64_t epoch) {
    if (next == order.size()) {
      order = members;
      Rng rng = PlanRng(MixSeeds({options.seed, 3, static_cast<uint64_t>(epoch), static_cast<uint64_t>(options.rank),
                                  key, pass}));
      OrderPass(index, options, rng, order);
      next = 0;
      ++pass;
    }
    return order[next++];
  }
};

// Natural sampling: every sample of every rank once, in one order seeded by (seed, epoch)
// alone; global batch g goes to rank g mod world_size, and the samples after the last full
// round of world_size batches wait for a later epoch (they differ from epoch to epoch).
std::vector<uint32_t> PlanNatural(const SampleIndex& index, const LoaderOptions& options, int64_t epoch) {
  std::vector<uint32_t> order(index.samples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  Rng rng = PlanRng(MixSeeds({options.seed, 5, static_cast<uint64_t>(epoch)}));
  OrderPass(index, options, rng, order);
  const int64_t B = options.batch_size;
  std::vector<uint32_t> plan(static_cast<size_t>(index.batches_per_epoch * B));
  for (int64_t b = 0; b < index.batches_per_epoch; ++b) {
    const int64_t global = b * options.world_size + options.rank;
    std::copy_n(order.begin() + global * B, B, plan.begin() + b * B);
  }
  return plan;
}

}  // namespace

std::vector<uint32_t> PlanEpoch(const SampleIndex& index, const LoaderOptions& options, int64_t epoch) {
  if (options.sampling == Sampling::kNatural) return PlanNatural(index, options, epoch);
  const uint64_t seed = options.seed;
  const auto rank = static_cast<uint64_t>(options.rank);
  const int num_classes = index.num_classes;
  const bool by_symbol = options.sampling == Sampling::kClassSymbolUniform;
  std::vector<int> classes;
  for (int c = 0; c < num_classes; ++c) {
    if (!index.by_class[static_cast<size_t>(c)].empty()) classes.push_back(c);
  }
  // Each class is a stream; class_symbol_uniform splits each class into a stream per symbol
  // that has samples of it (sorted by symbol).
  std::vector<std::vector<Stream>> streams(static_cast<size_t>(num_classes));
  for (int c : classes) {
    auto& of_class = streams[static_cast<size_t>(c)];
    const auto& members = index.by_class[static_cast<size_t>(c)];
    if (!by_symbol) {
      of_class.push_back(Stream{members, {}, 0, 0, static_cast<uint64_t>(c)});
      continue;
    }
    std::map<int16_t, std::vector<uint32_t>> per_symbol;
    for (uint32_t i : members) per_symbol[index.samples[i].symbol].push_back(i);
    for (auto& [symbol, list] : per_symbol) {
      // Keys of the per-symbol streams stay clear of the per-class ones.
      const uint64_t key = MixSeeds({7, static_cast<uint64_t>(c), static_cast<uint64_t>(symbol)});
      of_class.push_back(Stream{std::move(list), {}, 0, 0, key});
    }
  }
  const int64_t B = options.batch_size;
  const auto C = static_cast<int64_t>(classes.size());
  if (C == 0) return {};
  const int64_t batches = index.batches_per_epoch;
  std::vector<uint32_t> plan(static_cast<size_t>(batches * B));
  std::vector<int64_t> symbol_quota;
  std::vector<size_t> symbol_pick;
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
      auto& of_class = streams[static_cast<size_t>(c)];
      const int64_t q = quota[static_cast<size_t>(i)];
      const auto S = static_cast<int64_t>(of_class.size());
      // floor(q/S) from each symbol's stream, one more from q mod S symbols the seeded
      // generator picks (one stream when not by symbol).
      symbol_quota.assign(static_cast<size_t>(S), q / S);
      symbol_pick.resize(static_cast<size_t>(S));
      for (size_t k = 0; k < symbol_pick.size(); ++k) symbol_pick[k] = k;
      if (S > 1) {
        Rng symbol_rng = PlanRng(MixSeeds({seed, 6, static_cast<uint64_t>(epoch), rank, static_cast<uint64_t>(b),
                                           static_cast<uint64_t>(c)}));
        symbol_rng.Shuffle(symbol_pick);
      }
      for (int64_t k = 0; k < q % S; ++k) ++symbol_quota[symbol_pick[static_cast<size_t>(k)]];
      for (int64_t k = 0; k < S; ++k) {
        for (int64_t n = 0; n < symbol_quota[static_cast<size_t>(k)]; ++n) {
          batch[filled++] = of_class[static_cast<size_t>(k)].Draw(index, options, epoch);
        }
      }
    }
    if (options.shuffle) rng.Shuffle(batch, static_cast<size_t>(B));
  }
  return plan;
}

}  // namespace tickforge::loader::internal
