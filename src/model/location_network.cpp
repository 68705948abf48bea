// location_network.cpp: the location network f_l and its Gaussian policy
// (RAM section 3.1; the REINFORCE rule of RAM section 3.2 and seed equation 1).
//
//   mu_t  = hardtanh(h_{t-1} W_loc + b)          the mean, kept in [-1, 1]
//   l_raw ~ N(mu_t, sigma^2 I)                   the sampled action
//   l_t   = clamp(l_raw, -1, 1)                  where the sensor looks
//
// sigma is fixed (Torch: 0.22). The policy is the Gaussian over l_raw; the
// clamp belongs to the environment, so the score function below uses l_raw,
// as the Torch code's ReinforceNormal does.
//
// At t = 1 there is no state yet: h_0 = 0 and mu_1 = hardtanh(b), the Torch
// code's choice (it feeds zeros to the locator), so the first location is
// learned too.
#include <cmath>

#include "model/linear.h"
#include "model/location_network.h"
#include "model/lstm.h"

namespace {
real clamp_unit(real v) { return v < -1 ? real(-1) : (v > 1 ? real(1) : v); }
}  // namespace

// The policy on top of either locator: mu = hardtanh(mu_pre), and with noise
// l_raw = mu + sigma * noise, l = clamp(l_raw).
void location_policy(const ModelConfig& config, int B, const real* mu_pre, const real* noise, real* mu,
                     real* l_raw, real* l) {
  const real sigma = static_cast<real>(config.sigma);
  for (int i = 0; i < 2 * B; ++i) {
    mu[i] = clamp_unit(mu_pre[i]);
    l_raw[i] = noise ? mu[i] + sigma * noise[i] : mu[i];
    l[i] = clamp_unit(l_raw[i]);
  }
}

// The REINFORCE term's gradient at mu_pre, for either locator:
//   Loss = -sum_b w_b log pi(l_raw_b | mu_b). The score function of the
//   Gaussian is d log pi / d mu = (l_raw - mu) / sigma^2, so
//   dLoss/dmu = -w_b (l_raw - mu) / sigma^2,
// then through the hardtanh: zero where mu_pre is outside (-1, 1).
void location_policy_backward(const ModelConfig& config, int B, const real* mu_pre, const real* mu,
                              const real* l_raw, const real* weight, real* dmu_pre) {
  const double inv_var = 1.0 / (config.sigma * config.sigma);
  for (int r = 0; r < B; ++r) {
    for (int d = 0; d < 2; ++d) {
      const int i = 2 * r + d;
      const bool inside = mu_pre[i] > -1 && mu_pre[i] < 1;
      dmu_pre[i] = inside ? static_cast<real>(-weight[r] * (l_raw[i] - mu[i]) * inv_var) : real(0);
    }
  }
}

void location_network_forward(const ModelConfig& config, const RamParams& p, int B, int H,
                              const real* h_prev, const real* noise, real* mu_pre, real* mu,
                              real* l_raw, real* l) {
  // mu_pre = h_prev W_loc + b; with h_0 = 0 that is b alone.
  if (h_prev) {
    linear_forward(B, h_prev, H, p.locator, mu_pre, 2);
  } else {
    for (int r = 0; r < B; ++r) {
      mu_pre[2 * r] = p.locator.b[0];
      mu_pre[2 * r + 1] = p.locator.b[1];
    }
  }
  location_policy(config, B, mu_pre, noise, mu, l_raw, l);
}

// log N(l_raw; mu, sigma^2 I) in two dimensions:
//   -|l_raw - mu|^2 / (2 sigma^2) - log(2 pi sigma^2)
double gaussian_log_prob(const real* l_raw, const real* mu, double sigma) {
  const double dx = l_raw[0] - mu[0], dy = l_raw[1] - mu[1];
  return -(dx * dx + dy * dy) / (2 * sigma * sigma) - std::log(2 * M_PI * sigma * sigma);
}

void location_network_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad,
                               int B, int H, const real* h_prev, const real* mu_pre,
                               const real* mu, const real* l_raw, const real* weight,
                               real* dmu, real* dh_prev) {
  location_policy_backward(config, B, mu_pre, mu, l_raw, weight, dmu);
  // Forward was mu_pre = h_prev W_loc + b.
  if (h_prev) {
    linear_backward(B, h_prev, H, dmu, 2, p.locator, grad.locator, dh_prev, H, true);
  } else {
    for (int r = 0; r < B; ++r) {
      grad.locator.b[0] += dmu[2 * r];
      grad.locator.b[1] += dmu[2 * r + 1];
    }
  }
}

// The seed paper's locator (section 2.3): the Linear(256 -> 2) becomes an
// LSTM(256 -> 2), whose two-unit output is the mean before the hardtanh:
//   mu_pre_t = LSTM(h_{t-1}; state of step t - 1),  state_0 = 0
// Its output o * tanh(c) already lies in (-1, 1), so the hardtanh passes it
// unchanged; it is kept so both locators share location_policy.
void location_lstm_forward(const ModelConfig& config, const RamParams& p, int B, int H,
                           const real* h_prev, const real* loc_h_prev, const real* loc_c_prev,
                           const real* noise, real* loc_gates, real* loc_c, real* mu_pre, real* mu,
                           real* l_raw, real* l) {
  lstm_forward(p.locator, p.locator_rec, B, 2, h_prev, H, loc_h_prev, loc_c_prev, loc_gates, loc_c, mu_pre);
  location_policy(config, B, mu_pre, noise, mu, l_raw, l);
}

void location_lstm_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, int B,
                            int H, const real* h_prev, const real* loc_h_prev, const real* loc_c_prev,
                            const real* loc_gates, const real* loc_c, const real* mu_pre, const real* mu,
                            const real* l_raw, const real* weight, real* dloc_h, real* dloc_c,
                            real* dloc_z, real* dmu, real* dh_prev, real* dloc_h_prev,
                            real* dloc_c_prev) {
  // dL/dmu_pre_t from this step's REINFORCE term, added to what the locator's
  // own later steps sent back through its recurrence.
  location_policy_backward(config, B, mu_pre, mu, l_raw, weight, dmu);
  for (int i = 0; i < 2 * B; ++i) dloc_h[i] += dmu[i];
  lstm_backward(p.locator, p.locator_rec, grad.locator, grad.locator_rec, B, 2, h_prev, H, loc_h_prev,
                loc_c_prev, loc_gates, loc_c, dloc_h, dloc_c, dloc_z, dh_prev, H, true, dloc_h_prev,
                dloc_c_prev);
}
