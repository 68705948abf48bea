// reinforce.h: the hybrid loss: REINFORCE, the baseline regression and the classification loss (RAM section 3.2, seed equation 1).
#pragma once

#include "model/parameters.h"
#include "model/step.h"

// The hybrid loss (reinforce.cpp; RAM section 3.2, seed equation 1).

// Weights of the three terms of the loss, per image (the loss of a batch is
// the mean over its images, so each image carries weight/batch).
struct LossWeights {
  double nll = 1.0;        // classification: -log p(y | h_T)
  double reinforce = 1.0;  // REINFORCE: -sum_t (R_t - b_t) log pi(l_t | mu_t)
  double baseline = 1.0;   // baseline regression: sum_t (R_t - b_t)^2
  // Whether the REINFORCE gradient flows from mu_t back into h_{t-1} (the
  // Torch code) or stops there (the PyTorch code, our default): reinforce.cpp.
  bool reinforce_into_core = false;
};

// The per-image loss terms of an episode, summed over its images.
struct EpisodeLoss {
  double nll = 0, reinforce = 0, baseline = 0, reward = 0;
  int correct = 0;
  EpisodeLoss& operator+=(const EpisodeLoss& o) {
    nll += o.nll;
    reinforce += o.reinforce;
    baseline += o.baseline;
    reward += o.reward;
    correct += o.correct;
    return *this;
  }
};

// A [T, B] = R - b: the advantage, a constant inside the REINFORCE term.
void reinforce_advantage(int B, int T, const real* R, const real* b, real* A);
// log pi(l_raw | mu) of one image, a 2-d isotropic Gaussian of deviation sigma.
double gaussian_log_prob(const real* l_raw, const real* mu, double sigma);
// Seed equation 1 at step t: the REINFORCE surrogate
//   -sum_b w_b log pi(now.l_raw_b | now.mu_b),  w_b = (w_reinforce / M) now.A_b,
// M = batch_total, with w_b and the action l_raw constants. Writes d.w and
// d.dmu, then hands dL/dmu_t to the location network's backward, into
// d.dh_prev only with reinforce_into_core. Returns the step's surrogate loss.
double reinforce_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& prev,
                          const Step& now, const LossWeights& weights, int batch_total, const StepGrads& d);
// The change reward as the seed's code ran it (--reward change-code), at
// step t: the surrogate -sum_b c_b log pi(now.l_raw_b | now.mu_b) with
// c = now.immediate, the reward of step t alone: no return, no baseline, not
// divided by the batch. Its gradient trains the locator through step t
// alone: nothing into h_{t-1} (d.dh_prev is left alone), and the LSTM
// locator's d.dloc_h, d.dloc_c are this term's own scratch (zeroed here)
// with d.dloc_h_prev, d.dloc_c_prev nullptr (Episode::step_only_grads).
// Returns the surrogate.
double immediate_reinforce_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad,
                                    const Step& prev, const Step& now, const StepGrads& d);
