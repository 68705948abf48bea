// reinforce.cpp: the hybrid loss, and where each of its gradients goes
// (RAM section 3.2; seed equation 1; Williams 1992).
//
// The policy gradient (seed equation 1, with RAM's baseline):
//   grad J = (1/M) sum_i sum_t grad log pi(l_t^i | s_{1:t}^i) (R_t^i - b_t^i)
// is the gradient of the surrogate loss
//   L_reinforce = -(1/M) sum_i sum_t (R_t^i - b_t^i) log pi(l_t^i | mu_t^i),
// where (R_t - b_t) is held constant. One training step minimises
//
//   L = w_nll L_nll + w_reinforce L_reinforce + w_baseline L_baseline
//
//   L_nll        = (1/M) sum_i -log p(y^i | h_T^i)
//   L_baseline   = (1/M) sum_i sum_t (R_t^i - b_t^i)^2
//
// with all three weights 1 by default (LossWeights in reinforce.h; the Torch code
// adds its three criteria unweighted). Gradient routing, written down once:
//
//   L_nll        -> action network, core (through time), glimpse network.
//                   It stops at the sampled locations l_t: they enter the
//                   glimpse network as inputs and the sensor is not
//                   differentiated (glimpse_network.cpp, glimpse_sensor.cpp).
//   L_reinforce  -> location network only, by default: the gradient stops at
//                   h_{t-1}, as in the PyTorch RAM code. The exact policy
//                   gradient would also flow through mu_t = f_l(h_{t-1}) into
//                   the core and glimpse network of earlier steps, as the Torch
//                   code lets it (LossWeights::reinforce_into_core, flag
//                   --reinforce-into-core). Measured (docs/results/
//                   reinforce-routing.md): with it, the location means of
//                   glimpses 2..T ran into the corner (-1, -1) within the
//                   first 2,000 steps, where the hardtanh freezes them;
//                   without it they stayed near the centre, on the digit.
//                   (R_t - b_t) is a constant here: no gradient reaches the
//                   baseline or the action network through the reward.
//   L_baseline   -> baseline parameters only; h_{t-1} is a constant there.
//                   (--baseline constant: one scalar, regressed at t = 1 on
//                   R_1 alone; baseline.cpp.)
//
// With --reward change-code a fourth term, the change reward as the seed's
// code ran it (rewards.cpp), with its immediate rewards c_t^i:
//
//   L_change     = -sum_i sum_t c_t^i log pi(l_t^i | mu_t^i)
//
// no baseline, no return, and no 1/M (ChangeReward.lua broadcasts the raw
// norms; VRClassReward divides by the batch, it does not). Its routing is
// the seed's RecurrentAttention.lua (norm-lstm), which calls the locator's
// step module backward in the forward loop,
// `currentModule:backward(self.output[step-1], ...)`, and drops what it
// returns:
//   L_change     -> location network only, through step t alone: nothing
//                   into h_{t-1} (the dropped gradInput), and for the LSTM
//                   locator nothing into its own earlier steps (one step of
//                   its online backward, with the gradient from later steps
//                   zero). Whatever --reinforce-into-core says.
//
// Seed equation 1 is reinforce_backward below, whole: the weights w, the
// log-density, its score function and the stop-gradient at h_{t-1};
// immediate_reinforce_backward is the same surrogate for L_change.
#include <algorithm>
#include <cmath>

#include "model/location_network.h"
#include "model/reinforce.h"

void reinforce_advantage(int B, int T, const real* R, const real* b, real* A) {
  for (int i = 0; i < T * B; ++i) A[i] = R[i] - b[i];
}

// log N(l_raw; mu, sigma^2 I) in two dimensions:
//   -|l_raw - mu|^2 / (2 sigma^2) - log(2 pi sigma^2)
double gaussian_log_prob(const real* l_raw, const real* mu, double sigma) {
  const double dx = l_raw[0] - mu[0], dy = l_raw[1] - mu[1];
  return -(dx * dx + dy * dy) / (2 * sigma * sigma) - std::log(2 * M_PI * sigma * sigma);
}

namespace {

// Loss = -sum_b w_b log pi(l_raw_b | mu_b) with d.w [B] holding w; writes
// d.dmu = dLoss/dmu. The score function of the Gaussian is
// d log pi / d mu = (l_raw - mu) / sigma^2, so
//   dLoss/dmu = -w_b (l_raw - mu) / sigma^2.
// The action l_raw is held: no gradient through the sample.
double policy_surrogate(const ModelConfig& config, const Step& now, const StepGrads& d) {
  const double inv_var = 1.0 / (config.sigma * config.sigma);
  double loss = 0;
  for (int r = 0; r < now.B; ++r) {
    loss -= d.w[r] * gaussian_log_prob(now.l_raw + 2 * r, now.mu + 2 * r, config.sigma);
    for (int i = 2 * r; i < 2 * r + 2; ++i)
      d.dmu[i] = static_cast<real>(-d.w[r] * (now.l_raw[i] - now.mu[i]) * inv_var);
  }
  return loss;
}

}  // namespace

double reinforce_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& prev,
                          const Step& now, const LossWeights& weights, int batch_total, const StepGrads& d) {
  const double per_image = 1.0 / batch_total;  // 1/M: the batch's mean
  // w_b = (w_reinforce / M) (R_t - b_t): a number, no gradient through it.
  for (int r = 0; r < now.B; ++r) d.w[r] = static_cast<real>(weights.reinforce * per_image * now.A[r]);
  const double loss = policy_surrogate(config, now, d);
  // The stop-gradient of the default routing: mu_t = f_l(h_{t-1}) passes
  // nothing on into h_{t-1} (and so into the core and glimpse network of
  // earlier steps) unless reinforce_into_core says so.
  real* dh_prev = weights.reinforce_into_core ? d.dh_prev : nullptr;
  location_network_backward(config, p, grad, prev, now, d, dh_prev);
  return loss;
}

double immediate_reinforce_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad,
                                    const Step& prev, const Step& now, const StepGrads& d) {
  // w_b = c_t,b: the immediate reward itself, no baseline, no 1/M.
  for (int r = 0; r < now.B; ++r) d.w[r] = now.immediate[r];
  const double loss = policy_surrogate(config, now, d);
  // The LSTM locator's gradient from its later steps is zero for this term
  // (the online backward of one step starts from a zero cell gradient), and
  // it sends nothing back to step t - 1: d's views into step t - 1 are nullptr.
  if (d.dloc_h) {
    std::fill(d.dloc_h, d.dloc_h + 2 * now.B, real(0));
    std::fill(d.dloc_c, d.dloc_c + 2 * now.B, real(0));
  }
  location_network_backward(config, p, grad, prev, now, d, /*dh_prev=*/nullptr);
  return loss;
}
