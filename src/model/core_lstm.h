// core_lstm.h: the core network f_h as an LSTM (seed section 2.3).
#pragma once

#include "model/parameters.h"

// Core network f_h as an LSTM (core_lstm.cpp; seed section 2.3).
//   z = g_t W_in + b + h_{t-1} W_rec;  i, f, o = sigmoid, u = tanh of its blocks
//   c_t = f c_{t-1} + i u,  h_t = o tanh(c_t),  h_0 = c_0 = 0

// gates [B, 4H] holds i, f, o, u after their nonlinearities.
void core_lstm_forward(const RamParams& p, int B, int H, const real* g, const real* h_prev,
                       const real* c_prev, real* gates, real* c, real* h);
// dh: dL/dh_t; dc: dL/dc_t from later steps, overwritten with the full
// dL/dc_t. Writes dg and dc_prev, adds into dh_prev (both skipped when
// nullptr, at t = 1). dz [B, 4H] scratch.
void core_lstm_backward(const RamParams& p, const RamParams& grad, int B, int H, const real* g,
                        const real* h_prev, const real* c_prev, const real* gates, const real* c,
                        const real* dh, real* dc, real* dz, real* dg, real* dh_prev, real* dc_prev);
// The same split in two, as the episode runs it: per step the data part
// (dz [B, 4H] of the step kept), then once the weights' share summed over
// all T steps: g [T, cap, 256], h [T, cap, H], dz [T, cap, 4H].
void core_lstm_backward_data(const RamParams& p, int B, int H, const real* c_prev, const real* gates, const real* c,
                             const real* dh, real* dc, real* dz, real* dg, real* dh_prev, real* dc_prev);
void core_lstm_weight_gradients(const RamParams& p, const RamParams& grad, int T, int B, int cap, int H,
                                const real* g, const real* h, const real* dz);
