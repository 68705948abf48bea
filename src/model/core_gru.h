// core_gru.h: the core network f_h as a GRU (Cho et al. 2014; not in either paper).
#pragma once

#include "model/parameters.h"
#include "model/step.h"

// Core network f_h as a gated recurrent unit (core_gru.cpp), the variant of
// cuDNN and PyTorch, with the reset gate applied after the recurrent product:
//   z = sigmoid(g_t W_z + h_{t-1} U_z + b_z),  r = sigmoid(g_t W_r + h_{t-1} U_r + b_r)
//   n = tanh(g_t W_n + b_n + r * (h_{t-1} U_n)),  h_t = (1 - z) * n + z * h_{t-1},  h_0 = 0

// Reads now.g and prev.h (nullptr at t = 1); writes now.gates [B, 4H]
// (n, z, r after their nonlinearities, and h_{t-1} U_n) and now.h.
void core_gru_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now);
// The step's data part: d.dh holds dL/dh_t. Writes d.dz [B, 4H], kept for
// dL/dg_t and the weights' share (core_input_gradients and
// core_weight_gradients, over all T steps at once); adds into d.dh_prev
// (skipped when nullptr, at t = 1).
void core_gru_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& prev,
                       const Step& now, const StepGrads& d);
