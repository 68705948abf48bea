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
  // L = sum_{r, j < n} proj[r, j] relu(a[r, j])
  std::vector<real> y;
  auto loss = [&] {
    y = a;
    relu_forward(B, n, y.data(), ld);
    double L = 0;
    for (int r = 0; r < B; ++r)
      for (int j = 0; j < n; ++j) L += proj[r * lddy + j] * y[r * ld + j];
    return L;
  };
  loss();
  for (int r = 0; r < B; ++r)
    for (int j = n; j < ld; ++j) CHECK(y[r * ld + j] == a[r * ld + j]);  // padding untouched
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

TEST_CASE("glimpse_network: every parameter of what, where and join") {
  const ModelConfig c = small_config();
  const int B = 3, G = c.glimpse_features(), Nw = c.what_hidden, Nl = c.where_hidden;
  const int Ncat = Nw + Nl, Ng = c.glimpse_hidden;
  Parameters params(c), grads(c);
  std::vector<real> rho, l, proj;
  // Draws parameters and inputs until every pre-activation of the three relus
  // is at least kKinkMargin from zero.
  bool smooth = false;
  for (int attempt = 0; attempt < kSeedTries && !smooth; ++attempt) {
    Rng rng(mix_key(kSeed, 3, attempt));
    params.init_uniform(mix_key(kSeed, 3, attempt), 0.6);
    rho = fd::uniform_vector(rng, B * G, 0, 1);     // [B, G] retina values in [0, 1]
    l = fd::uniform_vector(rng, B * 2, -1, 1);      // [B, 2]
    proj = fd::uniform_vector(rng, B * Ng, -1, 1);  // dL/dg
    const RamParams& p = params.views();
    std::vector<real> pre_cat(B * Ncat), hcat(B * Ncat), pre_g(B * Ng);
    linear_forward(B, rho.data(), G, p.what, pre_cat.data(), Ncat);
    linear_forward(B, l.data(), 2, p.where, pre_cat.data() + Nw, Ncat);
    hcat = pre_cat;
    relu_forward(B, Ncat, hcat.data(), Ncat);
    linear_forward(B, hcat.data(), Ncat, p.join, pre_g.data(), Ng);
    smooth = min_abs(pre_cat) > kKinkMargin && min_abs(pre_g) > kKinkMargin;
  }
  REQUIRE(smooth);
  std::vector<real> hcat(B * Ncat), g(B * Ng);
  // L = sum proj * g
  auto loss = [&] {
    glimpse_network_forward(c, params.views(), B, rho.data(), l.data(), {hcat.data(), g.data()});
    return fd::dot(proj.data(), g.data(), g.size());
  };
  loss();
  grads.zero();
  std::vector<real> dg = proj, dhcat(B * Ncat);
  glimpse_network_backward(c, params.views(), grads.views(), B, rho.data(), l.data(),
                           {hcat.data(), g.data()}, dg.data(), dhcat.data());
  fd::check_parameter_gradients(params, grads,
                                {"glimpse.what.W", "glimpse.what.b", "glimpse.where.W",
                                 "glimpse.where.b", "glimpse.join.W", "glimpse.join.b"},
                                loss);
}

// ---------------------------------------------------------------------------
// core_rnn.cpp

