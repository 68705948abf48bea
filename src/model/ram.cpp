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
#include <initializer_list>
#include <stdexcept>

#include "model/ram.h"

#include "kernels/thread_pool.h"

namespace {

// Every buffer of an episode for `cap` images, with its shape, in one list:
// the constructor sizes them, episode_bytes counts them without allocating.
// `buffer(member, shape)` is called once for each, with a Tensor member of
// Episode or a pair of them (the backward's turns).
template <class Visit>
void episode_buffers(const ModelConfig& c, int cap, Visit buffer) {
  const int T = c.glimpses, G = c.glimpse_features(), H = c.hidden;
  const int Ncat = c.what_hidden + c.where_hidden, Ng = c.glimpse_hidden;
  const CoreShape core = core_shape(c.core);
  buffer(&Episode::noise, {T, cap, 2});
  buffer(&Episode::mu_pre, {T, cap, 2});
  buffer(&Episode::mu, {T, cap, 2});
  buffer(&Episode::l_raw, {T, cap, 2});
  buffer(&Episode::l, {T, cap, 2});
  buffer(&Episode::rho, {T, cap, G});
  buffer(&Episode::hcat, {T, cap, Ncat});
  buffer(&Episode::g, {T, cap, Ng});
  buffer(&Episode::h, {T, cap, H});
  if (core.gates) buffer(&Episode::gates, {T, cap, core.gates * H});
  if (core.cell) {
    buffer(&Episode::cell, {T, cap, H});
    buffer(&Episode::dc_turns, {cap, H});
  }
  if (core.dz) buffer(&Episode::dz, {T, cap, core.dz * H});
  if (c.locator == LocatorKind::lstm) {
    buffer(&Episode::loc_gates, {T, cap, 8});
    buffer(&Episode::loc_cell, {T, cap, 2});
    buffer(&Episode::dloc_h_turns, {cap, 2});
    buffer(&Episode::dloc_c_turns, {cap, 2});
    buffer(&Episode::dloc_z, {cap, 8});
    buffer(&Episode::dloc_h_once, {cap, 2});
    buffer(&Episode::dloc_c_once, {cap, 2});
  }
  buffer(&Episode::b, {T, cap});
  buffer(&Episode::logp, {cap, c.classes});
  buffer(&Episode::r, {T, cap});
  buffer(&Episode::immediate, {T, cap});
  buffer(&Episode::O, {T + 1, cap, c.classes});
  buffer(&Episode::R, {T, cap});
  buffer(&Episode::A, {T, cap});
  buffer(&Episode::dh_turns, {cap, H});
  buffer(&Episode::dg, {T, cap, Ng});
  buffer(&Episode::dhcat, {T, cap, Ncat});
  buffer(&Episode::dmu, {cap, 2});
  buffer(&Episode::dlogits, {cap, c.classes});
  buffer(&Episode::db, {cap});
  buffer(&Episode::w, {cap});
}

void reshape_buffer(Tensor& t, std::initializer_list<int> shape) { t.reshape(shape); }
void reshape_buffer(Tensor (&pair)[2], std::initializer_list<int> shape) {
  for (Tensor& t : pair) t.reshape(shape);
}
constexpr std::size_t copies(Tensor Episode::*) { return 1; }
constexpr std::size_t copies(Tensor (Episode::*)[2]) { return 2; }

}  // namespace

Episode::Episode(const ModelConfig& c, int cap) : config(c), capacity(cap) {
  c.validate();
  images.resize(cap);
  labels.resize(cap);
  episode_buffers(c, cap, [this](auto member, std::initializer_list<int> shape) { reshape_buffer(this->*member, shape); });
  if (glimpse_tables_pay(c)) image_tables.resize(cap * glimpse_table_size(c));
}

std::size_t episode_bytes(const ModelConfig& config, int capacity) {
  std::size_t elements = 0;
  episode_buffers(config, capacity, [&](auto member, std::initializer_list<int> shape) {
    std::size_t n = 1;
    for (int s : shape) n *= static_cast<std::size_t>(s);
    elements += copies(member) * n;
  });
  const std::size_t tables = glimpse_tables_pay(config) ? static_cast<std::size_t>(capacity) * glimpse_table_size(config) : 0;
  return elements * sizeof(real) + tables * sizeof(Episode::image_tables[0]) +
         static_cast<std::size_t>(capacity) * (sizeof(const uint8_t*) + sizeof(uint8_t));
}

