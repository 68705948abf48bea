// lstm.h: one LSTM step, shared by the LSTM core and the LSTM locator (seed section 2.3).
#pragma once

#include "model/parameters.h"

// One LSTM step (lstm.cpp), shared by the LSTM core and the LSTM locator.
//   z = x W_in + b + h_{t-1} W_rec;  i, f, o = sigmoid, u = tanh of its blocks
//   c_t = f c_{t-1} + i u,  h_t = o tanh(c_t)
// x == nullptr stands for an input of zeros; h_prev, c_prev == nullptr for
// the zero state of t = 1.

void lstm_forward(const LinearParams& in, const LinearParams& rec, int B, int H, const real* x, int ldx,
                  const real* h_prev, const real* c_prev, real* gates, real* c, real* h);
// dh: dL/dh_t; dc: dL/dc_t from later steps, overwritten with the full
// dL/dc_t. Writes dx (adding if accumulate_dx) and dc_prev, adds into dh_prev
// (each skipped when nullptr). dz [B, 4H] receives dL/dz_t. lstm_backward is
// lstm_backward_data (the gate gradients and the inputs' share) then
// lstm_weight_gradients (the weights' share).
void lstm_backward_data(const LinearParams& in, const LinearParams& rec, int B, int H, const real* c_prev,
                        const real* gates, const real* c, const real* dh, real* dc, real* dz, real* dx, int lddx,
                        bool accumulate_dx, real* dh_prev, real* dc_prev);
void lstm_weight_gradients(const LinearParams& in, const LinearParams& rec, const LinearParams& grad_in,
                           const LinearParams& grad_rec, int B, int H, const real* x, int ldx, const real* h_prev,
                           const real* dz);
void lstm_backward(const LinearParams& in, const LinearParams& rec, const LinearParams& grad_in,
                   const LinearParams& grad_rec, int B, int H, const real* x, int ldx, const real* h_prev,
                   const real* c_prev, const real* gates, const real* c, const real* dh, real* dc, real* dz,
                   real* dx, int lddx, bool accumulate_dx, real* dh_prev, real* dc_prev);
