// core_rnn.cpp: the core network f_h as a plain recurrent layer (RAM section
// 3.1; the Torch code's nn.Recurrent with a ReLU transfer).
//
//   h_t = relu(g_t W_in + b + h_{t-1} W_rec),   h_0 = 0
//
// The core sums the history of glimpses into the state h_t that the location,
// action and baseline networks read. Backpropagation through time is the
// caller's loop over t = T..1 (ram.cpp); this file is one step of it.
// W_rec has no bias of its own: b already shifts the sum.
#include "model/core_rnn.h"
#include "model/linear.h"

void core_rnn_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now) {
  const int B = now.B, H = config.hidden;
  // h = g W_in + b, then h = relu(h + h_prev W_rec); h_0 = 0 adds nothing,
  // so at t = 1 the rectifier comes with the first product.
  linear_forward(B, now.g, p.core_in.in, p.core_in, now.h, H, prev.h ? Activation::none : Activation::relu);
  if (prev.h) linear_multiply(B, prev.h, H, p.core_rec, now.h, H, /*accumulate=*/true, Activation::relu);
}

void core_rnn_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& prev,
                       const Step& now, const StepGrads& d) {
  const int B = now.B, H = config.hidden;
  // Forward was h = relu(a) with a = g W_in + b + h_prev W_rec, so
  //   da      = dh * [h > 0]
  //   dW_in  += g^T da,   db += sum_rows da,   dg  = da W_in^T
  //   dW_rec += h_prev^T da,                   dh_prev += da W_rec^T
  relu_backward(B, H, now.h, H, d.dh, H);
  const real* da = d.dh;
  linear_backward(B, now.g, p.core_in.in, da, H, p.core_in, grad.core_in, d.dg, p.core_in.in, false);
  if (prev.h) linear_backward(B, prev.h, H, da, H, p.core_rec, grad.core_rec, d.dh_prev, H, true);
}
