// grad_components.cpp: every backward pass of the model, one component at a
// time, against central finite differences in double precision (this file is
// compiled with -DRAM_DOUBLE, so `real` is double and gemm() is the naive loop).
//
// Each test builds a tiny layer (B = 3, widths 5-7), draws random inputs, and
// defines a scalar loss whose gradient the backward pass claims to compute:
// a fixed random projection of the layer's output, or the layer's own loss
// (REINFORCE surrogate, NLL, baseline regression). Every element of every
// gradient the backward writes is compared with (L(x+eps) - L(x-eps)) / 2eps
// by a relative error that keeps the sign (finite_difference.h); gradients it
// must not touch are checked to be exactly zero. Inputs are drawn away from
// the kinks of relu and hardtanh (kKinkMargin), so the loss is smooth within
// the step.
//
// The whole unrolled episode is checked in grad_episode.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "finite_difference.h"
#include "kernels/random.h"
#include "model/linear.h"
#include "model/lstm.h"
#include "model/ram.h"

namespace {

constexpr uint64_t kSeed = 20140624;  // every draw below derives from it
// Pre-activations are kept this far from a kink; an FD step moves them by
// about 1e-6, so the loss is smooth over the whole step.
constexpr double kKinkMargin = 1e-3;
constexpr int kSeedTries = 1000;  // redraws allowed to find inputs away from kinks

// A tiny model: G = K*C*P*P = 2*1*2*2 = 8, what 5, where 6, glimpse 7, H 6, A 5.
ModelConfig small_config() {
  ModelConfig c;
  c.channels = 1;
  c.height = 8;
  c.width = 8;
  c.classes = 5;
  c.glimpses = 4;
  c.patch = 2;
  c.scales = 2;
  c.glimpse_scale = 2;
  c.unit_pixels = 3;
  c.what_hidden = 5;
  c.where_hidden = 6;
  c.glimpse_hidden = 7;
  c.hidden = 6;
  c.sigma = 0.22;
  c.validate();
  return c;
}

double min_abs(const std::vector<real>& v) {
  double m = INFINITY;
  for (real x : v) m = std::min(m, std::fabs(static_cast<double>(x)));
  return m;
}

// Increments a backward pass added: after - before.
std::vector<real> added(const std::vector<real>& after, const std::vector<real>& before) {
  std::vector<real> d(after.size());
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = after[i] - before[i];
  return d;
}

}  // namespace

// ---------------------------------------------------------------------------
// linear.cpp

TEST_CASE("linear: forward, and dW, db, dx against central differences") {
  const int B = 3, in = 5, out = 4;
  // Strided rows, as when a layer reads or writes a column block of a wider buffer.
  const int ldx = in + 2, ldy = out + 3, lddx = in + 1;
  Rng rng(mix_key(kSeed, 1));
  std::vector<real> W = fd::uniform_vector(rng, in * out, -1, 1);     // [in, out]
  std::vector<real> bias = fd::uniform_vector(rng, out, -1, 1);       // [out]
  std::vector<real> x = fd::uniform_vector(rng, B * ldx, -1, 1);      // [B, in], row stride ldx
  std::vector<real> proj = fd::uniform_vector(rng, B * ldy, -1, 1);   // dL/dy, row stride ldy
  LinearParams p{W.data(), bias.data(), in, out};
  const real kSentinel = 12345;
  std::vector<real> y;
  // L = sum_{r, j < out} proj[r, j] y[r, j]
  auto loss = [&] {
    y.assign(B * ldy, kSentinel);
    linear_forward(B, x.data(), ldx, p, y.data(), ldy);
    double L = 0;
    for (int r = 0; r < B; ++r)
      for (int j = 0; j < out; ++j) L += proj[r * ldy + j] * y[r * ldy + j];
    return L;
  };
  std::vector<real> dW0 = fd::uniform_vector(rng, in * out, -1, 1);
  std::vector<real> db0 = fd::uniform_vector(rng, out, -1, 1);
  std::vector<real> dx0 = fd::uniform_vector(rng, B * lddx, -1, 1);

  SUBCASE("forward is x W + b and writes only its columns") {
    loss();
    for (int r = 0; r < B; ++r) {
      for (int j = 0; j < ldy; ++j) {
        CAPTURE(r);
        CAPTURE(j);
        if (j >= out) {
          CHECK(y[r * ldy + j] == kSentinel);
          continue;
        }
        double ref = bias[j];
        for (int k = 0; k < in; ++k) ref += x[r * ldx + k] * W[k * out + j];
        CHECK(y[r * ldy + j] == doctest::Approx(ref).epsilon(1e-14));
      }
    }
  }
  SUBCASE("adds into dW and db; accumulate_dx adds into dx") {
    std::vector<real> dW = dW0, db = db0, dx = dx0;
    LinearParams grad{dW.data(), db.data(), in, out};
    linear_backward(B, x.data(), ldx, proj.data(), ldy, p, grad, dx.data(), lddx,
                    /*accumulate_dx=*/true);
    fd::check_elements("W", W.data(), added(dW, dW0).data(), W.size(), loss);
    fd::check_elements("b", bias.data(), added(db, db0).data(), bias.size(), loss);
    const std::vector<real> ddx = added(dx, dx0);
    for (int r = 0; r < B; ++r) {
      CAPTURE(r);
      fd::check_elements("x", x.data() + r * ldx, ddx.data() + r * lddx, in, loss);
      for (int j = in; j < lddx; ++j) CHECK(dx[r * lddx + j] == dx0[r * lddx + j]);
    }
  }
  SUBCASE("accumulate_dx = false overwrites dx") {
    std::vector<real> dW = dW0, db = db0, dx = dx0;
    LinearParams grad{dW.data(), db.data(), in, out};
    linear_backward(B, x.data(), ldx, proj.data(), ldy, p, grad, dx.data(), lddx,
                    /*accumulate_dx=*/false);
    for (int r = 0; r < B; ++r) {
      CAPTURE(r);
      fd::check_elements("x", x.data() + r * ldx, dx.data() + r * lddx, in, loss);
      for (int j = in; j < lddx; ++j) CHECK(dx[r * lddx + j] == dx0[r * lddx + j]);
    }
  }
  SUBCASE("without bias, and without dx") {
    p.b = nullptr;
    std::vector<real> dW = dW0;
    LinearParams grad{dW.data(), nullptr, in, out};
    linear_backward(B, x.data(), ldx, proj.data(), ldy, p, grad, nullptr, 0, false);
    fd::check_elements("W (no bias)", W.data(), added(dW, dW0).data(), W.size(), loss);
  }
}