TEST_CASE("core_rnn: W_in, b, W_rec and every g_t through T = 4 steps") {
  const ModelConfig c = small_config();
  const int B = 3, T = c.glimpses, Ng = c.glimpse_hidden, H = c.hidden;
  REQUIRE(T >= 3);
  Parameters params(c), grads(c);
  std::vector<real> g_in, proj;  // [T, B, Ng] inputs g_t, [T, B, H] dL/dh_t
  bool smooth = false;
  for (int attempt = 0; attempt < kSeedTries && !smooth; ++attempt) {
    Rng rng(mix_key(kSeed, 4, attempt));
    params.init_uniform(mix_key(kSeed, 4, attempt), 0.6);
    g_in = fd::uniform_vector(rng, T * B * Ng, 0, 1);
    proj = fd::uniform_vector(rng, T * B * H, -1, 1);
    // Pre-activations a_t = g_t W_in + b + h_{t-1} W_rec, written out here.
    const RamParams& p = params.views();
    std::vector<real> a(B * H), h_prev(B * H, 0), all_a;
    for (int t = 0; t < T; ++t) {
      linear_forward(B, g_in.data() + t * B * Ng, Ng, p.core_in, a.data(), H);
      for (int r = 0; r < B; ++r)
        for (int j = 0; j < H; ++j)
          for (int k = 0; k < H; ++k) a[r * H + j] += h_prev[r * H + k] * p.core_rec.W[k * H + j];
      all_a.insert(all_a.end(), a.begin(), a.end());
      for (int i = 0; i < B * H; ++i) h_prev[i] = std::max(a[i], real(0));
    }
    smooth = min_abs(all_a) > kKinkMargin;
  }
  REQUIRE(smooth);
  std::vector<real> h(T * B * H);  // [T, B, H]
  // L = sum_t sum proj_t * h_t: every h_t is read by the loss, as in the model
  // (location and baseline read h_{t-1}, the action network h_T).
  auto loss = [&] {
    for (int t = 0; t < T; ++t)
      core_rnn_forward(params.views(), B, H, g_in.data() + t * B * Ng,
                       t == 0 ? nullptr : h.data() + (t - 1) * B * H, h.data() + t * B * H);
    return fd::dot(proj.data(), h.data(), h.size());
  };
  loss();
  // Backpropagation through time, t = T..1. dh_prev starts as the loss's own
  // gradient at h_{t-1}; the core adds what reaches it through h_t.
  grads.zero();
  std::vector<real> dg(T * B * Ng, real(7));  // overwritten by the backward
  std::vector<real> dh(proj.end() - B * H, proj.end()), dh_prev(B * H);
  for (int t = T - 1; t >= 0; --t) {
    if (t > 0) std::copy(proj.begin() + (t - 1) * B * H, proj.begin() + t * B * H, dh_prev.begin());
    core_rnn_backward(params.views(), grads.views(), B, H, g_in.data() + t * B * Ng,
                      t == 0 ? nullptr : h.data() + (t - 1) * B * H, h.data() + t * B * H,
                      dh.data(), dg.data() + t * B * Ng, t == 0 ? nullptr : dh_prev.data());
    std::swap(dh, dh_prev);
  }
  fd::check_parameter_gradients(params, grads, {"core.in.W", "core.in.b", "core.rec.W"}, loss);
  for (int t = 0; t < T; ++t) {
    CAPTURE(t);
    fd::check_elements("g_t", g_in.data() + t * B * Ng, dg.data() + t * B * Ng, B * Ng, loss);
  }
}

// ---------------------------------------------------------------------------
// location_network.cpp

TEST_CASE("core_lstm: W_in, b, W_rec and every g_t through T = 4 steps") {
  ModelConfig c = small_config();
  c.core = CoreKind::lstm;
  const int B = 3, T = c.glimpses, Ng = c.glimpse_hidden, H = c.hidden;
  REQUIRE(T >= 3);
  Parameters params(c), grads(c);
  params.init_uniform(mix_key(kSeed, 9), 0.6);  // smooth everywhere: no kinks to avoid
  Rng rng(mix_key(kSeed, 9, 1));
  std::vector<real> g_in = fd::uniform_vector(rng, T * B * Ng, 0, 1);   // [T, B, Ng]
  const std::vector<real> proj = fd::uniform_vector(rng, T * B * H, -1, 1);   // [T, B, H] dL/dh_t
  std::vector<real> gates(T * B * 4 * H), cell(T * B * H), h(T * B * H);
  // L = sum_t proj_t . h_t: every h_t is read by the loss, as in the model.
  auto loss = [&] {
    for (int t = 0; t < T; ++t)
      core_lstm_forward(params.views(), B, H, g_in.data() + t * B * Ng,
                        t == 0 ? nullptr : h.data() + (t - 1) * B * H,
                        t == 0 ? nullptr : cell.data() + (t - 1) * B * H, gates.data() + t * B * 4 * H,
                        cell.data() + t * B * H, h.data() + t * B * H);
    return fd::dot(proj.data(), h.data(), h.size());
  };
  loss();
  // Backpropagation through time, t = T..1: dh_prev starts as the loss's own
  // gradient at h_{t-1}; dc carries dL/dc_t back from step t + 1.
  grads.zero();
  std::vector<real> dg(T * B * Ng, real(7));  // overwritten by the backward
  std::vector<real> dh(proj.end() - B * H, proj.end()), dh_prev(B * H);
  std::vector<real> dc(B * H, 0), dc_prev(B * H, real(7)), dz(B * 4 * H);
  for (int t = T - 1; t >= 0; --t) {
    if (t > 0) std::copy(proj.begin() + (t - 1) * B * H, proj.begin() + t * B * H, dh_prev.begin());
    core_lstm_backward(params.views(), grads.views(), B, H, g_in.data() + t * B * Ng,
                       t == 0 ? nullptr : h.data() + (t - 1) * B * H,
                       t == 0 ? nullptr : cell.data() + (t - 1) * B * H, gates.data() + t * B * 4 * H,
                       cell.data() + t * B * H, dh.data(), dc.data(), dz.data(), dg.data() + t * B * Ng,
                       t == 0 ? nullptr : dh_prev.data(), t == 0 ? nullptr : dc_prev.data());
    std::swap(dh, dh_prev);
    std::swap(dc, dc_prev);
  }
  fd::check_parameter_gradients(params, grads, {"core.in.W", "core.in.b", "core.rec.W"}, loss);
  for (int t = 0; t < T; ++t) {
    CAPTURE(t);
    fd::check_elements("g_t", g_in.data() + t * B * Ng, dg.data() + t * B * Ng, B * Ng, loss);
  }
}

