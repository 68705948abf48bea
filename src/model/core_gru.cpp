// core_gru.cpp: the core network f_h as a gated recurrent unit (K. Cho et
// al. 2014, "Learning Phrase Representations using RNN Encoder-Decoder for
// Statistical Machine Translation"). Neither paper uses it: it is `--core
// gru`, the worked example of docs/extending.md. The variant is cuDNN's and
// PyTorch's, with the reset gate applied after the recurrent product (Cho
// et al. apply it before: (r * h_{t-1}) U_n), and without PyTorch's second
// bias inside it (W_rec has no bias, as in the other cores):
//
//   z_t = sigmoid(g_t W_z + h_{t-1} U_z + b_z)            update gate
//   r_t = sigmoid(g_t W_r + h_{t-1} U_r + b_r)            reset gate
//   n_t = tanh(g_t W_n + b_n + r_t * (h_{t-1} U_n))       candidate
//   h_t = (1 - z_t) * n_t + z_t * h_{t-1},   h_0 = 0
//
// Layout. W_in = [W_n W_z W_r] ([256, 3H], blocks in that order) and W_rec =
// [U_z U_r U_n] ([H, 3H]), so that in one [B, 4H] row per image
//   columns   0..H     H..2H     2H..3H    3H..4H
//   g W_in  + b:  n   |    z    |    r    |
//   h W_rec:          |    z    |    r    |    n
// the input product fills columns 0..3H and the recurrent one, accumulated,
// columns H..4H: their z and r terms sum where the gates need the sum, and
// the two n terms stay apart, as the reset gate needs. The row then keeps
// n, z, r and h_{t-1} U_n for the backward pass. In the same way the
// gradient row dz = [dn_pre, dz_pre, dr_pre, d(h U_n)] serves both weight
// gradients whole: W_in's from columns 0..3H, W_rec's from H..4H.
#include "model/core_gru.h"

#include <algorithm>

#include "kernels/fast_exp.h"
#include "kernels/thread_pool.h"
#include "kernels/vectorize.h"
#include "model/linear.h"

namespace {

// The elementwise half of a step, in place on the row [a_n | a_z + u_z |
// a_r + u_r | u_n] of each image (a = g W_in + b, u = h_{t-1} W_rec).
RAM_VECTORIZE void gru_gates_forward(int B, int H, real* gates, const real* h_prev, real* h) {
  const int H4 = 4 * H;
  for (int row = 0; row < B; ++row) {
    real* a = gates + static_cast<std::size_t>(row) * H4;
    real *n = a, *z = a + H, *r = a + 2 * H;
    const real* hn = a + 3 * H;  // h_{t-1} U_n
    real* h_r = h + static_cast<std::size_t>(row) * H;
    // z = sigmoid(.), r = sigmoid(.)
    for (int j = 0; j < 2 * H; ++j) z[j] = sigmoid(z[j]);
    // n = tanh(g W_n + b_n + r * (h_{t-1} U_n))
    for (int j = 0; j < H; ++j) n[j] = tanh_real(n[j] + r[j] * hn[j]);
    // h_t = (1 - z) n + z h_{t-1}
    if (h_prev) {
      const real* h_prev_r = h_prev + static_cast<std::size_t>(row) * H;
      for (int j = 0; j < H; ++j) h_r[j] = (1 - z[j]) * n[j] + z[j] * h_prev_r[j];
    } else {
      for (int j = 0; j < H; ++j) h_r[j] = (1 - z[j]) * n[j];
    }
  }
}

// The elementwise half of the backward step: dz [B, 4H] from dh, and the
// direct share of dh_prev.
RAM_VECTORIZE void gru_gates_backward(int B, int H, const real* gates, const real* h_prev, const real* dh, real* dz,
                                      real* dh_prev) {
  const int H4 = 4 * H;
  for (int row = 0; row < B; ++row) {
    const real* a = gates + static_cast<std::size_t>(row) * H4;
    const real *n = a, *z = a + H, *r = a + 2 * H, *hn = a + 3 * H;
    const real* dh_r = dh + static_cast<std::size_t>(row) * H;
    real* d = dz + static_cast<std::size_t>(row) * H4;
    real *dn_pre = d, *dz_pre = d + H, *dr_pre = d + 2 * H, *dhn = d + 3 * H;
    // Forward was h = (1 - z) n + z h_prev: dn = dh (1 - z); through the
    // tanh, dn_pre = dn (1 - n^2).
    for (int j = 0; j < H; ++j) dn_pre[j] = dh_r[j] * (1 - z[j]) * (1 - n[j] * n[j]);
    // Forward was n = tanh(a_n + r * hn): dr = dn_pre hn, through the sigmoid
    // dr_pre = dr r (1 - r); d(hn) = dn_pre r.
    for (int j = 0; j < H; ++j) {
      dr_pre[j] = dn_pre[j] * hn[j] * r[j] * (1 - r[j]);
      dhn[j] = dn_pre[j] * r[j];
    }
    // dz = dh (h_prev - n), through the sigmoid dz_pre = dz z (1 - z); and
    // the direct path dh_prev += dh z (h_0 = 0: no h_prev, no dh_prev).
    if (h_prev) {
      const real* h_prev_r = h_prev + static_cast<std::size_t>(row) * H;
      for (int j = 0; j < H; ++j) dz_pre[j] = dh_r[j] * (h_prev_r[j] - n[j]) * z[j] * (1 - z[j]);
    } else {
      for (int j = 0; j < H; ++j) dz_pre[j] = -dh_r[j] * n[j] * z[j] * (1 - z[j]);
    }
    if (dh_prev) {
      real* dh_prev_r = dh_prev + static_cast<std::size_t>(row) * H;
      for (int j = 0; j < H; ++j) dh_prev_r[j] += dh_r[j] * z[j];
    }
  }
}

}  // namespace

void core_gru_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now) {
  const int B = now.B, H = config.hidden, H4 = 4 * H;
  // [a_n | a_z | a_r] = g W_in + b, in columns 0..3H.
  linear_forward(B, now.g, p.core_in.in, p.core_in, now.gates, H4);
  // [u_z | u_r | u_n] = h_prev W_rec added into columns H..4H, of which the
  // last block starts at zero (and stays so at t = 1, where h_0 = 0).
  for (int row = 0; row < B; ++row) {
    real* hn = now.gates + static_cast<std::size_t>(row) * H4 + 3 * H;
    std::fill(hn, hn + H, real(0));
  }
  if (prev.h) linear_multiply(B, prev.h, H, p.core_rec, now.gates + H, H4, /*accumulate=*/true);
  gru_gates_forward(B, H, now.gates, prev.h, now.h);
}

void core_gru_backward(const ModelConfig& config, const RamParams& p, const RamParams&, const Step& prev,
                       const Step& now, const StepGrads& d) {
  const int B = now.B, H = config.hidden, H4 = 4 * H;
  team_rows(B, H4, [&](int r0, int r1) {
    gru_gates_backward(r1 - r0, H, row_at(now.gates, r0, H4), row_at(prev.h, r0, H), row_at(d.dh, r0, H),
                       row_at(d.dz, r0, H4), row_at(d.dh_prev, r0, H));
  });
  // Forward was [a_n | a_z | a_r] = g W_in + b: dg = dz[:, 0..3H] W_in^T,
  // left to core_input_gradients (core.cpp) with the weights' share.
  // Forward was [u_z | u_r | u_n] = h_prev W_rec: dh_prev += dz[:, H..4H] W_rec^T.
  if (d.dh_prev) linear_backward_input(B, d.dz + H, H4, p.core_rec, d.dh_prev, H, true);
}
