// core_rnn.h: the core network f_h as a plain RNN (RAM section 3.1).
#pragma once

#include "model/parameters.h"
#include "model/step.h"

// Core network f_h, a plain RNN (core_rnn.cpp; RAM section 3.1; Torch nn.Recurrent).
//   h_t = relu(g_t W_in + b + h_{t-1} W_rec),  h_0 = 0

// Reads now.g and prev.h (nullptr at t = 1), writes now.h.
void core_rnn_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now);
// d.dh [B, H] holds dL/dh_t and is overwritten (it becomes the gradient at
// the pre-activation). Writes d.dg; adds into d.dh_prev unless it is nullptr
// (t = 1, where h_0 is a constant). Adds its weights' share at every step.
void core_rnn_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& prev,
                       const Step& now, const StepGrads& d);
