// random.h: the project's only source of randomness.
//
// Every random number is a pure function of the run's seed and of where it is
// used (epoch, step, image), so a run is fixed by its seed whatever the number
// of threads, and a resumed run draws exactly what the uninterrupted run would
// have drawn. The generator is splitmix64 (Steele, Lea, Flood 2014) for
// mixing keys, and xoshiro256** (Blackman, Vigna 2018) for streams.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// One 64-bit key from a seed and up to three coordinates.
inline uint64_t mix_key(uint64_t seed, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0) {
  uint64_t s = seed;
  uint64_t k = splitmix64(s);
  s = k ^ a;
  k = splitmix64(s);
  s = k ^ b;
  k = splitmix64(s);
  s = k ^ c;
  return splitmix64(s);
}

class Rng {
 public:
  explicit Rng(uint64_t key) {
    uint64_t s = key;
    for (auto& w : state_) w = splitmix64(s);
  }
  uint64_t next_u64() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  // Uniform in [0, 1), 53 random bits.
  double uniform() { return (next_u64() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n).
  int below(int n) { return static_cast<int>(uniform() * n); }
  // Standard normal, Box-Muller; both values of a pair are used.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(6.283185307179586 * u2);
    has_spare_ = true;
    return r * std::cos(6.283185307179586 * u2);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

// A permutation of 0..n-1 (Fisher-Yates).
inline std::vector<int> random_permutation(int n, uint64_t key) {
  std::vector<int> p(n);
  for (int i = 0; i < n; ++i) p[i] = i;
  Rng rng(key);
  for (int i = n - 1; i > 0; --i) {
    int j = static_cast<int>(rng.next_u64() % static_cast<uint64_t>(i + 1));
    int t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
