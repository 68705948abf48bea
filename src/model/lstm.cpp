// lstm.cpp: one LSTM step, forward and backward, shared by the LSTM core
// (core_lstm.cpp; seed section 2.3) and the seed's LSTM locator
// (location_network.cpp). Hochreiter and Schmidhuber 1997, with the forget
// gate of Gers et al. 2000, no peepholes:
//
//   z_t = x_t W_in + b + h_{t-1} W_rec          [B, 4H]: four gate blocks
//   i_t = sigmoid(z_i)    input gate
//   f_t = sigmoid(z_f)    forget gate
//   o_t = sigmoid(z_o)    output gate
//   u_t = tanh(z_u)       candidate
//   c_t = f_t * c_{t-1} + i_t * u_t,     c_0 = 0
//   h_t = o_t * tanh(c_t),               h_0 = 0
//
// The gate blocks sit side by side in one [B, 4H] buffer in the order
// i, f, o, u, so one matrix product computes all four.
#include "model/lstm.h"

#include <algorithm>
#include <cstdint>

#include "kernels/fast_exp.h"
#include "kernels/thread_pool.h"
#include "kernels/vectorize.h"
#include "model/linear.h"

// The elementwise half of a step: z [B, 4H] (blocks i, f, o, u) in place to
// the gates, then the cell and the output. Simple loops over arrays, so that
// they vectorise, at the CPU's widest (vectorize.h).
namespace {

RAM_VECTORIZE void lstm_gates_forward(int B, int H, real* gates, const real* c_prev, real* c, real* h) {
  const int H4 = 4 * H;
  for (int r = 0; r < B; ++r) {
    real* z = gates + static_cast<std::size_t>(r) * H4;
    const real* c_prev_r = c_prev ? c_prev + static_cast<std::size_t>(r) * H : nullptr;
    real* c_r = c + static_cast<std::size_t>(r) * H;
    real* h_r = h + static_cast<std::size_t>(r) * H;
    // i, f, o = sigmoid; u = tanh.
    for (int j = 0; j < 3 * H; ++j) z[j] = sigmoid(z[j]);
    for (int j = 3 * H; j < H4; ++j) z[j] = tanh_real(z[j]);
    const real *i = z, *f = z + H, *o = z + 2 * H, *u = z + 3 * H;
    // c_t = f c_{t-1} + i u;  h_t = o tanh(c_t)
    if (c_prev_r) {
      for (int j = 0; j < H; ++j) c_r[j] = f[j] * c_prev_r[j] + i[j] * u[j];
    } else {
      for (int j = 0; j < H; ++j) c_r[j] = i[j] * u[j];
    }
    for (int j = 0; j < H; ++j) h_r[j] = o[j] * tanh_real(c_r[j]);
  }
}

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
  if (h_prev) linear_multiply(B, h_prev, H, rec, gates, H4, /*accumulate=*/true);
  lstm_gates_forward(B, H, gates, c_prev, c, h);
}

// The elementwise half of the backward step: dz [B, 4H] from dh and dc,
// and dc_prev (vectorize.h).
namespace {

RAM_VECTORIZE void lstm_gates_backward(int B, int H, const real* c_prev, const real* gates, const real* c,
                                       const real* dh, real* dc, real* dz, real* dc_prev) {
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
    // Short loops without branches inside, so each vectorises: with more
    // arrays in one loop, GCC needs more than its 10 run-time overlap checks
    // and leaves the loop scalar.
    // Forward was h = o tanh(c): do = dh tanh(c); dc += dh o (1 - tanh(c)^2).
    // Through the nonlinearities: sigmoid' = s (1 - s), tanh' = 1 - t^2.
    for (int j = 0; j < H; ++j) {
      const real tc = tanh_real(c_r[j]);
      dz_r[2 * H + j] = dh_r[j] * tc * o[j] * (1 - o[j]);
      dc_r[j] += dh_r[j] * o[j] * (1 - tc * tc);
    }
    // Forward was c = f c_prev + i u: di = dc u, du = dc i (df below).
    for (int j = 0; j < H; ++j) {
      dz_r[j] = dc_r[j] * u[j] * i[j] * (1 - i[j]);
      dz_r[3 * H + j] = dc_r[j] * i[j] * (1 - u[j] * u[j]);
    }
    // df = dc c_prev (zero at t = 1, where c_0 = 0); dc_prev = dc f.
    if (c_prev_r) {
      for (int j = 0; j < H; ++j) dz_r[H + j] = dc_r[j] * c_prev_r[j] * f[j] * (1 - f[j]);
    } else {
      for (int j = 0; j < H; ++j) dz_r[H + j] = 0;
    }
    if (dc_prev_r)
      for (int j = 0; j < H; ++j) dc_prev_r[j] = dc_r[j] * f[j];
  }
}

}  // namespace

