// ram.cpp: the Recurrent Attention Model unrolled over T glimpses, forward,
// and backward through time (RAM section 3, figure 1).
//
// Forward, for t = 1..T (array step s = t - 1), with h_0 = 0:
//   mu_t, l_t = f_l(h_{t-1})           location network, sample or mean
//   b_t       = baseline(h_{t-1})
//   rho_t     = rho(x, l_t)            glimpse sensor
//   g_t       = f_g(rho_t, l_t)        glimpse network
//   h_t       = f_h(h_{t-1}, g_t)      core
// then logp = f_a(h_T). Backward walks the same steps from T down to 1; the
// gradient reaching h_{t-1} is the sum of what the core and the location
// network of step t send back (reinforce.cpp says which loss goes where).
#include <algorithm>
#include <stdexcept>

#include "model/ram.h"

Episode::Episode(const ModelConfig& c, int cap) : config(c), capacity(cap) {
  c.validate();
  const int T = c.glimpses, G = c.glimpse_features(), H = c.hidden;
  const int Ncat = c.what_hidden + c.where_hidden, Ng = c.glimpse_hidden;
  images.resize(cap);
  labels.resize(cap);
  noise.reshape({T, cap, 2});
  mu_pre.reshape({T, cap, 2});
  mu.reshape({T, cap, 2});
  l_raw.reshape({T, cap, 2});
  l.reshape({T, cap, 2});
  rho.reshape({T, cap, G});
  hcat.reshape({T, cap, Ncat});
  g.reshape({T, cap, Ng});
  h.reshape({T, cap, H});
  if (c.core == CoreKind::lstm) {
    gates.reshape({T, cap, 4 * H});
    cell.reshape({T, cap, H});
    dc.reshape({cap, H});
    dc_prev.reshape({cap, H});
    dz.reshape({T, cap, 4 * H});
  }
  if (c.locator == LocatorKind::lstm) {
    loc_gates.reshape({T, cap, 8});
    loc_cell.reshape({T, cap, 2});
    for (Tensor* t : {&dloc_h, &dloc_h_prev, &dloc_c, &dloc_c_prev}) t->reshape({cap, 2});
    dloc_z.reshape({cap, 8});
  }
  b.reshape({T, cap});
  logp.reshape({cap, c.classes});
  r.reshape({T, cap});
  O.reshape({T + 1, cap, c.classes});
  R.reshape({T, cap});
  A.reshape({T, cap});
  dh.reshape({cap, H});
  dh_prev.reshape({cap, H});
  dg.reshape({cap, Ng});
  dhcat.reshape({cap, Ncat});
  dmu.reshape({cap, 2});
  dlogits.reshape({cap, c.classes});
  db.reshape({cap});
  w.reshape({cap});
}

void Episode::resize(int batch) {
  if (batch < 1 || batch > capacity)
    throw std::invalid_argument("Episode: batch " + std::to_string(batch) + " outside 1.." +
                                std::to_string(capacity));
  B = batch;
}

// Per-step slices. The activation tensors are laid out [T, capacity, ...] and
// only the first B rows of each step are used, so step s starts at row
// s * capacity. The per-step scalars (b, r, R, A) are packed [T, B].
namespace {
real* step(const Tensor& t, int s, int cap, int width) {
  return const_cast<real*>(t.data()) + (static_cast<std::size_t>(s) * cap) * width;
}
}  // namespace