void Episode::resize(int batch) {
  if (batch < 1 || batch > capacity)
    throw std::invalid_argument("Episode: batch " + std::to_string(batch) + " outside 1.." +
                                std::to_string(capacity));
  B = batch;
}

// Step s's rows of a [T, capacity, width] buffer, of which the first B are
// used, or nullptr for a buffer this configuration does not keep. The
// per-step scalars (b, r, immediate, R, A) and the outputs O are packed instead,
// [T, B] and [T + 1, B, A]: they pass rows = B.
namespace {
std::size_t row_width(const Tensor& t) {
  return t.dim(2) > 0 ? static_cast<std::size_t>(t.dim(2)) : 1;  // [T, rows] buffers: 1
}
real* rows_of(const Tensor& t, int s, int rows) {
  if (!t.data()) return nullptr;
  return const_cast<real*>(t.data()) + static_cast<std::size_t>(s) * rows * row_width(t);
}
// Row `first` of a view into buffer t (nullptr stays nullptr).
real* from_row(real* view, const Tensor& t, int first) {
  return view ? view + static_cast<std::size_t>(first) * row_width(t) : nullptr;
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
  now.immediate = rows_of(immediate, s, B);
  now.R = rows_of(R, s, B);
  now.A = rows_of(A, s, B);
  return now;
}

Step Episode::step(int s, int first, int end) const {
  Step rows = step(s);
  rows.B = end - first;
  rows.x += first;
  if (rows.x_tables) rows.x_tables += static_cast<std::size_t>(first) * glimpse_table_size(config);
  rows.O = from_row(rows.O, O, first);
  rows.mu_pre = from_row(rows.mu_pre, mu_pre, first);
  rows.loc_gates = from_row(rows.loc_gates, loc_gates, first);
  rows.loc_c = from_row(rows.loc_c, loc_cell, first);
  rows.mu = from_row(rows.mu, mu, first);
  rows.noise = from_row(rows.noise, noise, first);
  rows.l_raw = from_row(rows.l_raw, l_raw, first);
  rows.l = from_row(rows.l, l, first);
  rows.b = from_row(rows.b, b, first);
  rows.rho = from_row(rows.rho, rho, first);
  rows.hcat = from_row(rows.hcat, hcat, first);
  rows.g = from_row(rows.g, g, first);
  rows.gates = from_row(rows.gates, gates, first);
  rows.c = from_row(rows.c, cell, first);
  rows.h = from_row(rows.h, h, first);
  rows.r = from_row(rows.r, r, first);
  rows.immediate = from_row(rows.immediate, immediate, first);
  rows.R = from_row(rows.R, R, first);
  rows.A = from_row(rows.A, A, first);
  return rows;
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
  d.dg = rows_of(dg, s, capacity);
  d.dhcat = rows_of(dhcat, s, capacity);
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

StepGrads Episode::step_only_grads(int s) const {
  StepGrads d = grads(s);
  d.dloc_h_prev = d.dloc_c_prev = nullptr;
  d.dloc_h = const_cast<real*>(dloc_h_once.data());
  d.dloc_c = const_cast<real*>(dloc_c_once.data());
  return d;
}

void Episode::draw_locations(int j, uint64_t stream, Locations where) {
  location_draws(where, stream, config.glimpses, noise.data() + 2 * j, 2 * static_cast<std::size_t>(capacity));
}

namespace {

// The forward pass of images [first, end), which need nothing of the others.
void forward_rows(const Parameters& params, Episode& ep, Locations where, int first, int end) {
  const ModelConfig& c = ep.config;
  const RamParams& p = params.views();
  const int T = c.glimpses, B = end - first, H = c.hidden, A = c.classes;
  // The images' summed-area tables, once for all T glimpses.
  if (!ep.image_tables.empty())
    glimpse_tables(c, B, ep.images.data() + first,
                   ep.image_tables.data() + static_cast<std::size_t>(first) * glimpse_table_size(c));
  for (int s = 0; s < T; ++s) {
    const Step prev = ep.step(s - 1, first, end), now = ep.step(s, first, end);
    location_network_forward(c, p, prev, now, where);  // mu_t, l_t from h_{t-1}
    baseline_forward(c, p, prev, now);                 // b_t from h_{t-1}
    glimpse_sensor(c, now);                            // rho_t = rho(x, l_t)
    glimpse_network_forward(c, p, now);                // g_t = f_g(rho_t, l_t)
    core_forward(c, p, prev, now);                     // h_t = f_h(h_{t-1}, g_t)
  }
  const Step last = ep.step(T - 1, first, end);
  real* logp = ep.logp.data() + static_cast<std::size_t>(first) * A;
  action_network_forward(p, B, H, A, last.h, logp);  // logp = f_a(h_T)
  if (ep.reward.kind != RewardKind::classify || ep.all_outputs) {
    // The seed's rewards read the classifier on every state h_0..h_T: its
    // logits O_t = h_t W_a + b_a (O_0 = b_a from h_0 = 0), or its
    // log-probabilities log_softmax of them, as ep.reward.output says.
    for (int s = -1; s < T; ++s) {
      const Step now = ep.step(s, first, end);
      action_network_logits(p, B, H, A, now.h, now.O);
      if (ep.reward.output == RewardOutput::logprobs) log_softmax_rows(B, A, now.O);
    }
  }
}

}  // namespace

// Every image's forward pass is its own: no product or pass of it mixes
// rows, and a row of a product has the same bits in any block of rows
// (gemm_tiles.h). So a team's members run whole blocks of images through
// all T glimpses, each on its own, rather than meeting at every product and
// waiting while the leader alone runs the heads (the location network, the
// baseline): kElementsPerPart a row makes every image worth a part.
void episode_forward(const Parameters& params, Episode& ep, Locations where) {
  team_rows(ep.B, kElementsPerPart, [&](int first, int end) { forward_rows(params, ep, where, first, end); });
}

void episode_rewards(Episode& ep) {
  const int T = ep.config.glimpses, B = ep.B, A = ep.config.classes;
  classification_reward(B, T, A, ep.logp.data(), ep.labels.data(), ep.r.data());
  if (ep.reward.kind == RewardKind::change) output_change_reward(B, T, A, ep.O.data(), ep.reward.coef, ep.r.data());
  if (ep.reward.kind == RewardKind::lowstd) low_std_reward(B, T, A, ep.O.data(), ep.reward.coef, ep.r.data());
  if (ep.reward.kind == RewardKind::change_code) {
    if (!ep.reference) throw std::logic_error("episode_rewards: change-code needs the reference output z_ref");
    reference_change_reward(B, T, A, ep.O.data(), ep.reference, ep.reward.coef, ep.immediate.data());
  }
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
  // Random locations (LocationSource::random) were drawn by no policy: there
  // is no action to reinforce and no return to predict, so the loss is the
  // classification term alone and the locator and the baseline get nothing.
  const bool policy_looked = c.locations == LocationSource::policy;
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
    core_backward(c, p, dp, prev, now, d);              // dh_t -> dh_{t-1} (the RNN core: and dg_t)
    if (policy_looked) {
      loss.reinforce += reinforce_backward(c, p, dp, prev, now, weights, batch_total, d);  // seed eq. 1
      if (ep.reward.kind == RewardKind::change_code)  // the seed's code: c_t into step t's locator alone
        loss.reinforce += immediate_reinforce_backward(c, p, dp, prev, now, ep.step_only_grads(s));
      if (baseline_regressed_at(c, s))
        loss.baseline += baseline_backward(c, p, dp, prev, now, weights.baseline * per_image, d);
    }
  }
  // No dg_t feeds the recurrence, so what flows from g_t down waits for the
  // loop's end: the gated cores' dg_t, then the glimpse network's passes
  // through the rows, over all T steps at once when the batch fills the
  // episode (no rows between the steps), as products of T * B rows; then its
  // weights' share, summed from t = T down to 1 as the loop would, in one
  // pass over each weight gradient.
  core_input_gradients(c, p, ep);                      // the gated cores: dz_t -> dg_t
  if (B == ep.capacity) {
    Step all = ep.step(0);
    all.B = T * B;
    glimpse_network_backward_rows(c, p, all, ep.grads(0));  // dg_t -> d[h_g, h_l]_t
  } else {
    for (int s = 0; s < T; ++s) glimpse_network_backward_rows(c, p, ep.step(s), ep.grads(s));
  }
  glimpse_network_backward_weights(c, p, dp, ep.step(T - 1), ep.grads(T - 1), T, ep.capacity);
  core_weight_gradients(c, p, dp, ep);  // the gated cores' weights, over all T steps at once
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
