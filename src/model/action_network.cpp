// action_network.cpp: the action network f_a, the classifier (RAM section 3.1).
//
//   logp = log_softmax(h W_a + b)
//
// RAM classifies from the last state h_T and trains f_a, the core and the
// glimpse network on the negative log-likelihood of the true class, by
// backpropagation through time (RAM section 3.2, "hybrid supervised loss").
#include <algorithm>
#include <cmath>

#include "model/action_network.h"
#include "model/linear.h"

void action_network_logits(const RamParams& p, int B, int H, int A, const real* h, real* logits) {
  if (h) {
    linear_forward(B, h, H, p.action, logits, A);
  } else {
    // h_0 = 0: the logits are b alone.
    for (int r = 0; r < B; ++r) std::copy(p.action.b, p.action.b + A, logits + static_cast<std::size_t>(r) * A);
  }
}

void action_network_forward(const RamParams& p, int B, int H, int A, const real* h, real* logp) {
  action_network_logits(p, B, H, A, h, logp);
  log_softmax_rows(B, A, logp);
}

void log_softmax_rows(int B, int A, real* logp) {
  // log_softmax(z)_a = z_a - log sum_j exp(z_j), shifted by max_j z_j so that
  // exp never overflows.
  for (int r = 0; r < B; ++r) {
    real* z = logp + static_cast<std::size_t>(r) * A;
    real zmax = z[0];
    for (int a = 1; a < A; ++a) zmax = z[a] > zmax ? z[a] : zmax;
    double sum = 0;
    for (int a = 0; a < A; ++a) sum += std::exp(static_cast<double>(z[a] - zmax));
    const real log_norm = static_cast<real>(zmax + std::log(sum));
    for (int a = 0; a < A; ++a) z[a] -= log_norm;
  }
}

double action_network_nll_backward(const RamParams& p, const RamParams& grad, int B, int H, int A,
                                   const real* h, const real* logp, const uint8_t* labels,
                                   double weight, real* dlogits, real* dh) {
  // Loss = weight * sum_b -logp[b, y_b]. With logp = z - logsumexp(z),
  //   dLoss/dz_a = weight * (softmax(z)_a - [a == y_b]),  softmax = exp(logp).
  double loss = 0;
  for (int r = 0; r < B; ++r) {
    const real* logp_r = logp + static_cast<std::size_t>(r) * A;
    real* dz = dlogits + static_cast<std::size_t>(r) * A;
    loss -= weight * logp_r[labels[r]];
    for (int a = 0; a < A; ++a)
      dz[a] = static_cast<real>(weight * (std::exp(static_cast<double>(logp_r[a])) - (a == labels[r])));
  }
  // Forward was z = h W_a + b.
  linear_backward(B, h, H, dlogits, A, p.action, grad.action, dh, H, true);
  return loss;
}
