// core_lstm.cpp: the core network f_h as an LSTM (seed paper, section 2.3:
// "the DeepMind paper had actually implemented an LSTM in another module",
// that is RAM's core). The step itself, its equations and its backward pass
// are in lstm.cpp; here it runs with the core's weights and input g_t:
//
//   z_t = g_t W_in + b + h_{t-1} W_rec,  c_t = f c_{t-1} + i u,  h_t = o tanh(c_t)
//
// The forget gate's bias starts at +1 (Jozefowicz, Zaremba, Sutskever 2015),
// so that early in training the cell keeps what it holds; parameters.cpp
// sets it.
#include "model/core_lstm.h"

#include <cstddef>

#include "model/linear.h"
#include "model/lstm.h"

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

void core_lstm_backward_data(const RamParams& p, int B, int H, const real* c_prev, const real* gates, const real* c,
                             const real* dh, real* dc, real* dz, real* dg, real* dh_prev, real* dc_prev) {
  lstm_backward_data(p.core_in, p.core_rec, B, H, c_prev, gates, c, dh, dc, dz, dg, p.core_in.in, false, dh_prev,
                     dc_prev);
}

// BPTT sums the weight gradients over the steps. When the batch fills the
// episode's rows (B == cap, as in training), step s's rows start at s * cap
// with no gap, so the sum over steps is one product over T * B rows: a
// product with K = T * B runs faster than T products with K = B. The
// recurrent weights pair h_{t-1} (steps 0..T-2) with dz_t (steps 1..T-1).
void core_lstm_weight_gradients(const RamParams& p, const RamParams& grad, int T, int B, int cap, int H,
                                const real* g, const real* h, const real* dz) {
  const int Ng = p.core_in.in, H4 = 4 * H;
  if (B == cap) {
    linear_backward(T * cap, g, Ng, dz, H4, p.core_in, grad.core_in, nullptr, 0, false);
    if (T > 1)
      linear_backward((T - 1) * cap, h, H, dz + static_cast<std::size_t>(cap) * H4, H4, p.core_rec, grad.core_rec,
                      nullptr, 0, false);
    return;
  }
  for (int s = 0; s < T; ++s)
    lstm_weight_gradients(p.core_in, p.core_rec, grad.core_in, grad.core_rec, B, H,
                          g + static_cast<std::size_t>(s) * cap * Ng, Ng,
                          s == 0 ? nullptr : h + static_cast<std::size_t>(s - 1) * cap * H,
                          dz + static_cast<std::size_t>(s) * cap * H4);
}