TEST_CASE("relu: backward against central differences") {
  const int B = 3, n = 5, ld = n + 2, lddy = n + 1;
  Rng rng(mix_key(kSeed, 2));
  // Pre-activations a with 0.1 <= |a| <= 1, both signs: no kink within reach.
  std::vector<real> a(B * ld);
  for (auto& v : a) v = static_cast<real>((rng.uniform() < 0.5 ? -1 : 1) * rng.uniform(0.1, 1));
  std::vector<real> proj = fd::uniform_vector(rng, B * lddy, -1, 1);
  // The rectifier comes with a layer's product (Activation::relu): with
  // W = I and b = 0 the layer is y = relu(a), exactly.
  std::vector<real> identity(n * n, 0), zero(n, 0);
  for (int j = 0; j < n; ++j) identity[j * n + j] = 1;
  const LinearParams unit{identity.data(), zero.data(), n, n};
  const real kSentinel = 12345;
  // L = sum_{r, j < n} proj[r, j] relu(a[r, j])
  std::vector<real> y;
  auto loss = [&] {
    y.assign(B * ld, kSentinel);
    linear_forward(B, a.data(), ld, unit, y.data(), ld, Activation::relu);
    double L = 0;
    for (int r = 0; r < B; ++r)
      for (int j = 0; j < n; ++j) L += proj[r * lddy + j] * y[r * ld + j];
    return L;
  };
  loss();
  for (int r = 0; r < B; ++r) {
    for (int j = 0; j < n; ++j) CHECK(y[r * ld + j] == std::max(a[r * ld + j], real(0)));
    for (int j = n; j < ld; ++j) CHECK(y[r * ld + j] == kSentinel);  // padding untouched
  }
  std::vector<real> da = proj;  // in place: dy becomes da
  relu_backward(B, n, y.data(), ld, da.data(), lddy);
  for (int r = 0; r < B; ++r) {
    CAPTURE(r);
    fd::check_elements("a", a.data() + r * ld, da.data() + r * lddy, n, loss);
    for (int j = n; j < lddy; ++j) CHECK(da[r * lddy + j] == proj[r * lddy + j]);
  }
}

// ---------------------------------------------------------------------------
// glimpse_network.cpp

TEST_CASE("glimpse_network: every parameter of what, where and join, summed over steps") {
  // T steps of B images each, laid out as an episode lays them out: step t's
  // rows start `cap` rows after step t-1's, and the rows between (cap > B)
  // belong to no image, so a weight gradient that read them, or summed fewer
  // or other steps, would miss the finite differences.
  const ModelConfig c = small_config();
  const int B = 3, T = 3, cap = B + 2, G = c.glimpse_features(), Nw = c.what_hidden, Nl = c.where_hidden;
  const int Ncat = Nw + Nl, Ng = c.glimpse_hidden;
  Parameters params(c), grads(c);
  std::vector<real> rho, l, proj;
  // Draws parameters and inputs until every pre-activation of the three relus
  // is at least kKinkMargin from zero.
  bool smooth = false;
  for (int attempt = 0; attempt < kSeedTries && !smooth; ++attempt) {
    Rng rng(mix_key(kSeed, 3, attempt));
    params.init_uniform(mix_key(kSeed, 3, attempt), 0.6);
    rho = fd::uniform_vector(rng, T * cap * G, 0, 1);     // [T, cap, G] retina values in [0, 1]
    l = fd::uniform_vector(rng, T * cap * 2, -1, 1);      // [T, cap, 2]
    proj = fd::uniform_vector(rng, T * cap * Ng, -1, 1);  // dL/dg_t
    const RamParams& p = params.views();
    std::vector<real> pre_cat(T * cap * Ncat), hcat(T * cap * Ncat), pre_g(T * cap * Ng);
    linear_forward(T * cap, rho.data(), G, p.what, pre_cat.data(), Ncat);
    linear_forward(T * cap, l.data(), 2, p.where, pre_cat.data() + Nw, Ncat);
    for (std::size_t i = 0; i < hcat.size(); ++i) hcat[i] = std::max(pre_cat[i], real(0));
    linear_forward(T * cap, hcat.data(), Ncat, p.join, pre_g.data(), Ng);
    smooth = min_abs(pre_cat) > kKinkMargin && min_abs(pre_g) > kKinkMargin;
  }
  REQUIRE(smooth);
  std::vector<real> hcat(T * cap * Ncat), g(T * cap * Ng);
  auto step = [&](int t) {
    Step now;
    now.B = B;
    now.rho = rho.data() + t * cap * G;
    now.l = l.data() + t * cap * 2;
    now.hcat = hcat.data() + t * cap * Ncat;
    now.g = g.data() + t * cap * Ng;
    return now;
  };
  // L = sum_t sum over the images' rows of proj_t . g_t
  auto loss = [&] {
    real L = 0;
    for (int t = 0; t < T; ++t) {
      glimpse_network_forward(c, params.views(), step(t));
      L += fd::dot(proj.data() + t * cap * Ng, g.data() + t * cap * Ng, B * Ng);
    }
    return L;
  };
  loss();
  grads.zero();
  std::vector<real> dg = proj, dhcat(T * cap * Ncat);
  auto step_grads = [&](int t) {
    StepGrads d;
    d.dg = dg.data() + t * cap * Ng;
    d.dhcat = dhcat.data() + t * cap * Ncat;
    return d;
  };
  for (int t = 0; t < T; ++t) glimpse_network_backward_rows(c, params.views(), step(t), step_grads(t));
  glimpse_network_backward_weights(c, params.views(), grads.views(), step(T - 1), step_grads(T - 1), T, cap);
  fd::check_parameter_gradients(params, grads,
                                {"glimpse.what.W", "glimpse.what.b", "glimpse.where.W",
                                 "glimpse.where.b", "glimpse.join.W", "glimpse.join.b"},
                                loss);
}

