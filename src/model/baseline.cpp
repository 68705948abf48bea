// baseline.cpp: the learned baseline b_t of the REINFORCE estimator (RAM
// section 3.2: "we use a baseline ... that depends on the state", the
// variance-reduction term of Williams 1992), in the two forms of the two
// reference codes (--baseline).
//
// state (ours, the PyTorch RAM code):
//   b_t = h_{t-1} w_b + c,   trained to minimise (R_t - b_t)^2 at every t
// b_t is read from the state the location l_t was drawn from. Its loss
// trains w_b and c alone: h_{t-1} is treated as a constant here, so the
// baseline never shapes the core.
//
// constant (the Torch code, recurrent-visual-attention.lua, master and every
// branch of the seed's code: `seq:add(nn.Constant(1,1)); seq:add(nn.Add(1))`):
//   b_t = 1 + c for every t,  trained to minimise (R_1 - b)^2 once per episode
// nn.Constant(1) outputs 1 per image and nn.Add(1) adds the learned scalar c,
// which the Torch code initialises uniformly like every parameter, so b starts
// near 1. The baseline does not see the state. VRClassReward regresses it
// with an MSECriterion on the episode's reward, once per episode (its
// gradient 2 (b - R) / M is ours with the batch mean), and uses R - b for
// every step's REINFORCE term; here R_1, the episode's return.
//
// Either way b_t enters the REINFORCE term only as a constant (R_t - b_t).
#include "model/baseline.h"
#include "model/linear.h"

namespace {
constexpr real kConstantOffset = 1;  // the Torch code's nn.Constant(1) before its nn.Add(1)
}  // namespace

void baseline_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now) {
  if (config.baseline == BaselineKind::constant) {
    for (int r = 0; r < now.B; ++r) now.b[r] = kConstantOffset + p.baseline.b[0];  // b = 1 + c
  } else if (prev.h) {
    linear_forward(now.B, prev.h, config.hidden, p.baseline, now.b, 1);
  } else {
    for (int r = 0; r < now.B; ++r) now.b[r] = p.baseline.b[0];  // h_0 = 0
  }
}

double baseline_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& prev,
                         const Step& now, double weight, const StepGrads& d) {
  const int B = now.B;
  // Loss = weight * sum_r (b_r - R_r)^2, so dLoss/db_r = 2 weight (b_r - R_r).
  double loss = 0;
  for (int r = 0; r < B; ++r) {
    const double diff = static_cast<double>(now.b[r]) - now.R[r];
    loss += weight * diff * diff;
    d.db[r] = static_cast<real>(2 * weight * diff);
  }
  // Forward was b = h_prev w_b + c (no gradient into h_prev), or b = 1 + c.
  if (config.baseline == BaselineKind::state && prev.h) {
    linear_backward(B, prev.h, config.hidden, d.db, 1, p.baseline, grad.baseline, nullptr, 0, false);
  } else {
    for (int r = 0; r < B; ++r) grad.baseline.b[0] += d.db[r];
  }
  return loss;
}

bool baseline_regressed_at(const ModelConfig& config, int s) {
  return config.baseline == BaselineKind::state || s == 0;
}
