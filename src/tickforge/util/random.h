// The seeded randomness of the whole engine, defined once: the SplitMix64 mix every seeded draw
// hashes with, FNV-1a for stable name hashes, and the generators built on them. Every formula is
// fully specified here, so the same seed gives the same numbers with any standard library.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <string_view>
#include <utility>
#include <vector>

namespace tickforge {

inline constexpr uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ULL;

/// Return splitmix64(x): x + golden gamma, then the SplitMix64 finalizer.
[[nodiscard]] constexpr uint64_t SplitMix64(uint64_t x) {
  uint64_t z = x + kGoldenGamma;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Return the 64-bit FNV-1a hash of `bytes`, stable across runs and platforms.
[[nodiscard]] constexpr uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

/// Fold `parts` into one 64-bit key with SplitMix64, for seeds derived from several labels.
[[nodiscard]] constexpr uint64_t MixSeeds(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x243F6A8885A308D3ULL;
  for (uint64_t p : parts) h = SplitMix64(h ^ p);
  return h;
}

/// The SplitMix64 sequence from `state`: each draw adds the golden gamma to the state and
/// returns its mix. The engine's one seeded generator, with the distributions it needs.
class Rng {
 public:
  explicit Rng(uint64_t state) : state_(state) {}

  /// Return the next 64 random bits.
  uint64_t Next() {
    const uint64_t out = SplitMix64(state_);
    state_ += kGoldenGamma;
    return out;
  }
  /// Return a uniform integer in [0, n) (Lemire's multiply-shift, no modulo bias worth noting).
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64); }
  /// Return a uniform double in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  /// Return a standard normal draw (Box-Muller, one draw per pair of uniforms).
  double Normal() {
    const double u1 = 1.0 - Uniform();
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  /// Return a Poisson draw: inversion for small means, a rounded normal for large ones.
  int64_t Poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean > 50) {
      const int64_t k = std::llround(mean + std::sqrt(mean) * Normal());
      return k < 0 ? 0 : k;
    }
    const double limit = std::exp(-mean);
    int64_t k = 0;
    double p = Uniform();
    while (p > limit) {
      ++k;
      p *= Uniform();
    }
    return k;
  }
  /// Shuffle `v[0, n)` in place (Fisher-Yates from the back).
  template <typename T>
  void Shuffle(T* v, size_t n) {
    for (size_t i = n; i > 1; --i) std::swap(v[i - 1], v[Below(i)]);
  }
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    Shuffle(v.data(), v.size());
  }

 private:
  uint64_t state_;
};

/// xoshiro256** seeded from SplitMix64, for the market simulator's long streams (a period of
/// 2^256 - 1 where one simulated day draws billions of numbers).
class Xoshiro256 {
 public:
  explicit Xoshiro256(uint64_t seed = 0) {
    for (auto& s : s_) {
      s = SplitMix64(seed);
      seed += kGoldenGamma;
    }
  }

  /// Return the next 64 random bits.
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  /// Return a uniform double in (0, 1]; never 0 so that log() is safe.
  double Uniform() { return static_cast<double>((Next() >> 11) + 1) * 0x1.0p-53; }
  bool Chance(double p) { return Uniform() <= p; }
  /// Return a uniform integer in [0, n).
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(((Next() >> 32) * static_cast<uint64_t>(n)) >> 32); }
  double Exp() { return -std::log(Uniform()); }
  /// Return a standard normal draw (polar Box-Muller; the second of each pair is kept).
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double radius = std::sqrt(2.0 * Exp());
    const double angle = 2.0 * std::numbers::pi * Uniform();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  static constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::array<uint64_t, 4> s_{};
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace tickforge
