// fingerprint.h: a 64-bit hash of bytes, to know a data set again.
//
// The bytes are read as little-endian 64-bit words on every machine, so a
// fingerprint is the same everywhere; each word is folded in through
// splitmix64 (random.h), whose output function mixes every input bit into
// every output bit. Not a cryptographic hash: it tells honest files apart,
// it does not stand up to forgery.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/random.h"

// The fingerprint of bytes[0, n), continuing from `h` (0 to start): chained
// calls fingerprint several buffers as one.
inline uint64_t fingerprint(const uint8_t* bytes, std::size_t n, uint64_t h = 0) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t state = h;
    for (int k = 0; k < 8; ++k) state ^= uint64_t{bytes[i + k]} << (8 * k);
    h = splitmix64(state);
  }
  uint64_t state = h;
  for (int k = 0; i + k < n; ++k) state ^= uint64_t{bytes[i + k]} << (8 * k);
  h = splitmix64(state);
  // The length too: buffers that differ only by trailing zero bytes differ.
  state = h ^ n;
  return splitmix64(state);
}
