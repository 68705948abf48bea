// grad_episode.cpp: the gradient of a whole episode (ram.cpp) against central
// finite differences in double precision, the routing of the hybrid loss
// (reinforce.cpp), the rewards by hand and through whole episodes whose
// returns differ from step to step (the seed's rewards), and the REINFORCE
// estimator against a gradient known in closed form.
//
// What the finite differences differentiate. episode_backward returns the
// gradient of the hybrid loss
//   L = w_nll L_nll + w_reinforce L_reinforce + w_baseline L_baseline
// with some inputs held constant (reinforce.cpp, "gradient routing"):
//   - the sampled action l_raw_t, which enters L_reinforce only through
//     log pi(l_raw_t | mu_t) (the score function);
//   - the clamped location l_t, an input of the glimpse sensor and of the
//     glimpse network's `where` layer that is not differentiated;
//   - the returns R_t and the advantages A_t = R_t - b_t;
//   - the baseline's input h_{t-1} inside L_baseline (baseline.cpp: the
//     baseline loss trains w_b and c alone, never the core);
//   - by default also the location network's input h_{t-1} inside
//     L_reinforce (reinforce.cpp); with reinforce_into_core it is not held,
//     and the checks run under both routings.
// Re-running episode_forward at theta +- eps with the same noise would move
// l_raw_t = mu_t + sigma * noise and l_t along with mu_t, a different function
// (its L_reinforce does not even depend on mu_t; the test "what the analytic
// gradient is not" shows it). The loss differentiated here is the episode's
// own code with those inputs held (forward_at_fixed_locations): episode_forward
// at the base episode's actions as given locations (so l_raw_t and l_t are
// exactly the base ones), then the location network and the baseline of each
// step once more, reading the base episode's h_{t-1}; then episode_backward
// with the base R and A, whose returned loss terms are summed. Two checks keep
// that honest: at the base parameters this forward reproduces episode_forward
// bit for bit, and the real episode_forward at theta +- eps d gives the
// sensor's output rho unchanged bit for bit (patch positions are whole
// pixels), so holding l_t fixed changes nothing the sensor sees; l_t still
// differs as an input of the `where` layer, which is exactly the stop-gradient
// being tested.
//
// Every loss evaluation also records whether any relu or hardtanh changed
// side relative to the base episode; none may, or the difference would
// straddle a kink.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "finite_difference.h"
#include "kernels/random.h"
#include "model/ram.h"

namespace {

constexpr uint64_t kSeed = 14066247;  // every draw below derives from it

struct Setup {
  const char* name;
  ModelConfig config;
  int B;               // images in the episode
  int capacity;        // Episode capacity: above B so the [T, capacity] strides matter, or B
  double init_range;   // parameters uniform in [-range, range]
};

ModelConfig tiny_config(int channels, int patch, int scales, int T, int what, int where,
                        int glimpse, int hidden, int classes, CoreKind core = CoreKind::rnn,
                        LocatorKind locator = LocatorKind::linear, BaselineKind baseline = BaselineKind::state) {
  ModelConfig c;
  c.core = core;
  c.locator = locator;
  c.baseline = baseline;
  c.channels = channels;
  c.height = 8;
  c.width = 8;
  c.classes = classes;
  c.glimpses = T;
  c.patch = patch;
  c.scales = scales;
  c.glimpse_scale = 2;
  c.unit_pixels = 3;  // 8x8 images: a location of 1 is 3 pixels from the centre
  c.what_hidden = what;
  c.where_hidden = where;
  c.glimpse_hidden = glimpse;
  c.hidden = hidden;
  c.sigma = 0.22;
  c.validate();
  return c;
}

std::vector<Setup> setups() {
  return {
      // C = 1, one 3x3 patch (G = 9), T = 3.
      {"C=1 K=1 T=3", tiny_config(1, 3, 1, 3, 5, 4, 6, 6, 4), 3, 5, 0.5},
      // C = 3, two scales of 2x2 (G = 2*3*2*2 = 24), T = 4.
      {"C=3 K=2 T=4", tiny_config(3, 2, 2, 4, 6, 5, 7, 5, 3), 4, 5, 0.5},
      // The LSTM core and the LSTM locator (seed section 2.3), T = 4.
      {"LSTM core C=1 K=1 T=4", tiny_config(1, 3, 1, 4, 5, 4, 6, 5, 4, CoreKind::lstm), 3, 5, 0.5},
      {"LSTM locator C=1 K=1 T=4", tiny_config(1, 3, 1, 4, 5, 4, 6, 5, 4, CoreKind::rnn, LocatorKind::lstm), 3, 5,
       0.5},
      {"LSTM core and locator T=3", tiny_config(1, 3, 1, 3, 5, 4, 6, 5, 4, CoreKind::lstm, LocatorKind::lstm), 3, 5,
       0.5},
      // A full episode (B = capacity): the glimpse network's passes through
      // the rows then run over all steps at once (episode_backward), and the
      // LSTM core makes its dg_t and weight gradients over all steps in one
      // product each (core_input_gradients, core_weight_gradients).
      {"LSTM core B=capacity T=4", tiny_config(1, 3, 1, 4, 5, 4, 6, 5, 4, CoreKind::lstm), 3, 3, 0.5},
      // The GRU core, with a capacity above B and a full one, T = 4.
      {"GRU core C=1 K=1 T=4", tiny_config(1, 3, 1, 4, 5, 4, 6, 5, 4, CoreKind::gru), 3, 5, 0.5},
      {"GRU core and LSTM locator B=capacity T=3",
       tiny_config(1, 3, 1, 3, 5, 4, 6, 5, 4, CoreKind::gru, LocatorKind::lstm), 3, 3, 0.5},
      // The Torch code's constant baseline, regressed once per episode.
      {"constant baseline, LSTM locator T=3",
       tiny_config(1, 3, 1, 3, 5, 4, 6, 5, 4, CoreKind::rnn, LocatorKind::lstm, BaselineKind::constant), 3, 5, 0.5},
      // The RNN core in a full episode: its dg_t made at each step, the
      // glimpse network's rows over all steps at once.
      {"RNN core B=capacity T=3", tiny_config(1, 3, 1, 3, 5, 4, 6, 6, 4), 3, 3, 0.5},
  };
}

// Weights of the three loss terms, none equal to 1, so that a term whose
// weight is dropped or applied twice is seen.
const LossWeights kWeights{1.0, 0.8, 0.5};
// The same with the REINFORCE gradient flowing on into the core (the Torch
// code's routing, --reinforce-into-core).
const LossWeights kWeightsIntoCore{1.0, 0.8, 0.5, true};

// Whole buffers, unused capacity rows included.
void copy_tensor(Tensor& to, const Tensor& from) { std::copy(from.data(), from.data() + from.size(), to.data()); }
bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(real)) == 0;
}

