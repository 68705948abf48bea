// finite_difference.h: the central-difference checker the gradient tests share
// (tests/grad_components.cpp, tests/grad_episode.cpp; double build only).
//
// A numeric derivative is (L(x + eps) - L(x - eps)) / ((x + eps) - (x - eps)),
// taken in double precision, and it is compared with the analytic one by a
// relative error that keeps the sign:
//
//   |analytic - numeric| < kRelTol * (kScale + max(|analytic|, |numeric|))
//
// (doctest's Approx with epsilon kRelTol and scale kScale). A flipped sign
// makes the error twice the value and fails; so does a dropped term larger
// than about kRelTol of the gradient. kScale sets the floor below which
// errors are compared absolutely: kRelTol * kScale = 1e-8, about ten times
// the largest rounding error of the difference seen in these tests (about
// 1e-16 |L| / eps: 2e-10 to 1e-9 for losses of a few units), and six orders
// below the per-block gradient norms of the episode test (0.03 to 2).
// Measured room: every check still passes with kRelTol = 3e-8, and some fail
// on rounding alone at 1e-8.
//
// Not a general tool: no step-size search, no kink detection. The tests pick
// their inputs away from the kinks of relu and hardtanh themselves.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "kernels/random.h"
#include "kernels/tensor.h"
#include "model/ram.h"

namespace fd {

constexpr double kStep = 1e-6;    // eps of the central difference
constexpr double kRelTol = 1e-6;  // relative error allowed, sign kept
constexpr double kScale = 1e-2;   // below this size a gradient is compared absolutely

using Loss = std::function<double()>;

// Approx with the tolerance of every gradient check, in one place.
inline doctest::Approx near(double numeric) {
  return doctest::Approx(numeric).epsilon(kRelTol).scale(kScale);
}

// dL/dx by central differences; *x is restored bitwise afterwards. The step
// actually taken, (x + eps) - (x - eps), is the divisor, not 2 eps.
inline double central_difference(real* x, const Loss& loss, double eps = kStep) {
  const real x0 = *x;
  const real up = static_cast<real>(x0 + eps), down = static_cast<real>(x0 - eps);
  *x = up;
  const double loss_up = loss();
  *x = down;
  const double loss_down = loss();
  *x = x0;
  return (loss_up - loss_down) / (static_cast<double>(up) - static_cast<double>(down));
}

// Checks analytic[i] against dL/dx[i] for i < n, naming the block and index.
inline void check_elements(const std::string& block, real* x, const real* analytic,
                           std::size_t n, const Loss& loss) {
  for (std::size_t i = 0; i < n; ++i) {
    const double numeric = central_difference(x + i, loss);
    CAPTURE(block);
    CAPTURE(i);
    CHECK(static_cast<double>(analytic[i]) == near(numeric));
  }
}

// dL/dt at t = 0 of L(x + t d), by central differences along d; x restored.
inline double directional_difference(real* x, const real* d, std::size_t n, const Loss& loss,
                                     double eps = kStep) {
  std::vector<real> x0(x, x + n);
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<real>(x0[i] + eps * d[i]);
  const double loss_up = loss();
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<real>(x0[i] - eps * d[i]);
  const double loss_down = loss();
  for (std::size_t i = 0; i < n; ++i) x[i] = x0[i];
  return (loss_up - loss_down) / (2 * eps);
}

inline double dot(const real* a, const real* b, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

inline void fill_uniform(Rng& rng, real* x, std::size_t n, double lo, double hi) {
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<real>(rng.uniform(lo, hi));
}

inline std::vector<real> uniform_vector(Rng& rng, std::size_t n, double lo, double hi) {
  std::vector<real> v(n);
  fill_uniform(rng, v.data(), n, lo, hi);
  return v;
}

// A random unit vector of n elements (normal entries, normalised).
inline std::vector<real> random_direction(Rng& rng, std::size_t n) {
  std::vector<real> d(n);
  double norm2 = 0;
  for (auto& v : d) {
    v = static_cast<real>(rng.normal());
    norm2 += static_cast<double>(v) * v;
  }
  const double inv = 1.0 / std::sqrt(norm2);
  for (auto& v : d) v = static_cast<real>(v * inv);
  return d;
}

// The flat gradient buffer `grads`, laid out as `params`, against finite
// differences of `loss` in the parameters: every element of the blocks named
// in `checked` (each of which must exist and hold a nonzero gradient, so the
// check is not vacuous), and exactly zero everywhere else, padding included.
inline void check_parameter_gradients(Parameters& params, const Parameters& grads,
                                      const std::set<std::string>& checked, const Loss& loss) {
  std::vector<char> in_block(params.size(), 0);
  std::size_t found = 0;
  for (const ParamBlock& block : params.blocks()) {
    if (!checked.count(block.name)) continue;
    ++found;
    const real* g = grads.data() + block.offset;
    CAPTURE(block.name);
    CHECK(dot(g, g, block.size) > 0);
    check_elements(block.name, params.data() + block.offset, g, block.size, loss);
    for (std::size_t i = 0; i < block.size; ++i) in_block[block.offset + i] = 1;
  }
  CHECK(found == checked.size());
  // Everything else untouched: other blocks, then the padding between blocks.
  for (const ParamBlock& block : params.blocks()) {
    if (checked.count(block.name)) continue;
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < block.size; ++i) nonzero += grads.data()[block.offset + i] != 0;
    CAPTURE(block.name);
    CHECK(nonzero == 0);
    for (std::size_t i = 0; i < block.size; ++i) in_block[block.offset + i] = 1;
  }
  std::size_t padding_nonzero = 0;
  for (std::size_t i = 0; i < params.size(); ++i)
    padding_nonzero += !in_block[i] && grads.data()[i] != 0;
  CHECK(padding_nonzero == 0);
}

}  // namespace fd
