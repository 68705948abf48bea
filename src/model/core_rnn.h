// core_rnn.h: the core network f_h as a plain RNN (RAM section 3.1).
#pragma once

#include "model/parameters.h"

// Core network f_h, a plain RNN (core_rnn.cpp; RAM section 3.1; Torch nn.Recurrent).
//   h_t = relu(g_t W_in + b + h_{t-1} W_rec),  h_0 = 0

void core_rnn_forward(const RamParams& p, int B, int H, const real* g, const real* h_prev,
                      real* h);
// dh [B, H] is overwritten (gradient at the pre-activation). Writes dg;
// adds into dh_prev unless it is nullptr (t = 1, where h_0 is a constant).
void core_rnn_backward(const RamParams& p, const RamParams& grad, int B, int H,
                       const real* g, const real* h_prev, const real* h, real* dh,
                       real* dg, real* dh_prev);