// The episode at the current parameters with what the hybrid loss treats as
// constants held at the base episode's values: episode_forward looks at the
// base actions l_raw_t (given locations: l_t = clamp(l_raw_t) is then the
// base l_t too), and each step's location network (unless REINFORCE flows
// into the core) and baseline run again on the base episode's h_{t-1}
// (baseline.cpp: "h_{t-1} is treated as a constant"). The LSTM locator's own
// state is not held. Everything else (mu_t, rho_t, g_t, h_t, logp) is
// recomputed from the current parameters. `fixed` holds the base actions in
// its noise.
void forward_at_fixed_locations(const Parameters& params, Episode& fixed, const Episode& base,
                                bool reinforce_into_core) {
  const ModelConfig& c = fixed.config;
  episode_forward(params, fixed, Locations::given);
  for (int s = 0; s < c.glimpses; ++s) {
    Step held = fixed.step(s - 1);
    held.h = base.step(s - 1).h;
    const Step now = fixed.step(s);
    if (!reinforce_into_core) location_network_forward(c, params.views(), held, now, Locations::given);
    baseline_forward(c, params.views(), held, now);
  }
}

// Which side of its kink every relu and hardtanh is on.
std::vector<char> kink_sides(const Episode& ep) {
  std::vector<char> sides;
  // The RNN core's h_t is a relu output; the LSTM's is smooth.
  const bool relu_core = ep.config.core == CoreKind::rnn;
  for (const Tensor* t : {&ep.hcat, &ep.g, &ep.h}) {
    if (t == &ep.h && !relu_core) continue;
    for (std::size_t i = 0; i < t->size(); ++i) sides.push_back((*t)[i] > 0);
  }
  for (std::size_t i = 0; i < ep.mu_pre.size(); ++i)
    sides.push_back(ep.mu_pre[i] <= -1 ? 0 : ep.mu_pre[i] < 1 ? 1 : 2);
  return sides;
}

// One episode of a tiny model at the base parameters theta, and everything the
// finite-difference loss holds fixed at its base value.
struct EpisodeCheck {
  ModelConfig config;
  int B;
  std::vector<std::vector<uint8_t>> pixels;  // [B][C, H, W]
  Episode ep;                                // the episode training runs, at the current parameters
  Episode base;                              // the episode at theta: what the loss holds fixed
  Episode fixed;                             // the loss's episode: base actions as given locations
  Parameters params, grads, scratch;
  std::vector<real> theta;                   // base parameters
  std::vector<char> sides0;                  // base kink sides
  int kinks_crossed = 0;                     // loss evaluations on another side of a kink

  // `reward`: what the episodes pay (the classification reward alone, or a
  // seed reward on top of it).
  EpisodeCheck(const Setup& s, uint64_t seed, const RewardConfig& reward = {})
      : config(s.config), B(s.B), ep(s.config, s.capacity), base(s.config, s.capacity),
        fixed(s.config, s.capacity), params(s.config), grads(s.config), scratch(s.config) {
    Rng rng(mix_key(kSeed, seed));
    const int image_size = config.channels * config.height * config.width;
    pixels.resize(B);
    for (int r = 0; r < B; ++r) {
      pixels[r].resize(image_size);
      for (auto& v : pixels[r]) v = static_cast<uint8_t>(rng.below(256));
    }
    for (std::size_t i = 0; i < ep.noise.size(); ++i) ep.noise[i] = static_cast<real>(rng.normal());
    params.init_uniform(mix_key(kSeed, seed, 1), s.init_range);
    theta.assign(params.data(), params.data() + params.size());
    for (Episode* e : {&ep, &base, &fixed}) {
      e->reward = reward;
      e->resize(B);
      for (int r = 0; r < B; ++r) e->images[r] = pixels[r].data();
    }
    copy_tensor(base.noise, ep.noise);
    // Labels do not change the forward pass: label image 0 with its own
    // prediction (reward 1) and the others with a wrong class (reward 0), so
    // both returns occur.
    episode_forward(params, base, Locations::sample);
    for (int r = 0; r < B; ++r) {
      const int predicted = episode_prediction(base, r);
      base.labels[r] = static_cast<uint8_t>(r == 0 ? predicted : (predicted + 1) % config.classes);
    }
    episode_rewards(base);
    ep.labels = fixed.labels = base.labels;
    copy_tensor(fixed.noise, base.l_raw);
    sides0 = kink_sides(base);
  }

  // L(theta') at the current parameters, with the locations, the returns, the
  // advantages and the inputs h_{t-1} of the baseline (and by default of the
  // locator) held at their base values.
  double loss(const LossWeights& weights) {
    forward_at_fixed_locations(params, fixed, base, weights.reinforce_into_core);
    kinks_crossed += kink_sides(fixed) != sides0;
    copy_tensor(fixed.R, base.R);
    copy_tensor(fixed.A, base.A);
    scratch.zero();
    const EpisodeLoss e = episode_backward(params, scratch, fixed, weights, B);
    return e.nll + e.reinforce + e.baseline;
  }

  // The gradient training uses: the real episode_forward at the current
  // parameters, then episode_backward with the base R and A.
  std::vector<real> gradient(const LossWeights& weights) {
    episode_forward(params, ep, Locations::sample);
    copy_tensor(ep.R, base.R);
    copy_tensor(ep.A, base.A);
    grads.zero();
    episode_backward(params, grads, ep, weights, B);
    return std::vector<real>(grads.data(), grads.data() + grads.size());
  }

  // The gradient along d against the central difference of the loss; and the
  // real forward at theta +- eps d looks at exactly the same pixels.
  void check_direction(const LossWeights& weights, const std::vector<real>& grad, const std::vector<real>& d) {
    const double numeric =
        fd::directional_difference(params.data(), d.data(), d.size(), [&] { return loss(weights); });
    CHECK(fd::dot(grad.data(), d.data(), d.size()) == fd::near(numeric));
    for (double t : {fd::kStep, -fd::kStep}) {
      CAPTURE(t);
      real_forward_at(d, t);
      CHECK(bitwise_equal(ep.rho, base.rho));
    }
  }

  // The real episode_forward at theta + t * d (d over the whole flat buffer),
  // parameters restored afterwards; leaves its activations in ep.
  void real_forward_at(const std::vector<real>& d, double t) {
    for (std::size_t i = 0; i < params.size(); ++i) params.data()[i] = static_cast<real>(theta[i] + t * d[i]);
    episode_forward(params, ep, Locations::sample);
    std::copy(theta.begin(), theta.end(), params.data());
  }
};