// ---------------------------------------------------------------------------
// core.cpp: core_rnn.cpp, core_lstm.cpp, core_gru.cpp

namespace {

// The core alone through the T steps of an Episode (ram.h), with its inputs
// g_t drawn into the episode's g and the loss L = sum_t proj_t . h_t, which
// reads every h_t as the model does (the locator and the baseline read
// h_{t-1}, the action network h_T). The backward pass is the episode's own:
// core_backward from t = T down to 1, then core_input_gradients and
// core_weight_gradients. A capacity above B runs the gated cores' dg_t and
// weights' share step by step, B == capacity in one product each.
struct CoreCheck {
  ModelConfig config;
  int B, T, H, Ng;
  Episode ep;
  Parameters params, grads;
  std::vector<real> proj;  // [T, B, H] dL/dh_t from the loss itself
  std::vector<real> dg;    // [T, B, Ng] dL/dg_t as the core wrote it

  CoreCheck(const ModelConfig& c, int batch, int capacity)
      : config(c), B(batch), T(c.glimpses), H(c.hidden), Ng(c.glimpse_hidden), ep(c, capacity), params(c),
        grads(c), dg(static_cast<std::size_t>(T) * B * Ng) {
    ep.resize(B);
  }

  // Parameters uniform in [-range, range], inputs g_t in [0, 1], proj in [-1, 1].
  void draw(uint64_t key, double range) {
    params.init_uniform(key, range);
    Rng rng(mix_key(key, 1));
    for (int s = 0; s < T; ++s) fd::fill_uniform(rng, ep.step(s).g, static_cast<std::size_t>(B) * Ng, 0, 1);
    proj = fd::uniform_vector(rng, static_cast<std::size_t>(T) * B * H, -1, 1);
  }

  double loss() {
    double L = 0;
    for (int s = 0; s < T; ++s) {
      const Step now = ep.step(s);
      core_forward(config, params.views(), ep.step(s - 1), now);
      L += fd::dot(proj.data() + static_cast<std::size_t>(s) * B * H, now.h, static_cast<std::size_t>(B) * H);
    }
    return L;
  }

  // Backpropagation through time, t = T..1: dh_prev starts as the loss's own
  // gradient at h_{t-1}, and the core adds what reaches it through h_t.
  void backward() {
    const std::size_t BH = static_cast<std::size_t>(B) * H;
    grads.zero();
    const StepGrads last = ep.grads(T - 1);
    std::copy(proj.end() - BH, proj.end(), last.dh);
    if (last.dc) std::fill(last.dc, last.dc + BH, real(0));
    const std::size_t BNg = static_cast<std::size_t>(B) * Ng;
    for (int s = 0; s < T; ++s) std::fill(ep.grads(s).dg, ep.grads(s).dg + BNg, real(7));  // must be overwritten
    for (int s = T - 1; s >= 0; --s) {
      const StepGrads d = ep.grads(s);
      if (d.dh_prev) std::copy(proj.begin() + (s - 1) * BH, proj.begin() + s * BH, d.dh_prev);
      core_backward(config, params.views(), grads.views(), ep.step(s - 1), ep.step(s), d);
    }
    core_input_gradients(config, params.views(), ep);
    core_weight_gradients(config, params.views(), grads.views(), ep);
    for (int s = 0; s < T; ++s) std::copy(ep.grads(s).dg, ep.grads(s).dg + BNg, dg.begin() + s * BNg);
  }

  // Every element of core.in.W, core.in.b, core.rec.W and of every g_t.
  void check() {
    loss();
    backward();
    auto L = [&] { return loss(); };
    fd::check_parameter_gradients(params, grads, {"core.in.W", "core.in.b", "core.rec.W"}, L);
    for (int t = 0; t < T; ++t) {
      CAPTURE(t);
      fd::check_elements("g_t", ep.step(t).g, dg.data() + static_cast<std::size_t>(t) * B * Ng,
                         static_cast<std::size_t>(B) * Ng, L);
    }
  }
};

}  // namespace

TEST_CASE("core_rnn: W_in, b, W_rec and every g_t through T = 4 steps") {
  const ModelConfig c = small_config();
  const int B = 3, T = c.glimpses, Ng = c.glimpse_hidden, H = c.hidden;
  REQUIRE(T >= 3);
  for (const int capacity : {B, B + 2}) {
    CAPTURE(capacity);
    CoreCheck check(c, B, capacity);
    bool smooth = false;
    for (int attempt = 0; attempt < kSeedTries && !smooth; ++attempt) {
      check.draw(mix_key(kSeed, 4, attempt), 0.6);
      // Pre-activations a_t = g_t W_in + b + h_{t-1} W_rec, written out here.
      const RamParams& p = check.params.views();
      std::vector<real> a(B * H), h_prev(B * H, 0), all_a;
      for (int t = 0; t < T; ++t) {
        linear_forward(B, check.ep.step(t).g, Ng, p.core_in, a.data(), H);
        for (int r = 0; r < B; ++r)
          for (int j = 0; j < H; ++j)
            for (int k = 0; k < H; ++k) a[r * H + j] += h_prev[r * H + k] * p.core_rec.W[k * H + j];
        all_a.insert(all_a.end(), a.begin(), a.end());
        for (int i = 0; i < B * H; ++i) h_prev[i] = std::max(a[i], real(0));
      }
      smooth = min_abs(all_a) > kKinkMargin;
    }
    REQUIRE(smooth);
    check.check();
  }
}

