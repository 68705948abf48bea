// ram.cpp: the Recurrent Attention Model unrolled over T glimpses, forward,
// and backward through time (RAM section 3, figure 1).
//
// Forward, for t = 1..T (array step s = t - 1), with h_0 = 0:
//   mu_t, l_t = f_l(h_{t-1})           location network, sample or mean
//   b_t       = baseline(h_{t-1})
//   rho_t     = rho(x, l_t)            glimpse sensor
//   g_t       = f_g(rho_t, l_t)        glimpse network
//   h_t       = f_h(h_{t-1}, g_t)      core
// then logp = f_a(h_T). Each line is one call on the named views of steps
// t - 1 and t (step.h). Backward walks the same steps from T down to 1 and
// calls the components in reverse; the gradient reaching h_{t-1} is the sum
// of what the core and the location network of step t send back
// (reinforce.cpp says which loss goes where).
#include <algorithm>
#include <stdexcept>

#include "model/ram.h"

Episode::Episode(const ModelConfig& c, int cap) : config(c), capacity(cap) {
  c.validate();
  const int T = c.glimpses, G = c.glimpse_features(), H = c.hidden;
  const int Ncat = c.what_hidden + c.where_hidden, Ng = c.glimpse_hidden;
  const CoreShape core = core_shape(c.core);
  images.resize(cap);
  labels.resize(cap);
  if (glimpse_tables_pay(c)) image_tables.resize(cap * glimpse_table_size(c));
  noise.reshape({T, cap, 2});
  mu_pre.reshape({T, cap, 2});
  mu.reshape({T, cap, 2});
  l_raw.reshape({T, cap, 2});
  l.reshape({T, cap, 2});
  rho.reshape({T, cap, G});
  hcat.reshape({T, cap, Ncat});
  g.reshape({T, cap, Ng});
  h.reshape({T, cap, H});
  if (core.gates) gates.reshape({T, cap, core.gates * H});
  if (core.cell) {
    cell.reshape({T, cap, H});
    for (Tensor& t : dc_turns) t.reshape({cap, H});
  }
  if (core.dz) dz.reshape({T, cap, core.dz * H});
  if (c.locator == LocatorKind::lstm) {
    loc_gates.reshape({T, cap, 8});
    loc_cell.reshape({T, cap, 2});
    for (Tensor& t : dloc_h_turns) t.reshape({cap, 2});
    for (Tensor& t : dloc_c_turns) t.reshape({cap, 2});
    dloc_z.reshape({cap, 8});
  }
  b.reshape({T, cap});
  logp.reshape({cap, c.classes});
  r.reshape({T, cap});
  O.reshape({T + 1, cap, c.classes});
  R.reshape({T, cap});
  A.reshape({T, cap});
  for (Tensor& t : dh_turns) t.reshape({cap, H});
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

// Step s's rows of a [T, capacity, width] buffer, of which the first B are
// used, or nullptr for a buffer this configuration does not keep. The
// per-step scalars (b, r, R, A) and the outputs O are packed instead,
// [T, B] and [T + 1, B, A]: they pass rows = B.
namespace {
real* rows_of(const Tensor& t, int s, int rows) {
  if (!t.data()) return nullptr;
  const std::size_t width = t.dim(2) > 0 ? static_cast<std::size_t>(t.dim(2)) : 1;  // [T, rows] buffers: 1
  return const_cast<real*>(t.data()) + static_cast<std::size_t>(s) * rows * width;
}
}  // namespace

Step Episode::step(int s) const {
  Step now;
  now.B = B;
  now.x = images.data();
  now.x_tables = image_tables.empty() ? nullptr : image_tables.data();
  // O_0, the classifier on h_0 = 0, belongs to the zero state.
  now.O = rows_of(O, s + 1, B);
  if (s < 0) return now;  // h_0 = c_0 = 0 and the locator's zero state: nullptr
  now.mu_pre = rows_of(mu_pre, s, capacity);
  now.loc_gates = rows_of(loc_gates, s, capacity);
  now.loc_c = rows_of(loc_cell, s, capacity);
  now.mu = rows_of(mu, s, capacity);
  now.noise = rows_of(noise, s, capacity);
  now.l_raw = rows_of(l_raw, s, capacity);
  now.l = rows_of(l, s, capacity);
  now.b = rows_of(b, s, B);
  now.rho = rows_of(rho, s, capacity);
  now.hcat = rows_of(hcat, s, capacity);
  now.g = rows_of(g, s, capacity);
  now.gates = rows_of(gates, s, capacity);
  now.c = rows_of(cell, s, capacity);
  now.h = rows_of(h, s, capacity);
  now.r = rows_of(r, s, B);
  now.R = rows_of(R, s, B);
  now.A = rows_of(A, s, B);
  return now;
}

StepGrads Episode::grads(int s) const {
  // Step T's gradients sit in the first of each pair, step T - 1's in the
  // second, and so on.
  const int now = (config.glimpses - 1 - s) & 1, before = now ^ 1;
  auto data = [](const Tensor& t) { return const_cast<real*>(t.data()); };
  auto prev = [&](const Tensor& t) { return s > 0 ? data(t) : nullptr; };
  StepGrads d;
  d.dh = data(dh_turns[now]);
  d.dh_prev = prev(dh_turns[before]);
  d.dc = data(dc_turns[now]);
  d.dc_prev = prev(dc_turns[before]);
  d.dz = rows_of(dz, s, capacity);
  d.dg = data(dg);
  d.dhcat = data(dhcat);
  d.w = data(w);
  d.dmu = data(dmu);
  d.db = data(db);
  d.dloc_h = data(dloc_h_turns[now]);
  d.dloc_c = data(dloc_c_turns[now]);
  d.dloc_h_prev = prev(dloc_h_turns[before]);
  d.dloc_c_prev = prev(dloc_c_turns[before]);
  d.dloc_z = data(dloc_z);
  return d;
}

void Episode::draw_locations(int j, uint64_t stream, Locations where) {
  location_draws(where, stream, config.glimpses, noise.data() + 2 * j, 2 * static_cast<std::size_t>(capacity));
}

void episode_forward(const Parameters& params, Episode& ep, Locations where) {
  const ModelConfig& c = ep.config;
  const RamParams& p = params.views();
  const int T = c.glimpses, B = ep.B, H = c.hidden, A = c.classes;
  // The images' summed-area tables, once for all T glimpses.
  if (!ep.image_tables.empty()) glimpse_tables(c, B, ep.images.data(), ep.image_tables.data());
  for (int s = 0; s < T; ++s) {
    const Step prev = ep.step(s - 1), now = ep.step(s);
    location_network_forward(c, p, prev, now, where);  // mu_t, l_t from h_{t-1}
    baseline_forward(c, p, prev, now);                 // b_t from h_{t-1}
    glimpse_sensor(c, now);                            // rho_t = rho(x, l_t)
    glimpse_network_forward(c, p, now);                // g_t = f_g(rho_t, l_t)
    core_forward(c, p, prev, now);                     // h_t = f_h(h_{t-1}, g_t)
  }
  const Step last = ep.step(T - 1);
  action_network_forward(p, B, H, A, last.h, ep.logp.data());  // logp = f_a(h_T)
  if (ep.reward.kind != RewardKind::classify || ep.all_outputs) {
    // The seed's rewards read the classifier on every state, O_t = f_a(h_t):
    // O_0 = f_a(h_0 = 0) = log_softmax(b_a) from the zero state, then
    // h_1..h_{T-1}; O_T is logp, computed above.
    for (int s = -1; s + 1 < T; ++s) {
      const Step now = ep.step(s);
      action_network_forward(p, B, H, A, now.h, now.O);
    }
    std::copy(ep.logp.data(), ep.logp.data() + static_cast<std::size_t>(B) * A, last.O);
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
  const int T = c.glimpses, B = ep.B, H = c.hidden;
  const double per_image = 1.0 / batch_total;
  EpisodeLoss loss;

  // Classification: dL/dh_T from the action network. Nothing reaches c_T or
  // the locator's last state but through h_T and mu_pre_T.
  const StepGrads last = ep.grads(T - 1);
  std::fill(last.dh, last.dh + static_cast<std::size_t>(B) * H, real(0));
  if (last.dc) std::fill(last.dc, last.dc + static_cast<std::size_t>(B) * H, real(0));
  if (last.dloc_h) {
    std::fill(last.dloc_h, last.dloc_h + 2 * B, real(0));
    std::fill(last.dloc_c, last.dloc_c + 2 * B, real(0));
  }
  const real* h_T = ep.step(T - 1).h;
  loss.nll = action_network_nll_backward(p, dp, B, H, c.classes, h_T, ep.logp.data(), ep.labels.data(),
                                         weights.nll * per_image, ep.dlogits.data(), last.dh);
  for (int s = T - 1; s >= 0; --s) {
    const Step prev = ep.step(s - 1), now = ep.step(s);
    const StepGrads d = ep.grads(s);  // d.dh is dL/dh_t in full; d.dh_prev is summed below
    if (d.dh_prev) std::fill(d.dh_prev, d.dh_prev + static_cast<std::size_t>(B) * H, real(0));
    core_backward(c, p, dp, prev, now, d);              // dh_t -> dg_t, dh_{t-1}
    glimpse_network_backward(c, p, dp, now, d);         // dg_t -> f_g; stops at rho_t, l_t
    loss.reinforce += reinforce_backward(c, p, dp, prev, now, weights, batch_total, d);  // seed eq. 1
    loss.baseline += baseline_backward(c, p, dp, prev, now, weights.baseline * per_image, d);
  }
  core_weight_gradients(c, p, dp, ep);  // the recurrent cores' weights, over all T steps at once
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