// dh [B, H] and dc [B, H] arrive holding dL/dh_t and dL/dc_t from later
// steps; dc is overwritten with dL/dc_t in full. dz [B, 4H] receives
// dL/dz_t, from which lstm_weight_gradients makes the weights' share. Writes
// dx (when given, adding into it if accumulate_dx) and dc_prev; adds into
// dh_prev (both skipped when nullptr: at t = 1, h_0 = c_0 = 0 are constants).
void lstm_backward_data(const LinearParams& in, const LinearParams& rec, int B, int H, const real* c_prev,
                        const real* gates, const real* c, const real* dh, real* dc, real* dz, real* dx, int lddx,
                        bool accumulate_dx, real* dh_prev, real* dc_prev) {
  const int H4 = 4 * H;
  team_rows(B, H4, [&](int r0, int r1) {
    lstm_gates_backward(r1 - r0, H, row_at(c_prev, r0, H), row_at(gates, r0, H4), row_at(c, r0, H), row_at(dh, r0, H),
                        row_at(dc, r0, H), row_at(dz, r0, H4), row_at(dc_prev, r0, H));
  });
  // Forward was z = x W_in + b + h_prev W_rec: dx = dz W_in^T, dh_prev += dz W_rec^T.
  if (dx) linear_backward_input(B, dz, H4, in, dx, lddx, accumulate_dx);
  if (dh_prev) linear_backward_input(B, dz, H4, rec, dh_prev, H, true);
}

// Forward was z = x W_in + b + h_prev W_rec: dW_in += x^T dz, db += sum_rows dz,
// dW_rec += h_prev^T dz. A missing x is an input of zeros (only db learns), a
// missing h_prev the zero state of t = 1.
void lstm_weight_gradients(const LinearParams& in, const LinearParams& rec, const LinearParams& grad_in,
                           const LinearParams& grad_rec, int B, int H, const real* x, int ldx, const real* h_prev,
                           const real* dz) {
  const int H4 = 4 * H;
  if (x) {
    linear_backward(B, x, ldx, dz, H4, in, grad_in, nullptr, 0, false);
  } else {
    for (int r = 0; r < B; ++r)
      for (int j = 0; j < H4; ++j) grad_in.b[j] += dz[static_cast<std::size_t>(r) * H4 + j];
  }
  if (h_prev) linear_backward(B, h_prev, H, dz, H4, rec, grad_rec, nullptr, 0, false);
}

void lstm_backward(const LinearParams& in, const LinearParams& rec, const LinearParams& grad_in,
                   const LinearParams& grad_rec, int B, int H, const real* x, int ldx, const real* h_prev,
                   const real* c_prev, const real* gates, const real* c, const real* dh, real* dc, real* dz,
                   real* dx, int lddx, bool accumulate_dx, real* dh_prev, real* dc_prev) {
  lstm_backward_data(in, rec, B, H, c_prev, gates, c, dh, dc, dz, dx, lddx, accumulate_dx, h_prev ? dh_prev : nullptr,
                     dc_prev);
  lstm_weight_gradients(in, rec, grad_in, grad_rec, B, H, x, ldx, h_prev, dz);
}
