// location_network.cpp: the location network f_l and drawing the location
// from its Gaussian policy (RAM section 3.1; the seed's LSTM locator, seed
// section 2.3).
//
//   mu_t  = hardtanh(h_{t-1} W_loc + b)          the mean, kept in [-1, 1]
//   l_raw ~ N(mu_t, sigma^2 I)                   the sampled action
//   l_t   = clamp(l_raw, -1, 1)                  where the sensor looks (a NaN: 0)
//
// sigma is fixed (Torch: 0.22). The policy is the Gaussian over l_raw; the
// clamp belongs to the environment, so the score function of seed equation 1
// (reinforce.cpp) uses l_raw, as the Torch code's ReinforceNormal does. This
// file's backward is the locator's own layers, from dL/dmu_t on.
//
// At t = 1 there is no state yet: h_0 = 0 and mu_1 = hardtanh(b), the Torch
// code's choice (it feeds zeros to the locator), so the first location is
// learned too.
//
// The seed paper's locator (section 2.3, --locator lstm): the Linear(256 -> 2)
// becomes an LSTM(256 -> 2) (lstm.cpp), whose two-unit output is the mean
// before the hardtanh:
//   mu_pre_t = LSTM(h_{t-1}; state of step t - 1),  state_0 = 0
// Its output o * tanh(c) already lies in (-1, 1), so the hardtanh passes it
// unchanged; it is kept so that both locators share the policy.
#include <algorithm>

#include "kernels/random.h"
#include "model/linear.h"
#include "model/location_network.h"
#include "model/lstm.h"

namespace {
// hardtanh: v cut to [-1, 1]; a NaN stays NaN, so that weights that overflow
// show in the loss.
real clamp_unit(real v) { return v < -1 ? real(-1) : (v > 1 ? real(1) : v); }
// Where the sensor looks: v cut to [-1, 1], and a NaN (the comparisons above
// are all false for it) sent to the centre, 0. The sensor turns l into whole
// pixels, and a NaN must never reach a float-to-int conversion.
real sensor_location(real v) { return v >= -1 && v <= 1 ? v : v < -1 ? real(-1) : v > 1 ? real(1) : real(0); }
}  // namespace

void location_draws(Locations where, uint64_t stream, int T, real* noise, std::size_t stride) {
  if (where == Locations::mean) return;
  Rng rng(stream);
  for (int s = 0; s < T; ++s)
    for (int d = 0; d < 2; ++d)
      noise[s * stride + d] = static_cast<real>(where == Locations::sample ? rng.normal() : rng.uniform(-1.0, 1.0));
}

void location_network_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now,
                              Locations where) {
  const int B = now.B, H = config.hidden;
  if (config.locator == LocatorKind::lstm) {
    // mu_pre = LSTM(h_prev; its state of the step before); h_prev == nullptr
    // is an input of zeros, the state's nullptr views the zero state.
    lstm_forward(p.locator, p.locator_rec, B, 2, prev.h, H, prev.mu_pre, prev.loc_c, now.loc_gates, now.loc_c,
                 now.mu_pre);
  } else if (prev.h) {
    // mu_pre = h_prev W_loc + b
    linear_forward(B, prev.h, H, p.locator, now.mu_pre, 2);
  } else {
    // h_0 = 0: mu_pre = b alone.
    for (int r = 0; r < B; ++r) std::copy(p.locator.b, p.locator.b + 2, now.mu_pre + 2 * r);
  }
  // mu = hardtanh(mu_pre); l_raw = mu + sigma * eps (or mu, or the given
  // location); l = clamp(l_raw).
  const real sigma = static_cast<real>(config.sigma);
  for (int i = 0; i < 2 * B; ++i) {
    now.mu[i] = clamp_unit(now.mu_pre[i]);
    now.l_raw[i] = where == Locations::sample ? now.mu[i] + sigma * now.noise[i]
                   : where == Locations::given ? now.noise[i]
                                               : now.mu[i];
    now.l[i] = sensor_location(now.l_raw[i]);
  }
}

void location_network_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& prev,
                               const Step& now, const StepGrads& d, real* dh_prev) {
  const int B = now.B, H = config.hidden;
  // Forward was mu = hardtanh(mu_pre): dmu_pre = dmu where -1 < mu_pre < 1,
  // zero where it is saturated.
  for (int i = 0; i < 2 * B; ++i) d.dmu[i] = now.mu_pre[i] > -1 && now.mu_pre[i] < 1 ? d.dmu[i] : real(0);
  const real* dmu_pre = d.dmu;
  if (config.locator == LocatorKind::lstm) {
    // dL/dmu_pre_t is this step's share, added to what the locator's own
    // later steps sent back through its recurrence; then one LSTM step back.
    for (int i = 0; i < 2 * B; ++i) d.dloc_h[i] += dmu_pre[i];
    if (d.dloc_h_prev) std::fill(d.dloc_h_prev, d.dloc_h_prev + 2 * B, real(0));
    lstm_backward(p.locator, p.locator_rec, grad.locator, grad.locator_rec, B, 2, prev.h, H, prev.mu_pre,
                  prev.loc_c, now.loc_gates, now.loc_c, d.dloc_h, d.dloc_c, d.dloc_z, dh_prev, H, true,
                  d.dloc_h_prev, d.dloc_c_prev);
  } else if (prev.h) {
    // Forward was mu_pre = h_prev W_loc + b.
    linear_backward(B, prev.h, H, dmu_pre, 2, p.locator, grad.locator, dh_prev, H, true);
  } else {
    for (int r = 0; r < B; ++r) {
      grad.locator.b[0] += dmu_pre[2 * r];
      grad.locator.b[1] += dmu_pre[2 * r + 1];
    }
  }
}
