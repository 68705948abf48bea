// baseline.cpp: the learned baseline b_t of the REINFORCE estimator (RAM
// section 3.2: "we use a baseline ... that depends on the state", the
// variance-reduction term of Williams 1992).
//
//   b_t = h_{t-1} w_b + c,   trained to minimise (R_t - b_t)^2
//
// b_t is read from the state the location l_t was drawn from. It enters the
// REINFORCE term only as a constant (R_t - b_t), and its own loss trains w_b
// and c alone: h_{t-1} is treated as a constant here, so the baseline never
// shapes the core (the choice of the PyTorch RAM code; the Torch code learns a
// single constant instead, which is this with w_b = 0).
#include "model/baseline.h"
#include "model/linear.h"

void baseline_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now) {
  if (prev.h) {
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
  // Forward was b = h_prev w_b + c; no gradient into h_prev.
  if (prev.h) {
    linear_backward(B, prev.h, config.hidden, d.db, 1, p.baseline, grad.baseline, nullptr, 0, false);
  } else {
    for (int r = 0; r < B; ++r) grad.baseline.b[0] += d.db[r];
  }
  return loss;
}