// The gated cores are smooth everywhere: no kinks to keep the draw away from.
void check_smooth_core(CoreKind core, uint64_t stream) {
  ModelConfig c = small_config();
  c.core = core;
  REQUIRE(c.glimpses >= 3);
  for (const int capacity : {3, 5}) {
    CAPTURE(capacity);
    CoreCheck check(c, 3, capacity);
    check.draw(mix_key(kSeed, stream), 0.6);
    check.check();
  }
}

TEST_CASE("core_lstm: W_in, b, W_rec and every g_t through T = 4 steps") { check_smooth_core(CoreKind::lstm, 9); }

TEST_CASE("core_gru: W_in, b, W_rec and every g_t through T = 4 steps") { check_smooth_core(CoreKind::gru, 12); }

TEST_CASE("core_gru: one unit, two steps, by hand") {
  // H = 1, glimpse width 1; W_in = [W_n W_z W_r] = [0.5 -1 2], b = [0.1 0.2 -0.3],
  // W_rec = [U_z U_r U_n] = [0.4 -0.6 1.5]; g_1 = 1, g_2 = -2.
  ModelConfig c = small_config();
  c.core = CoreKind::gru;
  c.glimpses = 2;
  c.glimpse_hidden = 1;
  c.hidden = 1;
  Episode ep(c, 1);
  ep.resize(1);
  Parameters params(c);
  params.zero();
  RamParams& p = params.views();
  const real W_in[3] = {0.5, -1, 2}, b[3] = {0.1, 0.2, -0.3}, W_rec[3] = {0.4, -0.6, 1.5};
  std::copy(W_in, W_in + 3, p.core_in.W);
  std::copy(b, b + 3, p.core_in.b);
  std::copy(W_rec, W_rec + 3, p.core_rec.W);
  ep.step(0).g[0] = 1;
  ep.step(1).g[0] = -2;
  for (int s = 0; s < 2; ++s) core_forward(c, p, ep.step(s - 1), ep.step(s));
  auto sigmoid = [](double x) { return 1 / (1 + std::exp(-x)); };
  // t = 1, h_0 = 0: z = sigmoid(-1 + 0.2), r = sigmoid(2 - 0.3), n = tanh(0.5 + 0.1 + r * 0),
  // h_1 = (1 - z) n = (1 - 0.31003) * 0.53705 = 0.37055.
  const double z1 = sigmoid(-0.8), n1 = std::tanh(0.6), h1 = (1 - z1) * n1;
  CHECK(ep.step(0).h[0] == doctest::Approx(h1).epsilon(1e-12));
  CHECK(h1 == doctest::Approx(0.37055).epsilon(1e-4));
  // t = 2: z = sigmoid(2 + 0.2 + 0.4 h_1), r = sigmoid(-4 - 0.3 - 0.6 h_1),
  // n = tanh(-1 + 0.1 + r * 1.5 h_1), h_2 = (1 - z) n + z h_1.
  const double z2 = sigmoid(2.2 + 0.4 * h1), r2 = sigmoid(-4.3 - 0.6 * h1);
  const double n2 = std::tanh(-0.9 + r2 * 1.5 * h1), h2 = (1 - z2) * n2 + z2 * h1;
  CHECK(ep.step(1).h[0] == doctest::Approx(h2).epsilon(1e-12));
  // The row keeps n, z, r and h_1 U_n.
  const Step two = ep.step(1);
  CHECK(two.gates[0] == doctest::Approx(n2).epsilon(1e-12));
  CHECK(two.gates[1] == doctest::Approx(z2).epsilon(1e-12));
  CHECK(two.gates[2] == doctest::Approx(r2).epsilon(1e-12));
  CHECK(two.gates[3] == doctest::Approx(1.5 * h1).epsilon(1e-12));
}

TEST_CASE("init: ours starts the LSTM forget biases at 1, the Torch code's leaves them uniform") {
  ModelConfig c = small_config();
  c.core = CoreKind::lstm;
  c.locator = LocatorKind::lstm;
  Parameters ours(c), torch(c);
  ours.init_uniform(3);
  torch.init_uniform(3, kInitRange, InitKind::torch);
  const int H = c.hidden;
  // The core's gate blocks i, f, o, u of width H; the locator's of width 2.
  for (int j = 0; j < 4 * H; ++j) {
    CAPTURE(j);
    const bool forget = j >= H && j < 2 * H;
    CHECK(ours.views().core_in.b[j] == (forget ? 1 : torch.views().core_in.b[j]));
    CHECK(std::abs(torch.views().core_in.b[j]) <= 0.1);
  }
  for (int j = 0; j < 8; ++j) {
    CAPTURE(j);
    const bool forget = j >= 2 && j < 4;
    CHECK(ours.views().locator.b[j] == (forget ? 1 : torch.views().locator.b[j]));
    CHECK(std::abs(torch.views().locator.b[j]) <= 0.1);
  }
  // Every other number is the same draw.
  std::size_t differ = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) differ += ours.data()[i] != torch.data()[i];
  CHECK(differ == static_cast<std::size_t>(H + 2));
}

// ---------------------------------------------------------------------------
// reinforce.cpp and location_network.cpp: seed equation 1

TEST_CASE("gaussian_log_prob: value, and the score function (l_raw - mu) / sigma^2, sign included") {
  Rng rng(mix_key(kSeed, 5));
  for (double sigma : {0.05, 0.22, 0.7}) {
    for (int trial = 0; trial < 4; ++trial) {
      real l_raw[2], mu[2];
      fd::fill_uniform(rng, l_raw, 2, -1, 1);
      fd::fill_uniform(rng, mu, 2, -1, 1);
      CAPTURE(sigma);
      CAPTURE(trial);
      // Value: the sum of two 1-d normal log-densities, written out independently.
      double log_density = 0;
      for (int d = 0; d < 2; ++d)
        log_density += -0.5 * std::pow((l_raw[d] - mu[d]) / sigma, 2) -
                       std::log(sigma * std::sqrt(2 * M_PI));
      CHECK(gaussian_log_prob(l_raw, mu, sigma) == doctest::Approx(log_density).epsilon(1e-12));
      for (int d = 0; d < 2; ++d) {
        CAPTURE(d);
        const double score = (l_raw[d] - mu[d]) / (sigma * sigma);  // d log pi / d mu_d
        const double numeric = fd::central_difference(
            &mu[d], [&] { return gaussian_log_prob(l_raw, mu, sigma); });
        CHECK(score == fd::near(numeric));
        // The sign alone, said plainly: the density grows as mu moves towards l_raw.
        CHECK((numeric > 0) == (l_raw[d] > mu[d]));
      }
    }
  }
}

