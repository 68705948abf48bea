// baseline.h: the baseline b_t (RAM section 3.2).
#pragma once

#include "model/parameters.h"
#include "model/step.h"

// Baseline b_t (baseline.cpp; RAM section 3.2, variance reduction), as
// ModelConfig::baseline says:
//   state:     b_t = h_{t-1} w_b + c, trained by (R_t - b_t)^2 at every t,
//              with h_{t-1} a constant (the PyTorch code; ours)
//   constant:  b_t = 1 + c for every t, trained by (R_1 - b)^2 once per
//              episode (the Torch code's nn.Constant(1) + nn.Add(1))

// now.b [B] from prev.h (nullptr at t = 1, where h_0 = 0); the constant
// baseline reads nothing.
void baseline_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now);
// Loss = weight * sum_b (b_b - R_b)^2 with now.R held constant; adds its
// gradient into the baseline's parameters only. Returns the loss. d.db [B]
// scratch. episode_backward calls it at every step for the state baseline,
// at t = 1 alone (where R_1 is the episode's return) for the constant one.
double baseline_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& prev,
                         const Step& now, double weight, const StepGrads& d);
// Whether step s (t = s + 1) regresses the baseline: every step for the
// state baseline, the first alone for the constant one.
bool baseline_regressed_at(const ModelConfig& config, int s);
