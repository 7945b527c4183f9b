// Row identity for deduplication: a 128-bit hash of a row's natural key (or of all its values),
// two independent 64-bit lanes so that distinct rows of a large dataset do not collide. The
// same mix also makes the cache's keys, which name folders on disk: its values must not change.
#pragma once

#include <arrow/record_batch.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tickforge/util/status.h"

namespace tickforge::store {

struct Key128 {
  uint64_t a;
  uint64_t b;
  bool operator==(const Key128&) const = default;
};
struct Key128Hash {
  size_t operator()(const Key128& k) const { return k.a; }
};

/// Return the SplitMix64 finalizer of `x` (util/random.h's SplitMix64 adds the golden gamma
/// first; these keys never did).
[[nodiscard]] inline uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Fold one 64-bit value into both lanes of `key`.
inline void Absorb(Key128& key, uint64_t value) {
  key.a = Mix(key.a ^ value);
  key.b = Mix(key.b + value * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL);
}

/// Return FNV-1a of `bytes` started from the offset basis xor their length (so util's Fnv1a64,
/// which starts from the basis alone, gives other values).
[[nodiscard]] inline uint64_t HashBytes(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL ^ bytes.size();
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

/// Return the natural-key hash of every row (all columns when `key_columns` is empty). Values
/// hash by value, not by type: integers of any width alike, -0.0 as 0.0, null apart from every
/// value; strings by their bytes.
[[nodiscard]] Result<std::vector<Key128>> RowKeys(const arrow::RecordBatch& batch,
                                                  const std::vector<std::string>& key_columns);

}  // namespace tickforge::store
