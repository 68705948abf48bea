// baseline.h: the baseline b_t (RAM section 3.2).
#pragma once

#include "model/parameters.h"
#include "model/step.h"

// Baseline b_t (baseline.cpp; RAM section 3.2, variance reduction).
//   b_t = h_{t-1} w_b + c, trained by (R_t - b_t)^2, with h_{t-1} a constant.

// now.b [B] from prev.h (nullptr at t = 1, where h_0 = 0).
void baseline_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now);
// Loss = weight * sum_b (b_b - R_b)^2 with now.R held constant; adds its
// gradient into the baseline's parameters only. Returns the loss. d.db [B]
// scratch.
double baseline_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& prev,
                         const Step& now, double weight, const StepGrads& d);