void episode_forward(const Parameters& params, Episode& ep, Locations where) {
  const ModelConfig& c = ep.config;
  const RamParams& p = params.views();
  const int T = c.glimpses, B = ep.B, cap = ep.capacity, H = c.hidden;
  const int G = c.glimpse_features(), Ncat = c.what_hidden + c.where_hidden, Ng = c.glimpse_hidden;
  for (int s = 0; s < T; ++s) {
    const real* h_prev = s == 0 ? nullptr : step(ep.h, s - 1, cap, H);
    real* l_s = step(ep.l, s, cap, 2);
    const real* noise_s = where == Locations::sample ? step(ep.noise, s, cap, 2) : nullptr;
    if (c.locator == LocatorKind::lstm)
      location_lstm_forward(c, p, B, H, h_prev, s == 0 ? nullptr : step(ep.mu_pre, s - 1, cap, 2),
                            s == 0 ? nullptr : step(ep.loc_cell, s - 1, cap, 2), noise_s,
                            step(ep.loc_gates, s, cap, 8), step(ep.loc_cell, s, cap, 2),
                            step(ep.mu_pre, s, cap, 2), step(ep.mu, s, cap, 2), step(ep.l_raw, s, cap, 2), l_s);
    else
      location_network_forward(c, p, B, H, h_prev, noise_s, step(ep.mu_pre, s, cap, 2), step(ep.mu, s, cap, 2),
                               step(ep.l_raw, s, cap, 2), l_s);
    if (where == Locations::given) {
      const real* given = step(ep.noise, s, cap, 2);
      std::copy(given, given + 2 * B, l_s);
      std::copy(given, given + 2 * B, step(ep.l_raw, s, cap, 2));
    }
    baseline_forward(p, B, H, h_prev, ep.b.data() + static_cast<std::size_t>(s) * B);
    real* rho_s = step(ep.rho, s, cap, G);
    glimpse_sensor(c, B, ep.images.data(), l_s, rho_s);
    GlimpseActivations act{step(ep.hcat, s, cap, Ncat), step(ep.g, s, cap, Ng)};
    glimpse_network_forward(c, p, B, rho_s, l_s, act);
    if (c.core == CoreKind::lstm)
      core_lstm_forward(p, B, H, act.g, h_prev, s == 0 ? nullptr : step(ep.cell, s - 1, cap, H),
                        step(ep.gates, s, cap, 4 * H), step(ep.cell, s, cap, H), step(ep.h, s, cap, H));
    else
      core_rnn_forward(p, B, H, act.g, h_prev, step(ep.h, s, cap, H));
  }
  action_network_forward(p, B, H, c.classes, step(ep.h, T - 1, cap, H), ep.logp.data());
  if (ep.reward.kind != RewardKind::classify || ep.all_outputs) {
    // The seed's rewards read the classifier on every state: O_t = f_a(h_t),
    // packed [T + 1, B, A]; O_0 = f_a(h_0 = 0) = log_softmax(b_a).
    const int A = c.classes;
    real* O = ep.O.data();
    for (int r = 0; r < B; ++r) std::copy(p.action.b, p.action.b + A, O + static_cast<std::size_t>(r) * A);
    log_softmax_rows(B, A, O);
    for (int s = 0; s + 1 < T; ++s)
      action_network_forward(p, B, H, A, step(ep.h, s, cap, H), O + static_cast<std::size_t>(s + 1) * B * A);
    // O_T is logp, computed above.
    std::copy(ep.logp.data(), ep.logp.data() + static_cast<std::size_t>(B) * A, O + static_cast<std::size_t>(T) * B * A);
  }
}

void episode_rewards(Episode& ep) {
  const int T = ep.config.glimpses, B = ep.B, A = ep.config.classes;
  classification_reward(B, T, A, ep.logp.data(), ep.labels.data(), ep.r.data());
  if (ep.reward.kind == RewardKind::change) output_change_reward(B, T, A, ep.O.data(), ep.reward.coef, ep.r.data());
  if (ep.reward.kind == RewardKind::lowstd) low_std_reward(B, T, A, ep.O.data(), ep.reward.coef, ep.r.data());
  returns_from_rewards(B, T, ep.r.data(), ep.R.data());
  reinforce_advantage(B, T, ep.R.data(), ep.b.data(), ep.A.data());
}