// A unit direction over one block of the flat buffer, zero elsewhere.
std::vector<real> block_direction(Rng& rng, std::size_t total, const ParamBlock& block) {
  std::vector<real> d(total, 0);
  const std::vector<real> u = fd::random_direction(rng, block.size);
  std::copy(u.begin(), u.end(), d.begin() + block.offset);
  return d;
}

double block_norm(const std::vector<real>& g, const ParamBlock& block) {
  return std::sqrt(fd::dot(g.data() + block.offset, g.data() + block.offset, block.size));
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// Runs check(weights, setup, seed) under both REINFORCE routings for every
// setup, each with its own seed, the setup and routing captured for failure
// messages.
template <class Check>
void for_every_setup_and_routing(int seed, Check check) {
  for (const LossWeights& weights : {kWeights, kWeightsIntoCore}) {
    const std::vector<Setup> all = setups();
    for (std::size_t i = 0; i < all.size(); ++i) {
      const std::string setup_name = all[i].name;
      CAPTURE(setup_name);
      const bool into_core = weights.reinforce_into_core;
      CAPTURE(into_core);
      // A seed of its own, which a setup added to the list does not shift.
      check(weights, all[i], seed + 1 + static_cast<int>(i) + (into_core ? 1000 : 0));
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// The finite-difference loss is the model's loss.

TEST_CASE("episode: the fixed-location forward is episode_forward at the base parameters") {
  int seed = 0;
  for (const Setup& setup : setups()) {
    const std::string setup_name = setup.name;
    CAPTURE(setup_name);
    EpisodeCheck check(setup, ++seed);
    // The real forward at theta is the base episode; the loss's forward there
    // must be it bit for bit, under either routing.
    for (const bool into_core : {false, true}) {
      CAPTURE(into_core);
      forward_at_fixed_locations(check.params, check.fixed, check.base, into_core);
      const char* names[] = {"mu_pre", "mu", "l_raw", "l", "rho", "hcat", "g", "h", "b", "logp"};
      const Tensor Episode::*tensors[] = {&Episode::mu_pre, &Episode::mu, &Episode::l_raw, &Episode::l,
                                          &Episode::rho,    &Episode::hcat, &Episode::g,   &Episode::h,
                                          &Episode::b,      &Episode::logp};
      for (int i = 0; i < 10; ++i) {
        CAPTURE(names[i]);
        CHECK(bitwise_equal(check.fixed.*tensors[i], check.base.*tensors[i]));
      }
    }
    // Rewards are a function of the episode: recomputing them gives R and A again.
    episode_rewards(check.fixed);
    CHECK(bitwise_equal(check.fixed.R, check.base.R));
    CHECK(bitwise_equal(check.fixed.A, check.base.A));
  }
}

// The loss terms episode_backward returns, against the hybrid loss written
// out from the episode's own numbers: every step's return R_t and advantage
// A_t, and the reward reported as everything the episode earned, the sum of
// its rewards r_t (R_1).
void check_loss_written_out(EpisodeCheck& check) {
  Episode& ep = check.ep;
  const ModelConfig& c = check.config;
  const int B = check.B, T = c.glimpses, A = c.classes, cap = ep.capacity;
  episode_forward(check.params, ep, Locations::sample);
  episode_rewards(ep);
  check.grads.zero();
  const EpisodeLoss loss = episode_backward(check.params, check.grads, ep, kWeights, B);
  // L_nll = w_nll / B * sum_b -logp[b, y_b]
  // L_reinforce = -w_reinforce / B * sum_t sum_b A_t,b log pi(l_raw_t,b | mu_t,b)
  // L_baseline = w_baseline / B * sum_t sum_b (b_t,b - R_t,b)^2, the
  //              constant baseline's at t = 1 alone
  // reward = sum_b R_1,b = sum_b sum_t r_t,b
  double nll = 0, reinforce = 0, baseline = 0, reward = 0;
  int correct = 0;
  for (int r = 0; r < B; ++r) {
    nll -= ep.logp[r * A + ep.labels[r]];
    correct += episode_prediction(ep, r) == ep.labels[r];
  }
  for (int s = 0; s < T; ++s) {
    for (int r = 0; r < B; ++r) {
      const std::size_t at = (std::size_t(s) * cap + r) * 2;
      reinforce -= ep.A[s * B + r] * gaussian_log_prob(ep.l_raw.data() + at, ep.mu.data() + at, c.sigma);
      if (c.baseline == BaselineKind::state || s == 0) baseline += std::pow(ep.b[s * B + r] - ep.R[s * B + r], 2);
      reward += ep.r[s * B + r];
    }
  }
  CHECK(loss.nll == doctest::Approx(kWeights.nll / B * nll).epsilon(1e-13));
  CHECK(loss.reinforce == doctest::Approx(kWeights.reinforce / B * reinforce).epsilon(1e-13));
  CHECK(loss.baseline == doctest::Approx(kWeights.baseline / B * baseline).epsilon(1e-13));
  CHECK(loss.reward == doctest::Approx(reward).epsilon(1e-13));
  CHECK(loss.correct == correct);
  CHECK(correct == 1);  // the setup labels image 0, and only it, with its prediction
}

TEST_CASE("episode: the loss terms episode_backward returns are the hybrid loss written out") {
  int seed = 10;
  for (const Setup& setup : setups()) {
    const std::string setup_name = setup.name;
    CAPTURE(setup_name);
    EpisodeCheck check(setup, ++seed);
    check_loss_written_out(check);
  }
}

// ---------------------------------------------------------------------------
// Gradient checks.

TEST_CASE("episode: random directions over every parameter at once") {
  for_every_setup_and_routing(20, [](const LossWeights& weights, const Setup& setup, int seed) {
    EpisodeCheck check(setup, seed);
    const std::vector<real> grad = check.gradient(weights);
    // Not a vacuous comparison: the gradient is far from zero (a projection
    // on a random direction is about |grad| / sqrt(size) of it).
    const double grad_norm = std::sqrt(fd::dot(grad.data(), grad.data(), grad.size()));
    CHECK(grad_norm > 0.1);
    Rng rng(mix_key(kSeed, seed, 2));
    for (int k = 0; k < 4; ++k) {
      CAPTURE(k);
      const std::vector<real> d = fd::random_direction(rng, check.params.size());
      check.check_direction(weights, grad, d);
      // Moving every parameter moves the locations too.
      check.real_forward_at(d, fd::kStep);
      CHECK_FALSE(bitwise_equal(check.ep.l, check.base.l));
    }
    CHECK(check.kinks_crossed == 0);
  });
}

TEST_CASE("episode: a random direction within each parameter block") {
  for_every_setup_and_routing(30, [](const LossWeights& weights, const Setup& setup, int seed) {
    EpisodeCheck check(setup, seed);
    const std::vector<real> grad = check.gradient(weights);
    Rng rng(mix_key(kSeed, seed, 3));
    for (const ParamBlock& block : check.params.blocks()) {
      CAPTURE(block.name);
      check.check_direction(weights, grad, block_direction(rng, check.params.size(), block));
    }
    CHECK(check.kinks_crossed == 0);
  });
}

TEST_CASE("episode: every parameter element") {
  for_every_setup_and_routing(40, [](const LossWeights& weights, const Setup& setup, int seed) {
    EpisodeCheck check(setup, seed);
    check.gradient(weights);  // into check.grads
    std::set<std::string> all;
    for (const ParamBlock& block : check.params.blocks()) all.insert(block.name);
    fd::check_parameter_gradients(check.params, check.grads, all,
                                  [&] { return check.loss(weights); });
    CHECK(check.kinks_crossed == 0);
  });
}

// ---------------------------------------------------------------------------
// Routing of the hybrid loss, as written at the top of reinforce.cpp.

TEST_CASE("episode: which loss trains which parameters") {
  int seed = 50;
  for (const bool into_core : {false, true})
  for (const Setup& setup : setups()) {
    const std::string setup_name = setup.name;
    CAPTURE(setup_name);
    CAPTURE(into_core);
    EpisodeCheck check(setup, ++seed);
    const LossWeights only_nll{1, 0, 0, into_core}, only_reinforce{0, 1, 0, into_core};
    const LossWeights only_baseline{0, 0, 1, into_core};
    const LossWeights all{kWeights.nll, kWeights.reinforce, kWeights.baseline, into_core};
    const LossWeights no_reinforce{kWeights.nll, 0, kWeights.baseline, into_core};
    const std::vector<real> g_all = check.gradient(all);
    const std::vector<real> g_nll = check.gradient(only_nll);
    const std::vector<real> g_rf = check.gradient(only_reinforce);
    const std::vector<real> g_bl = check.gradient(only_baseline);
    const std::vector<real> g_no_rf = check.gradient(no_reinforce);
    std::vector<real> diff(g_all.size());  // what switching the REINFORCE weight on changes
    for (std::size_t i = 0; i < diff.size(); ++i) diff[i] = g_all[i] - g_no_rf[i];
    Rng rng(mix_key(kSeed, seed, 4));
    for (const ParamBlock& block : check.params.blocks()) {
      CAPTURE(block.name);
      const bool action = starts_with(block.name, "action.");
      const bool baseline = starts_with(block.name, "baseline.");
      const bool locator = starts_with(block.name, "locator.");
      // Each term leaves the blocks it does not reach at exactly zero.
      // L_nll: action network, core, glimpse network; not the locator, not the baseline.
      if (locator || baseline) CHECK(block_norm(g_nll, block) == 0);
      // L_reinforce: the locator alone by default; with into_core also,
      // through mu_t, the core and glimpse network of earlier steps; never
      // the action network or the baseline.
      const bool reached_by_reinforce = into_core ? (!action && !baseline) : locator;
      if (!reached_by_reinforce) CHECK(block_norm(g_rf, block) == 0);
      // L_baseline: the baseline alone.
      if (!baseline) CHECK(block_norm(g_bl, block) == 0);
      // Switching the REINFORCE weight on leaves the gradients it does not
      // reach bit for bit.
      if (!reached_by_reinforce) CHECK(block_norm(diff, block) == 0);
      // The whole is the weighted sum of its parts, up to rounding: the sums
      // run in another order, and an element's terms may cancel, so the
      // rounding is measured against the block's largest terms (seen: up to
      // 3e-15 of them over 8 draws of every setup).
      double scale = 0;
      for (std::size_t i = block.offset; i < block.offset + block.size; ++i)
        scale = std::max(scale, std::abs(kWeights.nll * g_nll[i]) + std::abs(kWeights.reinforce * g_rf[i]) +
                                    std::abs(kWeights.baseline * g_bl[i]));
      for (std::size_t i = block.offset; i < block.offset + block.size; ++i) {
        CAPTURE(i);
        const double sum = kWeights.nll * g_nll[i] + kWeights.reinforce * g_rf[i] + kWeights.baseline * g_bl[i];
        CHECK(std::abs(g_all[i] - sum) <= 1e-12 * scale);
      }
      // And each part is the gradient of its own term, by finite differences.
      const std::vector<real> d = block_direction(rng, check.params.size(), block);
      for (const auto& [name, weights, g] :
           {std::tuple<const char*, LossWeights, const std::vector<real>*>{"nll", only_nll, &g_nll},
            {"reinforce", only_reinforce, &g_rf},
            {"baseline", only_baseline, &g_bl}}) {
        const std::string term = name;
        CAPTURE(term);
        const double numeric = fd::directional_difference(check.params.data(), d.data(), d.size(),
                                                          [&, w = weights] { return check.loss(w); });
        CHECK(fd::dot(g->data(), d.data(), d.size()) == fd::near(numeric));
      }
    }
    // And each term does reach what it trains, seen on blocks whose gradient
    // no draw can make zero (a relu layer's can be: with 5 units, all may be
    // off for every image and glimpse):
    //   L_nll       action.b: sum_b (p_b - y_b), never zero as p_b < 1;
    //   L_reinforce locator.b: at glimpse 1, mu_1 = hardtanh(b) with |b| <=
    //               0.5 is not saturated, and the advantage is not zero; with
    //               into_core and a smooth core (LSTM, GRU) also core.in.b;
    //   L_baseline  baseline.b: sum_t,b 2 (b_t - R_t).
    const auto norm_of = [&](const std::vector<real>& g, const std::string& name) {
      for (const ParamBlock& block : check.params.blocks())
        if (block.name == name) return block_norm(g, block);
      FAIL("no block " << name);
      return 0.0;
    };
    CHECK(norm_of(g_nll, "action.b") > 0);
    CHECK(norm_of(g_rf, "locator.b") > 0);
    CHECK(norm_of(diff, "locator.b") > 0);
    CHECK(norm_of(g_bl, "baseline.b") > 0);
    if (into_core && setup.config.core != CoreKind::rnn) {
      CHECK(norm_of(g_rf, "core.in.b") > 0);
      CHECK(norm_of(diff, "core.in.b") > 0);
    }
    CHECK(check.kinks_crossed == 0);
  }
}

TEST_CASE("episode: what the analytic gradient is not (locations re-drawn with the same noise)") {
  // With the noise fixed, episode_forward at theta' draws l_raw = mu(theta') +
  // sigma * noise, so l_raw - mu and hence log pi(l_raw | mu) do not depend on
  // theta' at all: differencing that loss finds no REINFORCE gradient in the
  // locator. The REINFORCE gradient is the score function, with the action
  // l_raw held fixed; this is why the finite-difference loss above holds it.
  EpisodeCheck check(setups()[0], 60);
  const LossWeights only_reinforce{0, 1, 0};
  const std::vector<real> grad = check.gradient(only_reinforce);
  for (const ParamBlock& block : check.params.blocks()) {
    if (block.name != "locator.b") continue;
    Rng rng(mix_key(kSeed, 60, 5));
    const std::vector<real> d = block_direction(rng, check.params.size(), block);
    auto redrawn_loss = [&] {
      episode_forward(check.params, check.ep, Locations::sample);
      copy_tensor(check.ep.R, check.base.R);
      copy_tensor(check.ep.A, check.base.A);
      check.scratch.zero();
      const EpisodeLoss e = episode_backward(check.params, check.scratch, check.ep, only_reinforce, check.B);
      return e.reinforce;
    };
    const double redrawn = fd::directional_difference(check.params.data(), d.data(), d.size(), redrawn_loss);
    const double analytic = fd::dot(grad.data(), d.data(), d.size());
    CHECK(std::fabs(analytic) > 1e-2);
    CHECK(std::fabs(redrawn) < 1e-6 * std::fabs(analytic));
  }
}

TEST_CASE("episode: random locations (--locations random): the classification loss alone, nothing to the policy") {
  // The sensor looks at places drawn uniformly from [-1, 1]^2, which no
  // parameter moves, so here the loss is a plain function of the parameters,
  // differentiated as it is, with nothing held:
  //   L = w_nll / B * sum_b -logp[b, y_b].
  // There is no policy to reinforce and no return to predict (ram.cpp): the
  // locator's and the baseline's gradients must be exactly zero, which
  // check_parameter_gradients demands of every block it is not given.
  int seed = 80;
  for (const Setup& setup : setups()) {
    const std::string setup_name = setup.name;
    CAPTURE(setup_name);
    ModelConfig c = setup.config;
    c.locations = LocationSource::random;
    const int B = setup.B, A = c.classes;
    Episode ep(c, setup.capacity);
    Parameters params(c), grads(c);
    params.init_uniform(mix_key(kSeed, ++seed), setup.init_range);
    Rng rng(mix_key(kSeed, seed, 1));
    std::vector<std::vector<uint8_t>> pixels(B, std::vector<uint8_t>(c.channels * c.height * c.width));
    ep.resize(B);
    for (int r = 0; r < B; ++r) {
      for (auto& v : pixels[r]) v = static_cast<uint8_t>(rng.below(256));
      ep.images[r] = pixels[r].data();
      ep.labels[r] = static_cast<uint8_t>(rng.below(A));
      ep.draw_locations(r, mix_key(kSeed, seed, 2, r), Locations::given);
    }
    episode_forward(params, ep, Locations::given);
    const std::vector<char> sides0 = kink_sides(ep);
    episode_rewards(ep);
    grads.zero();
    const EpisodeLoss loss = episode_backward(params, grads, ep, kWeights, B);
    CHECK(loss.reinforce == 0);
    CHECK(loss.baseline == 0);
    int kinks_crossed = 0;
    const auto nll = [&] {
      episode_forward(params, ep, Locations::given);
      kinks_crossed += kink_sides(ep) != sides0;
      double sum = 0;
      for (int r = 0; r < B; ++r) sum -= ep.logp[r * A + ep.labels[r]];
      return kWeights.nll * sum / B;
    };
    CHECK(loss.nll == doctest::Approx(nll()).epsilon(1e-13));
    std::set<std::string> trained;
    for (const ParamBlock& block : params.blocks())
      if (!starts_with(block.name, "locator") && !starts_with(block.name, "baseline")) trained.insert(block.name);
    fd::check_parameter_gradients(params, grads, trained, nll);
    CHECK(kinks_crossed == 0);
  }
}

// ---------------------------------------------------------------------------
// Rewards, returns and advantages, by hand (rewards.cpp, reinforce.cpp).

TEST_CASE("rewards: classification reward, returns and advantages computed by hand") {
  const int B = 2, T = 3, A = 3;
  // logp_T: image 0 has p = (0.2, 0.5, 0.3) and label 1: argmax 1 is right, r_T = 1.
  //         image 1 has p = (0.6, 0.3, 0.1) and label 2: argmax 0 is wrong, r_T = 0.
  const real logp_T[B * A] = {std::log(real(0.2)), std::log(real(0.5)), std::log(real(0.3)),
                              std::log(real(0.6)), std::log(real(0.3)), std::log(real(0.1))};
  const uint8_t labels[B] = {1, 2};
  real r[T * B];
  std::fill(r, r + T * B, real(9));  // every earlier reward must be overwritten with 0
  classification_reward(B, T, A, logp_T, labels, r);
  // r [T, B] = t1: (0, 0), t2: (0, 0), t3: (1, 0)
  const real r_expected[T * B] = {0, 0, 0, 0, 1, 0};
  for (int i = 0; i < T * B; ++i) {
    CAPTURE(i);
    CHECK(r[i] == r_expected[i]);
  }
  // Terminal reward only: every step's return is r_T, R = t1 (1, 0), t2 (1, 0), t3 (1, 0).
  real R[T * B];
  returns_from_rewards(B, T, r, R);
  const real R_terminal[T * B] = {1, 0, 1, 0, 1, 0};
  for (int i = 0; i < T * B; ++i) {
    CAPTURE(i);
    CHECK(R[i] == R_terminal[i]);
  }
  // Rewards at every step, r [T, B] = t1 (0.5, -1), t2 (0, 2), t3 (1, 0.25):
  //   R_3 = r_3             = (1, 0.25)
  //   R_2 = r_2 + R_3 = (0 + 1, 2 + 0.25)    = (1, 2.25)
  //   R_1 = r_1 + R_2 = (0.5 + 1, -1 + 2.25) = (1.5, 1.25)
  const real r_dense[T * B] = {0.5, -1, 0, 2, 1, 0.25};
  returns_from_rewards(B, T, r_dense, R);
  const real R_dense[T * B] = {1.5, 1.25, 1, 2.25, 1, 0.25};
  for (int i = 0; i < T * B; ++i) {
    CAPTURE(i);
    CHECK(R[i] == R_dense[i]);
  }
  // Advantages A = R - b with b [T, B] = t1 (0.25, 0.5), t2 (1, 1), t3 (0.5, -0.75):
  //   A = t1 (1.5 - 0.25, 1.25 - 0.5) = (1.25, 0.75)
  //       t2 (1 - 1, 2.25 - 1)        = (0, 1.25)
  //       t3 (1 - 0.5, 0.25 + 0.75)   = (0.5, 1)
  const real b[T * B] = {0.25, 0.5, 1, 1, 0.5, -0.75};
  real adv[T * B];
  reinforce_advantage(B, T, R, b, adv);
  const real adv_expected[T * B] = {1.25, 0.75, 0, 1.25, 0.5, 1};
  for (int i = 0; i < T * B; ++i) {
    CAPTURE(i);
    CHECK(adv[i] == adv_expected[i]);
  }
}

// ---------------------------------------------------------------------------
// The REINFORCE estimator on a problem with a known answer.

TEST_CASE("rewards: the seed's output-change and low-std rewards, and their returns, by hand") {
  // B = 1, T = 2, A = 3. O [T + 1, B, A] = O_0, O_1, O_2 (any numbers will do):
  const real O[9] = {0, 0, 0, 3, 4, 0, 3, 4, 12};
  // change, coef 0.5: ||O_1 - O_0|| = ||(3, 4, 0)|| = 5, ||O_2 - O_1|| = ||(0, 0, 12)|| = 12,
  // added to the classification rewards r = (0, 1): r = (2.5, 7); R = (9.5, 7).
  real r[2] = {0, 1}, R[2];
  output_change_reward(1, 2, 3, O, 0.5, r);
  CHECK(r[0] == doctest::Approx(2.5));
  CHECK(r[1] == doctest::Approx(7));
  returns_from_rewards(1, 2, r, R);
  CHECK(R[0] == doctest::Approx(9.5));
  CHECK(R[1] == doctest::Approx(7));
  // lowstd, coef 0.01: O_1 = (3, 4, 0): mean 7/3, squares 4/9 + 25/9 + 49/9 = 78/9,
  // over A - 1 = 2: 39/9, std 2.0817; O_2 = (3, 4, 12): mean 19/3,
  // squares (100 + 49 + 289)/9 = 438/9, over 2: 219/9, std 4.9329.
  real s[2] = {0, 0};
  low_std_reward(1, 2, 3, O, 0.01, s);
  CHECK(s[0] == doctest::Approx(0.01 * std::sqrt(39.0 / 9)).epsilon(1e-12));
  CHECK(s[1] == doctest::Approx(0.01 * std::sqrt(219.0 / 9)).epsilon(1e-12));
  // A negative coefficient pays a low spread instead.
  real n[2] = {0, 0};
  low_std_reward(1, 2, 3, O, -1, n);
  CHECK(n[1] < n[0]);
  // The seed's code's change reward, coef 2, against z_ref = (3, 0, 0):
  // ||O_1 - z_ref|| = ||(0, 4, 0)|| = 4, ||O_2 - z_ref|| = ||(0, 4, 12)|| = sqrt(160),
  // so c = (8, 2 sqrt(160)) = (8, 25.298...); written into c, not added.
  const real z_ref[3] = {3, 0, 0};
  real c[2] = {7, 7};
  reference_change_reward(1, 2, 3, O, z_ref, 2, c);
  CHECK(c[0] == doctest::Approx(8).epsilon(1e-12));
  CHECK(c[1] == doctest::Approx(2 * std::sqrt(160.0)).epsilon(1e-12));
  // Two images: image b against z_ref's row b. O_1 rows (1, 1, 1) and (0, 0, 0)
  // against rows (1, 1, 1) and (0, 3, 4): c = (0, 5).
  const real O2[12] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0};
  const real z2[6] = {1, 1, 1, 0, 3, 4};
  real c2[2];
  reference_change_reward(2, 1, 3, O2, z2, 1, c2);
  CHECK(c2[0] == 0);
  CHECK(c2[1] == doctest::Approx(5).epsilon(1e-12));
}

TEST_CASE("rewards: change-code pays ||O_t - z_ref|| to each step apart, its gradient reaches the locator alone") {
  for (const bool into_core : {false, true})
  for (const Setup& setup : {setups()[0], setups()[3]}) {  // the linear and the LSTM locator
    const std::string setup_name = setup.name;
    CAPTURE(setup_name);
    CAPTURE(into_core);
    EpisodeCheck check(setup, 88);
    const ModelConfig& c = check.config;
    const int T = c.glimpses, B = check.B, A = c.classes;
    const LossWeights weights{kWeights.nll, kWeights.reinforce, kWeights.baseline, into_core};
    Episode& ep = check.ep;
    // The classification reward alone: gradient g_classify.
    episode_forward(check.params, ep, Locations::sample);
    episode_rewards(ep);
    const std::vector<real> r_classify(ep.r.data(), ep.r.data() + T * B);
    const std::vector<real> R_classify(ep.R.data(), ep.R.data() + T * B);
    check.grads.zero();
    const EpisodeLoss loss_classify = episode_backward(check.params, check.grads, ep, weights, B);
    const std::vector<real> g_classify(check.grads.data(), check.grads.data() + check.grads.size());
    // change-code, coef 0.7, against a reference of B rows.
    Rng rng(mix_key(kSeed, 88, 1));
    const std::vector<real> z_ref = fd::uniform_vector(rng, B * A, -1, 1);
    ep.reward = RewardConfig{RewardKind::change_code, 0.7};
    ep.reference = z_ref.data();
    episode_forward(check.params, ep, Locations::sample);
    episode_rewards(ep);
    // r and R are the classification reward's; c_t is coef ||O_t - z_ref|| (O_t the logits).
    CHECK(std::equal(r_classify.begin(), r_classify.end(), ep.r.data()));
    CHECK(std::equal(R_classify.begin(), R_classify.end(), ep.R.data()));
    for (int s = 0; s < T; ++s)
      for (int b = 0; b < B; ++b) {
        double squared = 0;
        for (int a = 0; a < A; ++a)
          squared += std::pow(ep.O[(static_cast<std::size_t>(s + 1) * B + b) * A + a] - z_ref[b * A + a], 2);
        CHECK(ep.immediate[s * B + b] == doctest::Approx(0.7 * std::sqrt(squared)).epsilon(1e-12));
      }
    check.grads.zero();
    const EpisodeLoss loss_code = episode_backward(check.params, check.grads, ep, weights, B);
    // The extra gradient is the component's, summed over the steps, and lies
    // in the locator's blocks alone, under either routing.
    Parameters extra(c);
    extra.zero();
    double surrogate = 0;
    for (int s = T - 1; s >= 0; --s)
      surrogate += immediate_reinforce_backward(c, check.params.views(), extra.views(), ep.step(s - 1), ep.step(s),
                                                ep.step_only_grads(s));
    CHECK(loss_code.reinforce == doctest::Approx(loss_classify.reinforce + surrogate).epsilon(1e-12));
    CHECK(loss_code.nll == loss_classify.nll);
    CHECK(loss_code.baseline == loss_classify.baseline);
    for (const ParamBlock& block : check.params.blocks()) {
      CAPTURE(block.name);
      double moved = 0;
      for (std::size_t i = block.offset; i < block.offset + block.size; ++i) {
        CAPTURE(i);
        const double diff = check.grads.data()[i] - g_classify[i];
        CHECK(diff == doctest::Approx(extra.data()[i]).epsilon(1e-10).scale(1e-8));
        moved += std::fabs(diff);
      }
      CHECK((moved > 0) == starts_with(block.name, "locator."));
    }
  }
}

TEST_CASE("rewards: an episode with the change reward reads the classifier on every state") {
  const Setup setup = setups()[0];
  EpisodeCheck check(setup, 77);
  Episode& ep = check.ep;
  const int T = setup.config.glimpses, B = ep.B, A = setup.config.classes;
  // --reward-output logprobs: O_T is the classifier's output on h_T, O_0 is
  // log_softmax of its bias.
  ep.reward = RewardConfig{RewardKind::change, 0.5, RewardOutput::logprobs};
  episode_forward(check.params, ep, Locations::sample);
  for (int i = 0; i < B * A; ++i) CHECK(ep.O[static_cast<std::size_t>(T) * B * A + i] == ep.logp[i]);
  std::vector<real> O0(check.params.views().action.b, check.params.views().action.b + A);
  log_softmax_rows(1, A, O0.data());
  for (int a = 0; a < A; ++a) CHECK(ep.O[a] == doctest::Approx(O0[a]).epsilon(1e-12));
  // The default, logits (the seed's code): O_0 is the bias itself, and every
  // O_t's log_softmax is the log-probabilities just seen.
  const std::vector<real> logprobs(ep.O.data(), ep.O.data() + static_cast<std::size_t>(T + 1) * B * A);
  ep.reward = RewardConfig{RewardKind::change, 0.5};
  CHECK(ep.reward.output == RewardOutput::logits);
  episode_forward(check.params, ep, Locations::sample);
  for (int a = 0; a < A; ++a) CHECK(ep.O[a] == check.params.views().action.b[a]);
  for (int row = 0; row < (T + 1) * B; ++row) {
    std::vector<real> z(ep.O.data() + static_cast<std::size_t>(row) * A, ep.O.data() + static_cast<std::size_t>(row + 1) * A);
    log_softmax_rows(1, A, z.data());
    for (int a = 0; a < A; ++a) CHECK(z[a] == doctest::Approx(logprobs[static_cast<std::size_t>(row) * A + a]).epsilon(1e-12));
  }
  episode_rewards(ep);
  // Every step earns its change; the last also its classification reward.
  for (int s = 0; s < T; ++s) {
    for (int b = 0; b < B; ++b) {
      double squared = 0;
      for (int a = 0; a < A; ++a) {
        const double d = ep.O[(static_cast<std::size_t>(s + 1) * B + b) * A + a] - ep.O[(static_cast<std::size_t>(s) * B + b) * A + a];
        squared += d * d;
      }
      const double classification = s == T - 1 ? (episode_prediction(ep, b) == ep.labels[b]) : 0;
      CHECK(ep.r[static_cast<std::size_t>(s) * B + b] == doctest::Approx(classification + 0.5 * std::sqrt(squared)).epsilon(1e-12));
    }
  }
  // And the returns are their sums from each step on.
  for (int b = 0; b < B; ++b) {
    double R = 0;
    for (int s = T - 1; s >= 0; --s) {
      R += ep.r[static_cast<std::size_t>(s) * B + b];
      CHECK(ep.R[static_cast<std::size_t>(s) * B + b] == doctest::Approx(R).epsilon(1e-12));
    }
  }
}

TEST_CASE("rewards: the seed's rewards through a whole episode: every step's own return, in the loss and its gradient") {
  // With the classification reward alone every R_t is r_T, so a backward
  // pass that read R_1 (or R_T) in place of R_t would pass every check
  // above. The seed's rewards pay every step, so R_t differs from step to
  // step; the episode API computes them (episode_rewards), whichever form of
  // the classifier's output they read. Checked: the returns do differ, the
  // loss terms are the hybrid loss written out with each step's R_t and A_t,
  // and the gradient is that loss's, by finite differences along random
  // directions over every parameter and within each block.
  int seed = 90;
  for (const RewardConfig& reward : {RewardConfig{RewardKind::change, 4}, RewardConfig{RewardKind::lowstd, 4}})
    for (const LossWeights& weights : {kWeights, kWeightsIntoCore})
      for (const Setup& setup : setups()) {
        const std::string setup_name = setup.name;
        CAPTURE(setup_name);
        const bool change = reward.kind == RewardKind::change, into_core = weights.reinforce_into_core;
        CAPTURE(change);
        CAPTURE(into_core);
        EpisodeCheck check(setup, ++seed, reward);
        const int T = setup.config.glimpses, B = check.B;
        double spread = 0;  // the largest |R_1 - R_T| over the images
        for (int b = 0; b < B; ++b)
          spread = std::max(spread, std::fabs(double(check.base.R[b]) - check.base.R[(T - 1) * B + b]));
        CHECK(spread > 0.01);
        check_loss_written_out(check);
        const std::vector<real> grad = check.gradient(weights);
        Rng rng(mix_key(kSeed, seed, 5));
        for (int k = 0; k < 2; ++k) {
          CAPTURE(k);
          check.check_direction(weights, grad, fd::random_direction(rng, check.params.size()));
        }
        for (const ParamBlock& block : check.params.blocks()) {
          CAPTURE(block.name);
          check.check_direction(weights, grad, block_direction(rng, check.params.size(), block));
        }
        CHECK(check.kinks_crossed == 0);
      }
}

TEST_CASE("REINFORCE: the estimator's mean is the true gradient, sign included; a baseline cuts its variance") {
  // One location, no state: h_prev == nullptr, so mu = hardtanh(b_loc) = b_loc
  // for b_loc = (0.3, -0.2). Reward f(l_raw) = -|l_raw - c|^2 with c = (0.5, 0.1)
  // and l_raw ~ N(mu, sigma^2 I), sigma = 0.22:
  //   E f        = -|mu - c|^2 - 2 sigma^2 = -(0.04 + 0.09) - 0.0968 = -0.2268
  //   dE f / db  = -2 (mu - c) = -2 (-0.2, -0.3) = (0.4, 0.6)
  // reinforce_backward adds the gradient of the LOSS -w log pi with
  // w = f - baseline, so the estimate of dE f / db is MINUS grad.locator.b.
  ModelConfig c = tiny_config(1, 3, 1, 3, 5, 4, 6, 6, 4);
  c.sigma = 0.22;
  const int N = 20000;
  const double target[2] = {0.5, 0.1};
  const double b_loc[2] = {0.3, -0.2};
  const double true_grad[2] = {-2 * (b_loc[0] - target[0]), -2 * (b_loc[1] - target[1])};
  const double expected_f = -(std::pow(b_loc[0] - target[0], 2) + std::pow(b_loc[1] - target[1], 2)) -
                            2 * c.sigma * c.sigma;
  REQUIRE(expected_f == doctest::Approx(-0.2268).epsilon(1e-12));
  Parameters params(c), grads(c);
  params.zero();
  params.views().locator.b[0] = static_cast<real>(b_loc[0]);
  params.views().locator.b[1] = static_cast<real>(b_loc[1]);

  // N episodes of one step each, drawn from the location network with
  // seeded standard normals: one image per row of a step of N rows.
  Rng rng(mix_key(kSeed, 70));
  std::vector<real> noise(2 * N), mu_pre(2 * N), mu(2 * N), l_raw(2 * N), l(2 * N), f(N), adv(N);
  for (auto& z : noise) z = static_cast<real>(rng.normal());
  Step prev, all;  // prev: h_0 = 0
  all.B = N;
  all.noise = noise.data();
  all.mu_pre = mu_pre.data();
  all.mu = mu.data();
  all.l_raw = l_raw.data();
  all.l = l.data();
  all.A = adv.data();
  location_network_forward(c, params.views(), prev, all, Locations::sample);
  for (int i = 0; i < N; ++i)
    f[i] = static_cast<real>(-(std::pow(l_raw[2 * i] - target[0], 2) + std::pow(l_raw[2 * i + 1] - target[1], 2)));
  // One image alone: the step's row i, with advantage A = f - baseline.
  auto row = [&](int i) {
    Step one = all;
    one.B = 1;
    one.mu_pre += 2 * i;
    one.mu += 2 * i;
    one.l_raw += 2 * i;
    one.A += i;
    return one;
  };
  std::vector<real> w(N), dmu(2 * N);
  StepGrads scratch;
  scratch.w = w.data();
  scratch.dmu = dmu.data();
  const LossWeights only_reinforce{0, 1, 0};

  // Per-sample estimates -grad.locator.b, with no baseline and with the
  // constant baseline E f (a batch of M = 1, w_reinforce = 1: w = A). That
  // one is --baseline constant's b = 1 + c, from baseline_forward, with
  // c = E f - 1.
  struct Stats {
    double mean[2], var[2];
  };
  std::vector<real> est[2] = {std::vector<real>(2 * N), std::vector<real>(2 * N)};
  ModelConfig constant = c;
  constant.baseline = BaselineKind::constant;
  Parameters baseline_params(constant);
  baseline_params.views().baseline.b[0] = static_cast<real>(expected_f - 1);
  real b_constant = 0;
  Step baseline_step;
  baseline_step.B = 1;
  baseline_step.b = &b_constant;
  baseline_forward(constant, baseline_params.views(), Step{}, baseline_step);
  REQUIRE(b_constant == doctest::Approx(expected_f).epsilon(1e-12));
  const double baselines[2] = {0.0, b_constant};
  Stats stats[2];
  for (int k = 0; k < 2; ++k) {
    for (int i = 0; i < N; ++i) {
      adv[i] = static_cast<real>(f[i] - baselines[k]);
      grads.zero();
      reinforce_backward(c, params.views(), grads.views(), prev, row(i), only_reinforce, 1, scratch);
      est[k][2 * i] = -grads.views().locator.b[0];
      est[k][2 * i + 1] = -grads.views().locator.b[1];
    }
    for (int d = 0; d < 2; ++d) {
      double sum = 0, sum2 = 0;
      for (int i = 0; i < N; ++i) sum += est[k][2 * i + d];
      const double mean = sum / N;
      for (int i = 0; i < N; ++i) sum2 += std::pow(est[k][2 * i + d] - mean, 2);
      stats[k].mean[d] = mean;
      stats[k].var[d] = sum2 / (N - 1);
    }
  }
  for (int d = 0; d < 2; ++d) {
    CAPTURE(d);
    for (int k = 0; k < 2; ++k) {
      CAPTURE(baselines[k]);
      const double se = std::sqrt(stats[k].var[d] / N);
      CAPTURE(stats[k].mean[d]);
      CAPTURE(se);
      CHECK(std::fabs(stats[k].mean[d] - true_grad[d]) < 4 * se);
      CHECK(se < 0.1 * std::fabs(true_grad[d]));          // the sign is resolved...
      CHECK((stats[k].mean[d] > 0) == (true_grad[d] > 0));  // ...and right
    }
    // The baseline leaves the mean alone (paired difference within 4 standard
    // errors of 0) and cuts the variance.
    double sum = 0, sum2 = 0;
    for (int i = 0; i < N; ++i) sum += est[0][2 * i + d] - est[1][2 * i + d];
    const double mean_diff = sum / N;
    for (int i = 0; i < N; ++i) sum2 += std::pow(est[0][2 * i + d] - est[1][2 * i + d] - mean_diff, 2);
    CHECK(std::fabs(mean_diff) < 4 * std::sqrt(sum2 / (N - 1) / N));
    CHECK(stats[1].var[d] < 0.5 * stats[0].var[d]);
  }

  // The batch form sums over images and divides by M: all N at once, A = f - E f,
  // gives minus the mean estimate.
  for (int i = 0; i < N; ++i) adv[i] = static_cast<real>(f[i] - expected_f);
  grads.zero();
  reinforce_backward(c, params.views(), grads.views(), prev, all, only_reinforce, N, scratch);
  for (int d = 0; d < 2; ++d) CHECK(-grads.views().locator.b[d] == doctest::Approx(stats[1].mean[d]).epsilon(1e-9));
}