TEST_CASE("reinforce_backward: seed equation 1 in W_loc, b_loc and h_prev, and the stop-gradient at h_prev") {
  const ModelConfig c = small_config();
  const int B = 3, H = c.hidden;
  Parameters params(c), grads(c);
  // Held fixed: the state h_prev, the actions (given locations, so that the
  // forward's l_raw is exactly them) and the advantages A (either sign).
  std::vector<real> h_prev, actions, adv;
  std::vector<real> mu_pre(B * 2), mu(B * 2), l_raw(B * 2), l(B * 2), w(B), dmu(B * 2);
  Step prev, now;
  now.B = B;
  now.mu_pre = mu_pre.data();
  now.mu = mu.data();
  now.l_raw = l_raw.data();
  now.l = l.data();
  StepGrads d;
  d.w = w.data();
  d.dmu = dmu.data();
  // With w_reinforce = 1 and a batch of M = 1, w_b = A_b:
  // L = -sum_b A_b log pi(l_raw_b | mu_b(theta, h_prev)).
  auto loss_from = [&](real* h) {
    prev.h = h;
    now.noise = actions.data();
    now.A = adv.data();
    location_network_forward(c, params.views(), prev, now, Locations::given);
    double L = 0;
    for (int r = 0; r < B; ++r) L -= adv[r] * gaussian_log_prob(&l_raw[2 * r], &mu[2 * r], c.sigma);
    return L;
  };

  SUBCASE("after the first step: W_loc, b_loc and h_prev; nothing into h_prev by default") {
    // Inputs with mu_pre at least kKinkMargin from +-1, at least one
    // coordinate inside (-1, 1) and one saturated, so both branches of the
    // hardtanh are checked.
    bool ok = false;
    for (int attempt = 0; attempt < kSeedTries && !ok; ++attempt) {
      Rng rng(mix_key(kSeed, 6, attempt));
      params.init_uniform(mix_key(kSeed, 6, attempt), 0.8);
      h_prev = fd::uniform_vector(rng, B * H, 0, 1.5);  // [B, H], a relu output
      actions = fd::uniform_vector(rng, B * 2, -1.2, 1.2);
      adv = fd::uniform_vector(rng, B, -1, 1);
      loss_from(h_prev.data());
      int inside = 0, saturated = 0;
      double margin = INFINITY;
      for (real m : mu_pre) {
        margin = std::min(margin, std::fabs(std::fabs(static_cast<double>(m)) - 1));
        (std::fabs(m) < 1 ? inside : saturated)++;
      }
      ok = margin > kKinkMargin && inside > 0 && saturated > 0;
    }
    REQUIRE(ok);
    Rng rng(mix_key(kSeed, 7));
    const std::vector<real> dh0 = fd::uniform_vector(rng, B * H, -1, 1);
    std::vector<real> dh = dh0;
    d.dh_prev = dh.data();
    auto loss = [&] { return loss_from(h_prev.data()); };
    const double L0 = loss();
    // --reinforce-into-core: into the locator and on into h_{t-1}.
    grads.zero();
    const double returned = reinforce_backward(c, params.views(), grads.views(), prev, now, {0, 1, 0, true}, 1, d);
    CHECK(returned == doctest::Approx(L0).epsilon(1e-14));
    fd::check_parameter_gradients(params, grads, {"locator.W", "locator.b"}, loss);
    // dh_prev is added into, not overwritten.
    fd::check_elements("h_prev", h_prev.data(), added(dh, dh0).data(), B * H, loss);
    // The default routing: the same locator gradients, and h_{t-1} untouched.
    const std::vector<real> into_core(grads.data(), grads.data() + grads.size());
    loss();  // the activations at theta again (the differences left them at theta - eps)
    grads.zero();
    dh = dh0;
    reinforce_backward(c, params.views(), grads.views(), prev, now, {0, 1, 0, false}, 1, d);
    CHECK(std::equal(into_core.begin(), into_core.end(), grads.data()));
    CHECK(dh == dh0);
  }
  SUBCASE("first step, h_prev == nullptr: mu = hardtanh(b_loc)") {
    Rng rng(mix_key(kSeed, 8));
    params.init_uniform(mix_key(kSeed, 8), 0.5);
    // b_loc: x inside the hardtanh's range, y saturated (its gradient must be 0).
    params.views().locator.b[0] = real(0.35);
    params.views().locator.b[1] = real(-1.3);
    actions = fd::uniform_vector(rng, B * 2, -1.2, 1.2);
    adv = fd::uniform_vector(rng, B, -1, 1);
    auto loss = [&] { return loss_from(nullptr); };
    loss();
    grads.zero();
    reinforce_backward(c, params.views(), grads.views(), prev, now, {0, 1, 0, true}, 1, d);
    fd::check_parameter_gradients(params, grads, {"locator.b"}, loss);
    CHECK(grads.views().locator.b[1] == 0);
  }
  SUBCASE("closed form, sign included: one image of a batch of two") {
    // h_prev == nullptr, mu = b_loc = (0.2, 0.1) inside (-1, 1), the action
    // l_raw = (0.5, -0.25), the advantage A = 1.25, w_reinforce = 0.5 over a
    // batch of M = 2: w = 0.5 / 2 * 1.25 = 0.3125. The loss is -w log pi, so
    //   dLoss/db_loc = -w (l_raw - mu) / sigma^2
    //                = -0.3125 * (0.3, -0.35) / 0.0484 = (-1.93698..., 2.25981...).
    actions = {real(0.5), real(-0.25)};
    adv = {real(1.25)};
    params.zero();
    params.views().locator.b[0] = real(0.2);
    params.views().locator.b[1] = real(0.1);
    now.B = 1;
    loss_from(nullptr);
    grads.zero();
    reinforce_backward(c, params.views(), grads.views(), prev, now, {1, 0.5, 1}, 2, d);
    CHECK(w[0] == real(0.3125));
    CHECK(grads.views().locator.b[0] == doctest::Approx(-0.3125 * 0.3 / (0.22 * 0.22)).epsilon(1e-12));
    CHECK(grads.views().locator.b[1] == doctest::Approx(0.3125 * 0.35 / (0.22 * 0.22)).epsilon(1e-12));
  }
}

