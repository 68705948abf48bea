// fast_exp.h: e^x, sigmoid and tanh for the float program's LSTM gate loops,
// in plain arithmetic so that the compiler turns those loops into vector code
// (libm's expf is a call per element, and was half the time of an LSTM
// training step). The gradient-test build (double) keeps std::exp and
// std::tanh, so the finite-difference checks see the exact functions.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/tensor.h"

// e^x = 2^n e^r with n = round(x / ln 2) and r = x - n ln 2 in
// [-ln2/2, ln2/2]: e^r by its Taylor polynomial to degree 7, 2^n written
// into the exponent bits. Rounding uses the 1.5 * 2^23 trick, which needs no
// rounding instruction. Relative error at most 1.1e-7 on [-87, 88] against
// std::exp in double (libm's expf: 6e-8); tests/test_fast_exp.cpp measures it.
inline float exp_by_polynomial(float x) {
  // Clamp to [-87, 88]: beyond, 2^n leaves the float range. std::max and
  // std::min compile to the vector max and min instructions, with no branch
  // to stop the vectoriser; they keep x exact inside the range (an arithmetic
  // clamp such as (x + a + |x - a|) / 2 rounds x + a, and a rounded x costs
  // up to 8e-6 relative in e^x) and send x = +-inf to the ends.
  // A NaN passes the clamp (std::max(NaN, a) compares NaN < a, which is
  // false, and returns the NaN) and makes the result NaN, as std::exp does.
  x = std::min(std::max(x, -87.0f), 88.0f);
  const float round_shift = 12582912.0f;  // 1.5 * 2^23
  // shifted = 1.5 * 2^23 + n: at that size a float's last mantissa bit is 1,
  // so adding rounds x / ln 2 to the nearest whole n, and n sits in the low
  // bits.
  const float shifted = x * 1.44269504f + round_shift;
  const float n = shifted - round_shift;
  // ln 2 in two parts, so that n * ln2 is exact enough for |n| up to 127.
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^n: n + 127 in the exponent bits, n read from shifted's bits (they are
  // 0x4B400000 + n) rather than converted from the float n: converting a
  // NaN to an integer is undefined behaviour; reading bits is not, and the
  // NaN polynomial p makes the result NaN whatever they hold.
  uint32_t shifted_bits;
  std::memcpy(&shifted_bits, &shifted, sizeof shifted_bits);
  const uint32_t bits = (shifted_bits - 0x4B400000u + 127u) << 23;
  float two_to_n;
  std::memcpy(&two_to_n, &bits, sizeof two_to_n);
  return p * two_to_n;
}

inline real exp_real(real x) {
  if constexpr (std::is_same<real, float>::value)
    return exp_by_polynomial(x);
  else
    return std::exp(x);
}
inline real sigmoid(real z) { return real(1) / (real(1) + exp_real(-z)); }
// tanh(z) = 2 sigmoid(2z) - 1
inline real tanh_real(real z) {
  if constexpr (std::is_same<real, float>::value)
    return real(2) * sigmoid(real(2) * z) - real(1);
  else
    return std::tanh(z);
}
