// baseline.h: the baseline b_t (RAM section 3.2).
#pragma once

#include "model/parameters.h"

// Baseline b_t (baseline.cpp; RAM section 3.2, variance reduction).
//   b_t = h_{t-1} w_b + c, trained by (R_t - b_t)^2, with h_{t-1} a constant.

void baseline_forward(const RamParams& p, int B, int H, const real* h_prev, real* b);
// Loss = weight * sum_b (b_b - R_b)^2; adds its gradient into the baseline's
// parameters only. Returns the loss. db [B] scratch.
double baseline_backward(const RamParams& p, const RamParams& grad, int B, int H,
                         const real* h_prev, const real* b, const real* R, double weight,
                         real* db);