TEST_CASE("reinforce_backward: the seed's LSTM locator through T = 4 steps: W, b, W_rec and every h_{t-1}") {
  ModelConfig c = small_config();
  c.locator = LocatorKind::lstm;
  const int B = 3, T = c.glimpses, H = c.hidden;
  REQUIRE(T >= 3);
  Episode ep(c, B);
  ep.resize(B);
  Parameters params(c), grads(c);
  params.init_uniform(mix_key(kSeed, 11), 0.8);
  Rng rng(mix_key(kSeed, 11, 1));
  // Held fixed: the core's states h_1..h_{T-1}, which the locator reads (h_0
  // = 0), the actions (given locations) and the advantages A (either sign).
  for (int s = 0; s + 1 < T; ++s) fd::fill_uniform(rng, ep.step(s).h, B * H, 0, 1.5);
  for (int s = 0; s < T; ++s) {
    fd::fill_uniform(rng, ep.step(s).noise, B * 2, -1.2, 1.2);
    fd::fill_uniform(rng, ep.step(s).A, B, -1, 1);
  }
  // With w_reinforce = 1 and M = 1: L = -sum_t sum_b A_tb log pi(l_raw_tb | mu_tb).
  const LossWeights into_core{0, 1, 0, true};
  auto loss = [&] {
    double L = 0;
    for (int s = 0; s < T; ++s) {
      const Step now = ep.step(s);
      location_network_forward(c, params.views(), ep.step(s - 1), now, Locations::given);
      for (int r = 0; r < B; ++r) L -= now.A[r] * gaussian_log_prob(now.l_raw + 2 * r, now.mu + 2 * r, c.sigma);
    }
    return L;
  };
  loss();
  // The episode's backward loop, REINFORCE alone: the locator's own state
  // carries gradient back through its recurrence (dloc_h, dloc_c).
  grads.zero();
  std::vector<real> dh_in(T * B * H, 0);  // [T, B, H] dL/dh_t as sent back to the core
  const StepGrads last = ep.grads(T - 1);
  std::fill(last.dloc_h, last.dloc_h + 2 * B, real(0));
  std::fill(last.dloc_c, last.dloc_c + 2 * B, real(0));
  for (int s = T - 1; s >= 0; --s) {
    const StepGrads d = ep.grads(s);
    if (d.dh_prev) std::fill(d.dh_prev, d.dh_prev + B * H, real(0));
    reinforce_backward(c, params.views(), grads.views(), ep.step(s - 1), ep.step(s), into_core, 1, d);
    if (d.dh_prev) std::copy(d.dh_prev, d.dh_prev + B * H, dh_in.begin() + (s - 1) * B * H);
  }
  fd::check_parameter_gradients(params, grads, {"locator.W", "locator.b", "locator.rec.W"}, loss);
  for (int s = 0; s + 1 < T; ++s) {
    CAPTURE(s);
    fd::check_elements("h_t", ep.step(s).h, &dh_in[s * B * H], B * H, loss);
  }
}

