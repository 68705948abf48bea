// test_fast_exp.cpp: the float program's e^x, sigmoid and tanh
// (kernels/fast_exp.h) against std::exp in double.
//
// e^x is checked on a dense grid of its whole range [-87, 88], where it must
// stay within 2e-7 relative (under two float ulps; libm's expf reaches 6e-8).
// A clamp that rounds x (such as (x + a + |x - a|) / 2) errs by up to 8e-6
// there, a wrong polynomial coefficient by 1e-3. sigmoid and tanh, which the
// LSTM's gates apply to any finite pre-activation, must saturate to their
// limits without NaN or inf, also where 2z overflows to inf; a NaN (weights
// that overflow) gives NaN, with no undefined float-to-int conversion.
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <limits>

#include "kernels/fast_exp.h"

TEST_CASE("exp_by_polynomial: within 2e-7 relative of e^x over [-87, 88]") {
  // 2^22 + 1 evenly spaced points, x = -87 + 175 i / 2^22: about 4e-5 apart,
  // so every exponent n = round(x / ln 2) and every part of [-ln2/2, ln2/2]
  // the polynomial sees is visited many times.
  const int kPoints = 1 << 22;
  double worst = 0, worst_x = 0;
  for (int i = 0; i <= kPoints; ++i) {
    const float x = static_cast<float>(-87.0 + 175.0 * i / kPoints);
    const double exact = std::exp(static_cast<double>(x));
    const double error = std::fabs(static_cast<double>(exp_by_polynomial(x)) - exact) / exact;
    if (error > worst) {
      worst = error;
      worst_x = x;
    }
  }
  CAPTURE(worst_x);
  CHECK(worst <= 2e-7);
  CHECK(worst > 0);  // the grid did reach rounding error
}

TEST_CASE("exp_by_polynomial: clamped beyond [-87, 88], finite for any input") {
  const float e_88 = exp_by_polynomial(88), e_minus_87 = exp_by_polynomial(-87);
  // scale(0): relative error alone (doctest's default adds an absolute 1).
  CHECK(e_88 == doctest::Approx(std::exp(88.0)).epsilon(2e-7).scale(0));
  CHECK(e_minus_87 == doctest::Approx(std::exp(-87.0)).epsilon(2e-7).scale(0));
  for (const float x : {89.0f, 1e30f, FLT_MAX, INFINITY}) {
    CAPTURE(x);
    CHECK(exp_by_polynomial(x) == e_88);
    CHECK(exp_by_polynomial(-x) == e_minus_87);
  }
}

TEST_CASE("sigmoid and tanh (float): saturate to their limits for large and huge z") {
  // sigmoid(z) = 1 / (1 + e^-z): 1 above z = 17 (e^-17 is below half a
  // float ulp of 1), e^z to float precision below z = -17, at least e^-88
  // far out. tanh(z) = 2 sigmoid(2z) - 1: +-1 beyond |z| = 9; at z = FLT_MAX,
  // 2z is inf.
  for (const float z : {20.0f, 100.0f, 1e30f, FLT_MAX}) {
    CAPTURE(z);
    CHECK(sigmoid(z) == 1.0f);
    CHECK(tanh_real(z) == 1.0f);
    CHECK(tanh_real(-z) == -1.0f);
    const float s = sigmoid(-z);
    CHECK(std::isfinite(s));
    CHECK(s >= 0);
    CHECK(s <= 2.1e-9f);  // e^-20
  }
  CHECK(sigmoid(-20.0f) == doctest::Approx(std::exp(-20.0)).epsilon(1e-6).scale(0));
  CHECK(sigmoid(-1e30f) == doctest::Approx(1 / (1 + std::exp(88.0))).epsilon(1e-6).scale(0));
  // Where they have not saturated, the values of std::exp and std::tanh.
  for (const float z : {-3.0f, -0.5f, 0.25f, 2.0f}) {
    CAPTURE(z);
    CHECK(sigmoid(z) == doctest::Approx(1 / (1 + std::exp(-static_cast<double>(z)))).epsilon(3e-7).scale(0));
    CHECK(tanh_real(z) == doctest::Approx(std::tanh(static_cast<double>(z))).epsilon(1e-6).scale(0));
  }
}

TEST_CASE("exp_by_polynomial, sigmoid, tanh: NaN in, NaN out, with no float-to-int conversion of the NaN") {
  // Weights that overflow make NaN pre-activations. The clamp passes a NaN;
  // converting the NaN n to an integer would be undefined behaviour (seen
  // only by -fsanitize=float-cast-overflow: x86 happens to give INT_MIN);
  // n is read from the float's bits instead. Both as one call and in a loop
  // the compiler vectorises, NaNs in between numbers.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isnan(exp_by_polynomial(nan)));
  CHECK(std::isnan(sigmoid(nan)));
  CHECK(std::isnan(tanh_real(nan)));
  float x[64], y[64];
  for (int i = 0; i < 64; ++i) x[i] = i % 5 == 2 ? nan : -40.0f + 1.25f * i;
  for (int i = 0; i < 64; ++i) y[i] = exp_by_polynomial(x[i]);
  for (int i = 0; i < 64; ++i) {
    CAPTURE(i);
    if (i % 5 == 2)
      CHECK(std::isnan(y[i]));
    else
      CHECK(y[i] == doctest::Approx(std::exp(static_cast<double>(x[i]))).epsilon(2e-7).scale(0));
  }
}
