// optimizer.cpp: SGD with momentum (the Torch RAM code's optimizer) and Adam
// (the PyTorch RAM code's), over the flat parameter buffer.
//
// The Torch code's momentum is dpnn's Module:updateGradParameters(0.9), whose
// damping defaults to the momentum factor: v = 0.9 v + 0.1 g. That is an
// average of recent gradients, not the undamped sum v = 0.9 v + g, and the
// difference is a factor of 10 in the step.
#include "train/optimizer.h"

#include "kernels/vectorize.h"

#include "kernels/thread_pool.h"

#include <algorithm>
#include <cmath>

double clip_gradient_norm(real* grads, std::size_t n, double max_norm) {
  double squares = 0;
  for (std::size_t i = 0; i < n; ++i) squares += static_cast<double>(grads[i]) * grads[i];
  const double norm = std::sqrt(squares);
  if (max_norm > 0 && norm > max_norm) {
    const real scale = static_cast<real>(max_norm / norm);
    for (std::size_t i = 0; i < n; ++i) grads[i] *= scale;
  }
  return norm;
}

double learning_rate_at(const OptimizerConfig& c, int epoch) {
  if (c.decay_epochs <= 0) return c.lr;
  const double lr = c.lr + (c.min_lr - c.lr) * (epoch / c.decay_epochs);
  return c.lr >= c.min_lr ? std::max(lr, c.min_lr) : c.lr;
}

Optimizer::Optimizer(const OptimizerConfig& config, std::size_t size) : config_(config) {
  first.reshape({static_cast<int>(size)});
  first.zero();
  if (config.kind == OptimizerKind::adam) {
    second.reshape({static_cast<int>(size)});
    second.zero();
  }
}

void Optimizer::step(real* params, const real* grads, double lr) {
  ++steps;
  update(params, grads, lr, 0, first.size());
}

void Optimizer::step(ThreadPool& pool, real* params, const real* grads, double lr) {
  ++steps;
  const std::size_t n = first.size();
  const int parts = pool.threads();
  pool.run(parts, [&](int k) { update(params, grads, lr, element_range_begin(n, parts, k),
                                      element_range_begin(n, parts, k + 1)); });
}

namespace {

// v = momentum * v + (1 - dampening) * g;  theta -= lr * v
RAM_VECTORIZE void sgd_update(std::size_t begin, std::size_t end, real* params, const real* grads, real* v,
                              real mu, real keep, real rate) {
  for (std::size_t i = begin; i < end; ++i) {
    v[i] = mu * v[i] + keep * grads[i];
    params[i] -= rate * v[i];
  }
}

// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  theta -= step m / (sqrt(v) + eps)
RAM_VECTORIZE void adam_update(std::size_t begin, std::size_t end, real* params, const real* grads, real* m,
                               real* v, real b1, real b2, real step_size, real eps) {
  for (std::size_t i = begin; i < end; ++i) {
    const real g = grads[i];
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    params[i] -= step_size * m[i] / (std::sqrt(v[i]) + eps);
  }
}

}  // namespace

void Optimizer::update(real* params, const real* grads, double lr, std::size_t begin,
                       std::size_t end) {
  if (config_.kind == OptimizerKind::sgd) {
    // Torch's damped momentum (dpnn), v = M v + (1 - D) g.
    sgd_update(begin, end, params, grads, first.data(), static_cast<real>(config_.momentum),
               static_cast<real>(1 - config_.dampening), static_cast<real>(lr));
    return;
  }
  // Adam: m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
  // theta -= lr * m_hat / (sqrt(v_hat) + eps), with the bias corrections
  // m_hat = m / (1 - b1^k), v_hat = v / (1 - b2^k) folded into one step size.
  const double b1 = config_.beta1, b2 = config_.beta2;
  const double correction1 = 1 - std::pow(b1, static_cast<double>(steps));
  const double correction2 = 1 - std::pow(b2, static_cast<double>(steps));
  const real step_size = static_cast<real>(lr * std::sqrt(correction2) / correction1);
  const real eps_hat = static_cast<real>(config_.eps * std::sqrt(correction2));
  adam_update(begin, end, params, grads, first.data(), second.data(), static_cast<real>(b1), static_cast<real>(b2),
              step_size, eps_hat);
}