TEST_CASE("immediate_reinforce_backward: the seed's change reward trains the locator through each step alone") {
  // L = -sum_t sum_b c_tb log pi(l_raw_tb | mu_tb), c the immediate rewards
  // (no 1/M, no baseline), with mu_t computed from inputs all held at their
  // values in the episode: h_{t-1}, and the LSTM locator's own state of step
  // t - 1 (its output mu_pre_{t-1} and cell). The gradient is that of
  // L in the locator's parameters, nothing reaches h_{t-1} or the locator's
  // earlier steps, and for the LSTM locator it is NOT the gradient through
  // the locator's recurrence.
  for (const LocatorKind locator : {LocatorKind::linear, LocatorKind::lstm}) {
    const bool lstm = locator == LocatorKind::lstm;
    CAPTURE(lstm);
    ModelConfig c = small_config();
    c.locator = locator;
    const int B = 3, T = c.glimpses, H = c.hidden;
    REQUIRE(T >= 3);
    Episode ep(c, B);
    ep.resize(B);
    Parameters params(c), grads(c);
    params.init_uniform(mix_key(kSeed, 13), 0.8);
    Rng rng(mix_key(kSeed, 13, 1));
    for (int s = 0; s + 1 < T; ++s) fd::fill_uniform(rng, ep.step(s).h, B * H, 0, 1.5);
    for (int s = 0; s < T; ++s) {
      fd::fill_uniform(rng, ep.step(s).noise, B * 2, -1.2, 1.2);
      // Norms, never negative; small, so that the loss stays small and the
      // rounding of its differences far below the tolerance (at [0, 2] one
      // element of W_rec missed it by rounding alone).
      fd::fill_uniform(rng, ep.step(s).immediate, B, 0, 0.2);
    }
    // The episode's locator at theta; what the one-step loss holds.
    for (int s = 0; s < T; ++s)
      location_network_forward(c, params.views(), ep.step(s - 1), ep.step(s), Locations::given);
    const std::vector<real> held_mu_pre(ep.mu_pre.data(), ep.mu_pre.data() + ep.mu_pre.size());
    const std::vector<real> held_loc_c(ep.loc_cell.data(), ep.loc_cell.data() + ep.loc_cell.size());
    // A step of its own for the loss's forward: [B, ...] buffers.
    std::vector<real> mu_pre(B * 2), gates(B * 8), cell(B * 2), mu(B * 2), l_raw(B * 2), l(B * 2);
    auto one_step_loss = [&] {
      double L = 0;
      for (int s = 0; s < T; ++s) {
        Step prev = ep.step(s - 1);  // h_{t-1} as in the episode
        if (s > 0 && lstm) {
          const std::size_t at = static_cast<std::size_t>(s - 1) * B * 2;
          prev.mu_pre = const_cast<real*>(held_mu_pre.data() + at);
          prev.loc_c = const_cast<real*>(held_loc_c.data() + at);
        }
        Step now = ep.step(s);
        now.mu_pre = mu_pre.data();
        now.loc_gates = lstm ? gates.data() : nullptr;
        now.loc_c = lstm ? cell.data() : nullptr;
        now.mu = mu.data();
        now.l_raw = l_raw.data();
        now.l = l.data();
        location_network_forward(c, params.views(), prev, now, Locations::given);
        for (int r = 0; r < B; ++r) L -= now.immediate[r] * gaussian_log_prob(&l_raw[2 * r], &mu[2 * r], c.sigma);
      }
      return L;
    };
    // The loss through the locator's recurrence instead (the episode's own
    // forward, nothing held but h): the LSTM locator's gradient differs.
    auto recurrent_loss = [&] {
      double L = 0;
      for (int s = 0; s < T; ++s) {
        const Step now = ep.step(s);
        location_network_forward(c, params.views(), ep.step(s - 1), now, Locations::given);
        for (int r = 0; r < B; ++r) L -= now.immediate[r] * gaussian_log_prob(now.l_raw + 2 * r, now.mu + 2 * r, c.sigma);
      }
      return L;
    };
    const double L0 = one_step_loss();
    CHECK(recurrent_loss() == doctest::Approx(L0).epsilon(1e-13));  // the same value at theta
    // What the episode's backward keeps for other terms: sentinels that must survive.
    std::vector<std::vector<real>> kept;
    std::vector<Tensor*> watched = {&ep.dh_turns[0], &ep.dh_turns[1]};
    if (lstm) watched.insert(watched.end(), {&ep.dloc_h_turns[0], &ep.dloc_h_turns[1], &ep.dloc_c_turns[0],
                                             &ep.dloc_c_turns[1]});
    for (Tensor* t : watched) {
      fd::fill_uniform(rng, t->data(), t->size(), -1, 1);
      kept.emplace_back(t->data(), t->data() + t->size());
    }
    grads.zero();
    double returned = 0;
    for (int s = T - 1; s >= 0; --s)
      returned += immediate_reinforce_backward(c, params.views(), grads.views(), ep.step(s - 1), ep.step(s),
                                               ep.step_only_grads(s));
    CHECK(returned == doctest::Approx(L0).epsilon(1e-13));
    for (std::size_t k = 0; k < watched.size(); ++k) {
      CAPTURE(k);
      CHECK(std::equal(kept[k].begin(), kept[k].end(), watched[k]->data()));
    }
    const std::set<std::string> locator_blocks =
        lstm ? std::set<std::string>{"locator.W", "locator.b", "locator.rec.W"}
             : std::set<std::string>{"locator.W", "locator.b"};
    fd::check_parameter_gradients(params, grads, locator_blocks, one_step_loss);
    if (lstm) {
      // Through the recurrence the gradient is another: the W_rec block's
      // direction derivative disagrees.
      const ParamBlock* rec = nullptr;
      for (const ParamBlock& block : params.blocks())
        if (block.name == "locator.rec.W") rec = &block;
      REQUIRE(rec);
      const std::vector<real> g(grads.data() + rec->offset, grads.data() + rec->offset + rec->size);
      const double through_time = fd::directional_difference(params.data() + rec->offset, g.data(), g.size(), recurrent_loss);
      const double one_step = fd::directional_difference(params.data() + rec->offset, g.data(), g.size(), one_step_loss);
      CHECK(one_step == fd::near(fd::dot(g.data(), g.data(), g.size())));
      CHECK(std::fabs(through_time - one_step) > 1e-3 * std::fabs(one_step));
    }
  }
}

TEST_CASE("immediate_reinforce_backward: closed form, sign included, weight c and no 1/M") {
  // h_0 = 0, mu = b_loc = (0.2, 0.1), l_raw = (0.5, -0.25), c = 1.5, one image:
  //   dLoss/db_loc = -c (l_raw - mu) / sigma^2 = -1.5 * (0.3, -0.35) / 0.0484
  // and a second image with c = 0 adds nothing: no baseline, no division by 2.
  const ModelConfig c = small_config();
  Parameters params(c), grads(c);
  params.zero();
  params.views().locator.b[0] = real(0.2);
  params.views().locator.b[1] = real(0.1);
  Episode ep(c, 2);
  ep.resize(2);
  const Step now = ep.step(0);
  const real given[4] = {real(0.5), real(-0.25), real(0.9), real(0.9)};
  std::copy(given, given + 4, now.noise);
  location_network_forward(c, params.views(), ep.step(-1), now, Locations::given);
  now.immediate[0] = real(1.5);
  now.immediate[1] = 0;
  grads.zero();
  immediate_reinforce_backward(c, params.views(), grads.views(), ep.step(-1), now, ep.step_only_grads(0));
  CHECK(grads.views().locator.b[0] == doctest::Approx(-1.5 * 0.3 / (0.22 * 0.22)).epsilon(1e-12));
  CHECK(grads.views().locator.b[1] == doctest::Approx(1.5 * 0.35 / (0.22 * 0.22)).epsilon(1e-12));
}

// ---------------------------------------------------------------------------
// action_network.cpp

