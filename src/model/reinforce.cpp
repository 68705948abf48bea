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
// with all three weights 1 by default (LossWeights in ram.h; the Torch code
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
//
// The score function of the Gaussian policy, d log pi / d mu = (l - mu)/sigma^2,
// lives with the policy in location_network.cpp.
#include "model/ram.h"

void reinforce_advantage(int B, int T, const real* R, const real* b, real* A) {
  for (int i = 0; i < T * B; ++i) A[i] = R[i] - b[i];
}

void reinforce_step_weights(int B, const real* A_t, double weight, real* w) {
  for (int r = 0; r < B; ++r) w[r] = static_cast<real>(weight * A_t[r]);
}