EpisodeLoss episode_backward(const Parameters& params, Parameters& grads, Episode& ep,
                             const LossWeights& weights, int batch_total) {
  const ModelConfig& c = ep.config;
  const RamParams& p = params.views();
  const RamParams& dp = grads.views();
  const int T = c.glimpses, B = ep.B, cap = ep.capacity, H = c.hidden;
  const int G = c.glimpse_features(), Ncat = c.what_hidden + c.where_hidden, Ng = c.glimpse_hidden;
  const double per_image = 1.0 / batch_total;
  EpisodeLoss loss;

  // Classification: dL/dh_T from the action network.
  ep.dh.zero();
  loss.nll = action_network_nll_backward(p, dp, B, H, c.classes, step(ep.h, T - 1, cap, H),
                                         ep.logp.data(), ep.labels.data(), weights.nll * per_image,
                                         ep.dlogits.data(), ep.dh.data());
  real* dh = ep.dh.data();            // dL/dh_t, complete when step t is reached
  real* dh_prev = ep.dh_prev.data();  // dL/dh_{t-1}, being summed
  const bool lstm = c.core == CoreKind::lstm;
  real* dc = lstm ? ep.dc.data() : nullptr;            // dL/dc_t from later steps
  real* dc_prev = lstm ? ep.dc_prev.data() : nullptr;  // dL/dc_{t-1}
  if (lstm) ep.dc.zero();                              // c_T reaches the loss only through h_T
  const bool lstm_locator = c.locator == LocatorKind::lstm;
  real* dloc_h = lstm_locator ? ep.dloc_h.data() : nullptr;  // dL/d(locator state) from later steps
  real* dloc_c = lstm_locator ? ep.dloc_c.data() : nullptr;
  real* dloc_h_prev = lstm_locator ? ep.dloc_h_prev.data() : nullptr;
  real* dloc_c_prev = lstm_locator ? ep.dloc_c_prev.data() : nullptr;
  if (lstm_locator) {
    ep.dloc_h.zero();
    ep.dloc_c.zero();
  }
  for (int s = T - 1; s >= 0; --s) {
    const real* h_prev = s == 0 ? nullptr : step(ep.h, s - 1, cap, H);
    real* dh_prev_s = s == 0 ? nullptr : dh_prev;
    if (dh_prev_s) std::fill(dh_prev_s, dh_prev_s + static_cast<std::size_t>(B) * H, real(0));
    const real* R_s = ep.R.data() + static_cast<std::size_t>(s) * B;
    const real* A_s = ep.A.data() + static_cast<std::size_t>(s) * B;

    // Core: h_t = f_h(h_{t-1}, g_t) sends gradient to g_t and h_{t-1}.
    GlimpseActivations act{step(ep.hcat, s, cap, Ncat), step(ep.g, s, cap, Ng)};
    if (lstm)  // the weights' share after the loop, over all steps at once
      core_lstm_backward_data(p, B, H, s == 0 ? nullptr : step(ep.cell, s - 1, cap, H), step(ep.gates, s, cap, 4 * H),
                              step(ep.cell, s, cap, H), dh, dc, step(ep.dz, s, cap, 4 * H), ep.dg.data(), dh_prev_s,
                              s == 0 ? nullptr : dc_prev);
    else
      core_rnn_backward(p, dp, B, H, act.g, h_prev, step(ep.h, s, cap, H), dh, ep.dg.data(), dh_prev_s);
    // Glimpse network: g_t = f_g(rho_t, l_t); stops at rho_t and l_t.
    glimpse_network_backward(c, p, dp, B, step(ep.rho, s, cap, G), step(ep.l, s, cap, 2), act,
                             ep.dg.data(), ep.dhcat.data());
    // REINFORCE on the location drawn from h_{t-1}: loss -w_b log pi.
    reinforce_step_weights(B, A_s, weights.reinforce * per_image, ep.w.data());
    const real* mu_s = step(ep.mu, s, cap, 2);
    const real* l_raw_s = step(ep.l_raw, s, cap, 2);
    for (int r = 0; r < B; ++r)
      loss.reinforce -= ep.w[r] * gaussian_log_prob(l_raw_s + 2 * r, mu_s + 2 * r, c.sigma);
    real* dh_prev_reinforce = weights.reinforce_into_core ? dh_prev_s : nullptr;
    if (lstm_locator) {
      if (s > 0) std::fill(dloc_h_prev, dloc_h_prev + 2 * B, real(0));
      location_lstm_backward(c, p, dp, B, H, h_prev, s == 0 ? nullptr : step(ep.mu_pre, s - 1, cap, 2),
                             s == 0 ? nullptr : step(ep.loc_cell, s - 1, cap, 2), step(ep.loc_gates, s, cap, 8),
                             step(ep.loc_cell, s, cap, 2), step(ep.mu_pre, s, cap, 2), mu_s, l_raw_s,
                             ep.w.data(), dloc_h, dloc_c, ep.dloc_z.data(), ep.dmu.data(), dh_prev_reinforce,
                             s == 0 ? nullptr : dloc_h_prev, s == 0 ? nullptr : dloc_c_prev);
      std::swap(dloc_h, dloc_h_prev);
      std::swap(dloc_c, dloc_c_prev);
    } else {
      location_network_backward(c, p, dp, B, H, h_prev, step(ep.mu_pre, s, cap, 2), mu_s, l_raw_s,
                                ep.w.data(), ep.dmu.data(), dh_prev_reinforce);
    }
    // Baseline regression towards R_t.
    loss.baseline += baseline_backward(p, dp, B, H, h_prev, ep.b.data() + static_cast<std::size_t>(s) * B, R_s,
                                       weights.baseline * per_image, ep.db.data());
    std::swap(dh, dh_prev);
    std::swap(dc, dc_prev);
  }
  if (lstm) core_lstm_weight_gradients(p, dp, T, B, cap, H, ep.g.data(), ep.h.data(), ep.dz.data());
  for (int r = 0; r < B; ++r) {
    loss.reward += ep.R[r];  // R_1: everything the episode earned
    loss.correct += episode_prediction(ep, r) == ep.labels[r];
  }
  return loss;
}

int episode_prediction(const Episode& ep, int r) {
  const int A = ep.config.classes;
  const real* logp_r = ep.logp.data() + static_cast<std::size_t>(r) * A;
  return static_cast<int>(std::max_element(logp_r, logp_r + A) - logp_r);
}