TEST_CASE("core_lstm: the forget gate's bias starts at 1, the other gates' do not") {
  ModelConfig c = small_config();
  c.core = CoreKind::lstm;
  Parameters params(c);
  params.init_uniform(3);
  const int H = c.hidden;
  for (int j = 0; j < 4 * H; ++j) {
    CAPTURE(j);
    if (j >= H && j < 2 * H)
      CHECK(params.views().core_in.b[j] == 1);
    else
      CHECK(std::abs(params.views().core_in.b[j]) <= 0.1);
  }
}

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

TEST_CASE("location_network_backward: the REINFORCE surrogate's gradient in W_loc, b_loc, h_prev") {
  const ModelConfig c = small_config();
  const int B = 3, H = c.hidden;
  Parameters params(c), grads(c);
  std::vector<real> h_prev, l_raw, weight;
  std::vector<real> mu_pre(B * 2), mu(B * 2), l_mean(B * 2), l_clamped(B * 2);
  // L = -sum_b w_b log pi(l_raw_b | mu_b(theta, h_prev)), with the action l_raw
  // and the weights w_b (the scaled advantages, either sign) held fixed.
  auto loss_from = [&](const real* h) {
    location_network_forward(c, params.views(), B, H, h, nullptr, mu_pre.data(), mu.data(),
                             l_mean.data(), l_clamped.data());
    double L = 0;
    for (int r = 0; r < B; ++r) L -= weight[r] * gaussian_log_prob(&l_raw[2 * r], &mu[2 * r], c.sigma);
    return L;
  };

  SUBCASE("after the first step: W_loc, b_loc and h_prev") {
    // Inputs with mu_pre at least kKinkMargin from +-1, at least one
    // coordinate inside (-1, 1) and one saturated, so both branches of the
    // hardtanh are checked.
    bool ok = false;
    for (int attempt = 0; attempt < kSeedTries && !ok; ++attempt) {
      Rng rng(mix_key(kSeed, 6, attempt));
      params.init_uniform(mix_key(kSeed, 6, attempt), 0.8);
      h_prev = fd::uniform_vector(rng, B * H, 0, 1.5);  // [B, H], a relu output
      l_raw = fd::uniform_vector(rng, B * 2, -1.2, 1.2);
      weight = fd::uniform_vector(rng, B, -1, 1);
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
    grads.zero();
    Rng rng(mix_key(kSeed, 7));
    const std::vector<real> dh0 = fd::uniform_vector(rng, B * H, -1, 1);
    std::vector<real> dh = dh0, dmu(B * 2);
    auto loss = [&] { return loss_from(h_prev.data()); };
    loss();
    location_network_backward(c, params.views(), grads.views(), B, H, h_prev.data(), mu_pre.data(),
                              mu.data(), l_raw.data(), weight.data(), dmu.data(), dh.data());
    fd::check_parameter_gradients(params, grads, {"locator.W", "locator.b"}, loss);
    // dh_prev is added into, not overwritten.
    fd::check_elements("h_prev", h_prev.data(), added(dh, dh0).data(), B * H, loss);
  }
  SUBCASE("first step, h_prev == nullptr: mu = hardtanh(b_loc)") {
    Rng rng(mix_key(kSeed, 8));
    params.init_uniform(mix_key(kSeed, 8), 0.5);
    // b_loc: x inside the hardtanh's range, y saturated (its gradient must be 0).
    params.views().locator.b[0] = real(0.35);
    params.views().locator.b[1] = real(-1.3);
    l_raw = fd::uniform_vector(rng, B * 2, -1.2, 1.2);
    weight = fd::uniform_vector(rng, B, -1, 1);
    auto loss = [&] { return loss_from(nullptr); };
    loss();
    grads.zero();
    std::vector<real> dmu(B * 2);
    location_network_backward(c, params.views(), grads.views(), B, H, nullptr, mu_pre.data(),
                              mu.data(), l_raw.data(), weight.data(), dmu.data(), nullptr);
    fd::check_parameter_gradients(params, grads, {"locator.b"}, loss);
    CHECK(grads.views().locator.b[1] == 0);
  }
  SUBCASE("closed form, sign included: one image, weight 1") {
    // h_prev == nullptr, mu = b_loc inside (-1, 1); the loss is -log pi, so
    // dLoss/db_loc = -(l_raw - mu) / sigma^2.
    const real l1[2] = {real(0.5), real(-0.25)};
    params.zero();
    params.views().locator.b[0] = real(0.2);
    params.views().locator.b[1] = real(0.1);
    const real w1[1] = {1};
    location_network_forward(c, params.views(), 1, H, nullptr, nullptr, mu_pre.data(), mu.data(),
                             l_mean.data(), l_clamped.data());
    grads.zero();
    location_network_backward(c, params.views(), grads.views(), 1, H, nullptr, mu_pre.data(),
                              mu.data(), l1, w1, std::vector<real>(2).data(), nullptr);
    // (0.5 - 0.2) / 0.22^2 = 6.198..., (-0.25 - 0.1) / 0.22^2 = -7.231...
    CHECK(grads.views().locator.b[0] == doctest::Approx(-0.3 / (0.22 * 0.22)).epsilon(1e-12));
    CHECK(grads.views().locator.b[1] == doctest::Approx(0.35 / (0.22 * 0.22)).epsilon(1e-12));
  }
}

// ---------------------------------------------------------------------------
// action_network.cpp

TEST_CASE("location_lstm: the seed's LSTM locator through T = 4 steps: W, b, W_rec and every h_{t-1}") {
  ModelConfig c = small_config();
  c.locator = LocatorKind::lstm;
  const int B = 3, T = c.glimpses, H = c.hidden;
  REQUIRE(T >= 3);
  Parameters params(c), grads(c);
  params.init_uniform(mix_key(kSeed, 11), 0.8);
  Rng rng(mix_key(kSeed, 11, 1));
  // Inputs h_{t-1} for t = 2..T (t = 1 reads zeros), the actions l_raw and the
  // REINFORCE weights w (the scaled advantages, either sign), all held fixed.
  std::vector<real> h_in = fd::uniform_vector(rng, T * B * H, 0, 1.5);  // [T, B, H]
  const std::vector<real> l_raw = fd::uniform_vector(rng, T * B * 2, -1.2, 1.2);
  const std::vector<real> weight = fd::uniform_vector(rng, T * B, -1, 1);
  std::vector<real> gates(T * B * 8), loc_c(T * B * 2), mu_pre(T * B * 2), mu(T * B * 2);
  std::vector<real> l_mean(B * 2), l_clamped(B * 2);
  auto h_prev = [&](int t) { return t == 0 ? nullptr : h_in.data() + t * B * H; };
  // L = -sum_t sum_b w_tb log pi(l_raw_tb | mu_tb)
  auto loss = [&] {
    double L = 0;
    for (int t = 0; t < T; ++t) {
      location_lstm_forward(c, params.views(), B, H, h_prev(t), t == 0 ? nullptr : &mu_pre[(t - 1) * B * 2],
                            t == 0 ? nullptr : &loc_c[(t - 1) * B * 2], nullptr, &gates[t * B * 8],
                            &loc_c[t * B * 2], &mu_pre[t * B * 2], &mu[t * B * 2], l_mean.data(), l_clamped.data());
      for (int r = 0; r < B; ++r)
        L -= weight[t * B + r] * gaussian_log_prob(&l_raw[(t * B + r) * 2], &mu[(t * B + r) * 2], c.sigma);
    }
    return L;
  };
  loss();
  grads.zero();
  std::vector<real> dh_in(T * B * H, 0);
  std::vector<real> dloc_h(B * 2, 0), dloc_c(B * 2, 0), dloc_h_prev(B * 2), dloc_c_prev(B * 2);
  std::vector<real> dz(B * 8), dmu(B * 2);
  for (int t = T - 1; t >= 0; --t) {
    std::fill(dloc_h_prev.begin(), dloc_h_prev.end(), real(0));
    location_lstm_backward(c, params.views(), grads.views(), B, H, h_prev(t),
                           t == 0 ? nullptr : &mu_pre[(t - 1) * B * 2], t == 0 ? nullptr : &loc_c[(t - 1) * B * 2],
                           &gates[t * B * 8], &loc_c[t * B * 2], &mu_pre[t * B * 2], &mu[t * B * 2],
                           &l_raw[t * B * 2], &weight[t * B], dloc_h.data(), dloc_c.data(), dz.data(), dmu.data(),
                           t == 0 ? nullptr : &dh_in[t * B * H], t == 0 ? nullptr : dloc_h_prev.data(),
                           t == 0 ? nullptr : dloc_c_prev.data());
    std::swap(dloc_h, dloc_h_prev);
    std::swap(dloc_c, dloc_c_prev);
  }
  fd::check_parameter_gradients(params, grads, {"locator.W", "locator.b", "locator.rec.W"}, loss);
  for (int t = 1; t < T; ++t) {
    CAPTURE(t);
    fd::check_elements("h_prev", &h_in[t * B * H], &dh_in[t * B * H], B * H, loss);
  }
}

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

TEST_CASE("baseline_backward: w_b and c, and nothing else") {
  const ModelConfig c = small_config();
  const int B = 3, H = c.hidden;
  const double weight = 0.6;
  Parameters params(c), grads(c);
  Rng rng(mix_key(kSeed, 10));
  params.init_uniform(mix_key(kSeed, 10), 1.0);
  const std::vector<real> h_prev = fd::uniform_vector(rng, B * H, 0, 2);
  const std::vector<real> R = fd::uniform_vector(rng, B, -1, 2);  // returns, held fixed
  std::vector<real> b(B), db(B);
  // L = weight * sum_b (b_b - R_b)^2
  auto loss_from = [&](const real* h) {
    baseline_forward(params.views(), B, H, h, b.data());
    double L = 0;
    for (int r = 0; r < B; ++r) L += weight * (b[r] - R[r]) * (b[r] - R[r]);
    return L;
  };
  SUBCASE("b_t = h_{t-1} w_b + c") {
    auto loss = [&] { return loss_from(h_prev.data()); };
    const double L0 = loss();
    grads.zero();
    const double returned = baseline_backward(params.views(), grads.views(), B, H, h_prev.data(),
                                              b.data(), R.data(), weight, db.data());
    CHECK(returned == doctest::Approx(L0).epsilon(1e-14));
    // Every other block, the core's included, stays exactly zero: h_{t-1} is a
    // constant of the baseline loss.
    fd::check_parameter_gradients(params, grads, {"baseline.W", "baseline.b"}, loss);
  }
  SUBCASE("first step, h_prev == nullptr: b_1 = c") {
    auto loss = [&] { return loss_from(nullptr); };
    const double L0 = loss();
    grads.zero();
    const double returned = baseline_backward(params.views(), grads.views(), B, H, nullptr,
                                              b.data(), R.data(), weight, db.data());
    CHECK(returned == doctest::Approx(L0).epsilon(1e-14));
    fd::check_parameter_gradients(params, grads, {"baseline.b"}, loss);
  }
}