TEST_CASE("action_network_nll_backward: W_a, b_a and dh") {
  const ModelConfig c = small_config();
  const int B = 3, H = c.hidden, A = c.classes;
  const double weight = 0.7;  // not 1, so a dropped weight is seen
  Parameters params(c), grads(c);
  Rng rng(mix_key(kSeed, 9));
  params.init_uniform(mix_key(kSeed, 9), 1.0);
  std::vector<real> h = fd::uniform_vector(rng, B * H, 0, 2);  // [B, H]
  const uint8_t labels[B] = {2, 0, 4};
  std::vector<real> logp(B * A);
  // L = weight * sum_b -logp[b, y_b]
  auto loss = [&] {
    action_network_forward(params.views(), B, H, A, h.data(), logp.data());
    double L = 0;
    for (int r = 0; r < B; ++r) L -= weight * logp[r * A + labels[r]];
    return L;
  };
  const double L0 = loss();
  for (int r = 0; r < B; ++r) {  // log-probabilities: they exponentiate to 1
    double total = 0;
    for (int a = 0; a < A; ++a) total += std::exp(logp[r * A + a]);
    CHECK(total == doctest::Approx(1).epsilon(1e-14));
  }
  grads.zero();
  const std::vector<real> dh0 = fd::uniform_vector(rng, B * H, -1, 1);
  std::vector<real> dh = dh0, dlogits(B * A);
  const double returned = action_network_nll_backward(params.views(), grads.views(), B, H, A,
                                                      h.data(), logp.data(), labels, weight,
                                                      dlogits.data(), dh.data());
  CHECK(returned == doctest::Approx(L0).epsilon(1e-14));
  fd::check_parameter_gradients(params, grads, {"action.W", "action.b"}, loss);
  fd::check_elements("h_T", h.data(), added(dh, dh0).data(), B * H, loss);
}

// ---------------------------------------------------------------------------
// baseline.cpp

namespace {

// One step of the baseline's regression, L = weight * sum_b (b_b - R_b)^2,
// with the returns R held fixed: h_{t-1} is a constant of this loss.
struct BaselineProblem {
  static constexpr int B = 3;
  static constexpr double weight = 0.6;
  ModelConfig c;
  Parameters params, grads;
  std::vector<real> h_prev, R, b, db;
  Step prev, now;
  StepGrads d;

  BaselineProblem(const ModelConfig& config, uint64_t key)
      : c(config), params(config), grads(config), b(B), db(B) {
    Rng rng(mix_key(kSeed, key));
    params.init_uniform(mix_key(kSeed, key), 1.0);
    h_prev = fd::uniform_vector(rng, B * c.hidden, 0, 2);
    R = fd::uniform_vector(rng, B, -1, 2);
    now.B = B;
    now.b = b.data();
    now.R = R.data();
    d.db = db.data();
  }
  BaselineProblem(const BaselineProblem&) = delete;  // now and d point into it

  double loss_from(real* h) {
    prev.h = h;
    baseline_forward(c, params.views(), prev, now);
    double L = 0;
    for (int r = 0; r < B; ++r) L += weight * (b[r] - R[r]) * (b[r] - R[r]);
    return L;
  }
  // The backward pass at h, checked to return the loss it differentiates.
  void check_backward(real* h) {
    const double L0 = loss_from(h);
    grads.zero();
    const double returned = baseline_backward(c, params.views(), grads.views(), prev, now, weight, d);
    CHECK(returned == doctest::Approx(L0).epsilon(1e-14));
  }
};

}  // namespace

TEST_CASE("baseline_backward: w_b and c, and nothing else") {
  BaselineProblem p(small_config(), 10);
  SUBCASE("b_t = h_{t-1} w_b + c") {
    p.check_backward(p.h_prev.data());
    // Every other block, the core's included, stays exactly zero: h_{t-1} is a
    // constant of the baseline loss.
    fd::check_parameter_gradients(p.params, p.grads, {"baseline.W", "baseline.b"},
                                  [&] { return p.loss_from(p.h_prev.data()); });
  }
  SUBCASE("first step, h_prev == nullptr: b_1 = c") {
    p.check_backward(nullptr);
    fd::check_parameter_gradients(p.params, p.grads, {"baseline.b"},
                                  [&] { return p.loss_from(nullptr); });
  }
}

TEST_CASE("baseline_backward, --baseline constant: b = 1 + c whatever the state; c alone, no W") {
  ModelConfig c = small_config();
  c.baseline = BaselineKind::constant;
  BaselineProblem p(c, 12);
  for (const ParamBlock& block : p.params.blocks()) CHECK(block.name != "baseline.W");  // in = 0: no weights
  for (real* h : {p.h_prev.data(), static_cast<real*>(nullptr)}) {
    CAPTURE(h != nullptr);
    p.check_backward(h);
    for (int r = 0; r < p.B; ++r) CHECK(p.b[r] == 1 + p.params.views().baseline.b[0]);
    fd::check_parameter_gradients(p.params, p.grads, {"baseline.b"}, [&] { return p.loss_from(h); });
  }
  // By hand: c = 0.25, so b = 1.25; R = (1, 0, 2), weight 0.5:
  // dL/dc = 2 * 0.5 * ((1.25 - 1) + (1.25 - 0) + (1.25 - 2)) = 0.75.
  p.params.views().baseline.b[0] = real(0.25);
  p.R[0] = 1, p.R[1] = 0, p.R[2] = 2;  // in place: now.R points at them
  p.loss_from(nullptr);
  p.grads.zero();
  baseline_backward(c, p.params.views(), p.grads.views(), p.prev, p.now, 0.5, p.d);
  CHECK(p.grads.views().baseline.b[0] == doctest::Approx(0.75).epsilon(1e-14));
  // Regressed once per episode: at t = 1 (s = 0) alone; the state baseline at every step.
  CHECK(baseline_regressed_at(c, 0));
  CHECK_FALSE(baseline_regressed_at(c, 1));
  CHECK(baseline_regressed_at(small_config(), 3));
}
