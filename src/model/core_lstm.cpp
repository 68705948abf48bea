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

#include "model/lstm.h"

// The core is one LSTM step with the core's weights, input g_t.
void core_lstm_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now) {
  lstm_forward(p.core_in, p.core_rec, now.B, config.hidden, now.g, p.core_in.in, prev.h, prev.c, now.gates, now.c,
               now.h);
}

// dg_t = dz_t W_in^T and the weights' share are left to core.cpp
// (core_input_gradients, core_weight_gradients), which read the dz_t kept
// here for all T steps at once.
void core_lstm_backward(const ModelConfig& config, const RamParams& p, const RamParams&, const Step& prev,
                        const Step& now, const StepGrads& d) {
  lstm_backward_data(p.core_in, p.core_rec, now.B, config.hidden, prev.c, now.gates, now.c, d.dh, d.dc, d.dz,
                     nullptr, 0, false, d.dh_prev, d.dc_prev);
}
