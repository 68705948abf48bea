// test_lstm_float.cpp: the float program's LSTM step, whose sigmoid and tanh
// use a polynomial e^x written for the vectoriser (core_lstm.cpp), against
// the same step computed in double with std::exp and std::tanh. Allowed: an
// error of 1e-5 relative or absolute, whichever is larger: the float step
// sums pre-activations of size 25 and cell terms of size 3 that nearly cancel,
// so its rounding alone reaches a few 1e-7 absolute. A wrong polynomial
// coefficient errs by 1e-3.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/random.h"
#include "model/linear.h"
#include "model/core_lstm.h"
#include "model/lstm.h"
#include "model/ram.h"

TEST_CASE("lstm (float): gates, cell and output match a double computation with std::exp") {
  ModelConfig c;
  c.core = CoreKind::lstm;
  c.hidden = 16;
  c.glimpse_hidden = 8;
  Parameters params(c);
  params.init_uniform(5, 3.0);  // wide weights: pre-activations up to about 25 in size
  const RamParams& p = params.views();
  const int B = 4, H = 16, X = 8;
  Rng rng(9);
  std::vector<real> x(B * X), h_prev(B * H), c_prev(B * H);
  for (auto& v : x) v = static_cast<real>(rng.uniform(-2, 2));
  for (auto& v : h_prev) v = static_cast<real>(rng.uniform(-1, 1));
  for (auto& v : c_prev) v = static_cast<real>(rng.uniform(-3, 3));
  std::vector<real> gates(B * 4 * H), cell(B * H), h(B * H);
  Step prev, now;
  prev.h = h_prev.data();
  prev.c = c_prev.data();
  now.B = B;
  now.g = x.data();
  now.gates = gates.data();
  now.c = cell.data();
  now.h = h.data();
  core_lstm_forward(c, p, prev, now);
  double widest = 0;
  for (int r = 0; r < B; ++r) {
    for (int j = 0; j < H; ++j) {
      double z[4];
      for (int g = 0; g < 4; ++g) {
        const int col = g * H + j;
        double sum = p.core_in.b[col];
        for (int k = 0; k < X; ++k) sum += double(x[r * X + k]) * p.core_in.W[k * 4 * H + col];
        for (int k = 0; k < H; ++k) sum += double(h_prev[r * H + k]) * p.core_rec.W[k * 4 * H + col];
        z[g] = sum;
        widest = std::max(widest, std::fabs(sum));
      }
      const double i = 1 / (1 + std::exp(-z[0])), f = 1 / (1 + std::exp(-z[1]));
      const double o = 1 / (1 + std::exp(-z[2])), u = std::tanh(z[3]);
      const double cell_ref = f * c_prev[r * H + j] + i * u;
      const double h_ref = o * std::tanh(cell_ref);
      CAPTURE(r);
      CAPTURE(j);
      CHECK(gates[r * 4 * H + j] == doctest::Approx(i).epsilon(1e-5).scale(1));
      CHECK(gates[r * 4 * H + 3 * H + j] == doctest::Approx(u).epsilon(1e-5).scale(1));
      CHECK(cell[r * H + j] == doctest::Approx(cell_ref).epsilon(1e-5).scale(1));
      CHECK(h[r * H + j] == doctest::Approx(h_ref).epsilon(1e-5).scale(1));
    }
  }
  CHECK(widest > 20);  // the saturated ends were exercised
}
