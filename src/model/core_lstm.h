// core_lstm.h: the core network f_h as an LSTM (seed section 2.3).
#pragma once

#include "model/parameters.h"
#include "model/step.h"

// Core network f_h as an LSTM (core_lstm.cpp; seed section 2.3).
//   z = g_t W_in + b + h_{t-1} W_rec;  i, f, o = sigmoid, u = tanh of its blocks
//   c_t = f c_{t-1} + i u,  h_t = o tanh(c_t),  h_0 = c_0 = 0

// Reads now.g, prev.h and prev.c (nullptr at t = 1); writes now.gates [B, 4H]
// (i, f, o, u after their nonlinearities), now.c and now.h.
void core_lstm_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now);
// The step's data part: d.dh holds dL/dh_t, d.dc dL/dc_t from later steps
// (overwritten with the full dL/dc_t). Writes d.dz [B, 4H], kept for dL/dg_t
// and the weights' share (core_input_gradients and core_weight_gradients, over
// all T steps at once), and d.dc_prev; adds into d.dh_prev (both skipped when
// nullptr, at t = 1).
void core_lstm_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& prev,
                        const Step& now, const StepGrads& d);
