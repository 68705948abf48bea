// core_lstm.cpp: the core network f_h as an LSTM (seed paper, section 2.3:
// "the DeepMind paper had actually implemented an LSTM in another module",
// that is RAM's core; Hochreiter and Schmidhuber 1997, with the forget gate of
// Gers et al. 2000, no peepholes).
//
//   z_t = g_t W_in + b + h_{t-1} W_rec          [B, 4H]: four gate blocks
//   i_t = sigmoid(z_i)    input gate
//   f_t = sigmoid(z_f)    forget gate
//   o_t = sigmoid(z_o)    output gate
//   u_t = tanh(z_u)       candidate
//   c_t = f_t * c_{t-1} + i_t * u_t,     c_0 = 0
//   h_t = o_t * tanh(c_t),               h_0 = 0
//
// The gate blocks sit side by side in one [B, 4H] buffer in the order
// i, f, o, u, so one matrix product computes all four. The forget gate's
// bias starts at +1 (Jozefowicz, Zaremba, Sutskever 2015), so that early in
// training the cell keeps what it holds; parameters.cpp sets it. The same
// step, lstm_forward / lstm_backward, is the seed paper's LSTM locator
// (location_network.cpp), with two units.
#include <algorithm>
#include <cmath>

#include "gemm.h"
#include "model.h"

namespace {
inline real sigmoid(real z) { return real(1) / (real(1) + std::exp(-z)); }
}  // namespace

// One step of an LSTM with input weights `in` ([X, 4H] and bias) and
// recurrent weights `rec` ([H, 4H]). x [B, X] with row stride ldx; gates
// [B, 4H] (after their nonlinearities), c [B, H], h [B, H]. The core uses it
// with H = 256, the LSTM locator (location_network.cpp) with H = 2.
void lstm_forward(const LinearParams& in, const LinearParams& rec, int B, int H, const real* x, int ldx,
                  const real* h_prev, const real* c_prev, real* gates, real* c, real* h) {
  const int H4 = 4 * H;
  // z = x W_in + b (+ h_prev W_rec; nothing at t = 1, where h_0 = 0). A
  // missing x is an input of zeros: the locator's at t = 1.
  if (x) {
    linear_forward(B, x, ldx, in, gates, H4);
  } else {
    for (int r = 0; r < B; ++r) std::copy(in.b, in.b + H4, gates + static_cast<std::size_t>(r) * H4);
  }
  if (h_prev) gemm(Trans::no, Trans::no, B, H4, H, h_prev, H, rec.W, H4, gates, H4, true);
  for (int r = 0; r < B; ++r) {
    real* z = gates + static_cast<std::size_t>(r) * H4;
    real* zi = z;
    real* zf = z + H;
    real* zo = z + 2 * H;
    real* zu = z + 3 * H;
    const real* c_prev_r = c_prev ? c_prev + static_cast<std::size_t>(r) * H : nullptr;
    real* c_r = c + static_cast<std::size_t>(r) * H;
    real* h_r = h + static_cast<std::size_t>(r) * H;
    for (int j = 0; j < H; ++j) {
      const real i = sigmoid(zi[j]), f = sigmoid(zf[j]), o = sigmoid(zo[j]), u = std::tanh(zu[j]);
      zi[j] = i;
      zf[j] = f;
      zo[j] = o;
      zu[j] = u;
      // c_t = f c_{t-1} + i u;  h_t = o tanh(c_t)
      c_r[j] = (c_prev_r ? f * c_prev_r[j] : real(0)) + i * u;
      h_r[j] = o * std::tanh(c_r[j]);
    }
  }
}

// dh [B, H] and dc [B, H] arrive holding dL/dh_t and dL/dc_t from later
// steps; dc is overwritten with dL/dc_t in full. dz [B, 4H] is scratch.
// Writes dx (when given, adding into it if accumulate_dx) and dc_prev; adds
// into dh_prev (both skipped when nullptr: at t = 1, h_0 = c_0 = 0 are
// constants).
void lstm_backward(const LinearParams& in, const LinearParams& rec, const LinearParams& grad_in,
                   const LinearParams& grad_rec, int B, int H, const real* x, int ldx, const real* h_prev,
                   const real* c_prev, const real* gates, const real* c, const real* dh, real* dc, real* dz,
                   real* dx, int lddx, bool accumulate_dx, real* dh_prev, real* dc_prev) {
  const int H4 = 4 * H;
  for (int r = 0; r < B; ++r) {
    const real* a = gates + static_cast<std::size_t>(r) * H4;
    const real *i = a, *f = a + H, *o = a + 2 * H, *u = a + 3 * H;
    const real* c_r = c + static_cast<std::size_t>(r) * H;
    const real* c_prev_r = c_prev ? c_prev + static_cast<std::size_t>(r) * H : nullptr;
    const real* dh_r = dh + static_cast<std::size_t>(r) * H;
    real* dc_r = dc + static_cast<std::size_t>(r) * H;
    real* dz_r = dz + static_cast<std::size_t>(r) * H4;
    real* dc_prev_r = dc_prev ? dc_prev + static_cast<std::size_t>(r) * H : nullptr;
    for (int j = 0; j < H; ++j) {
      const real tc = std::tanh(c_r[j]);
      const real cp = c_prev_r ? c_prev_r[j] : real(0);
      // Forward was h = o tanh(c): do = dh tanh(c); dc += dh o (1 - tanh(c)^2).
      const real d_o = dh_r[j] * tc;
      const real d_c = dc_r[j] + dh_r[j] * o[j] * (1 - tc * tc);
      // Forward was c = f c_prev + i u.
      const real d_i = d_c * u[j], d_f = d_c * cp, d_u = d_c * i[j];
      // Through the nonlinearities: sigmoid' = s (1 - s), tanh' = 1 - t^2.
      dz_r[j] = d_i * i[j] * (1 - i[j]);
      dz_r[H + j] = d_f * f[j] * (1 - f[j]);
      dz_r[2 * H + j] = d_o * o[j] * (1 - o[j]);
      dz_r[3 * H + j] = d_u * (1 - u[j] * u[j]);
      dc_r[j] = d_c;
      if (dc_prev_r) dc_prev_r[j] = d_c * f[j];
    }
  }
  // Forward was z = x W_in + b + h_prev W_rec.
  if (x) {
    linear_backward(B, x, ldx, dz, H4, in, grad_in, dx, lddx, accumulate_dx);
  } else {
    for (int r = 0; r < B; ++r)
      for (int j = 0; j < H4; ++j) grad_in.b[j] += dz[static_cast<std::size_t>(r) * H4 + j];
  }
  if (h_prev) linear_backward(B, h_prev, H, dz, H4, rec, grad_rec, dh_prev, H, true);
}

// The core is one LSTM step with the core's weights, input g_t.
void core_lstm_forward(const RamParams& p, int B, int H, const real* g, const real* h_prev,
                       const real* c_prev, real* gates, real* c, real* h) {
  lstm_forward(p.core_in, p.core_rec, B, H, g, p.core_in.in, h_prev, c_prev, gates, c, h);
}

void core_lstm_backward(const RamParams& p, const RamParams& grad, int B, int H, const real* g,
                        const real* h_prev, const real* c_prev, const real* gates, const real* c,
                        const real* dh, real* dc, real* dz, real* dg, real* dh_prev, real* dc_prev) {
  lstm_backward(p.core_in, p.core_rec, grad.core_in, grad.core_rec, B, H, g, p.core_in.in, h_prev, c_prev,
                gates, c, dh, dc, dz, dg, p.core_in.in, false, dh_prev, dc_prev);
}
