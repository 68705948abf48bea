// ram.h: the unrolled model, one episode of T glimpses for a batch of images,
// its rewards, and the hybrid loss that trains it (RAM sections 3.1-3.2).
#pragma once

#include <vector>

#include "model.h"

// ---------------------------------------------------------------------------
// Rewards and returns (rewards.cpp; RAM section 3.2).

// r [T, B]: r_T = 1 where the class predicted from h_T is the label, all
// earlier rewards 0.
void classification_reward(int B, int T, int A, const real* logp_T, const uint8_t* labels, real* r);
// R_t = sum_{s >= t} r_s, undiscounted: R [T, B] from r [T, B].
void returns_from_rewards(int B, int T, const real* r, real* R);

// The seed paper's extra rewards, added to r at every glimpse, from the
// action network's log-probabilities O_t on every h_t (O [T + 1, B, A],
// O_0 from h_0 = 0, that is log_softmax(b_a)):
//   change (seed eq. 2):  r_t += coef * ||O_t - O_{t-1}||_2
//   lowstd (seed code):   r_t += coef * std(O_t), the sample standard
//                         deviation over the A outputs
enum class RewardKind { classify, change, lowstd };
struct RewardConfig {
  RewardKind kind = RewardKind::classify;
  double coef = 1.0;  // seed eq. 2 has none (1); the seed's code uses 0.01 for lowstd
};
void output_change_reward(int B, int T, int A, const real* O, double coef, real* r);
void low_std_reward(int B, int T, int A, const real* O, double coef, real* r);

// ---------------------------------------------------------------------------
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
// w [B] = weight * A_t: the per-image factor of the REINFORCE term at one step.
void reinforce_step_weights(int B, const real* A_t, double weight, real* w);

// ---------------------------------------------------------------------------
// One episode (ram.cpp): every activation of T glimpses for up to `capacity`
// images, kept for backpropagation through time. Steps are indexed
// s = 0..T-1 for glimpses t = 1..T.

struct Episode {
  explicit Episode(const ModelConfig& config, int capacity);
  void resize(int B);  // B <= capacity; keeps the buffers

  ModelConfig config;
  int capacity = 0;
  int B = 0;
  std::vector<const uint8_t*> images;  // [B] pointers to [C, H, W] bytes
  std::vector<uint8_t> labels;         // [B]
  // Forward activations.
  Tensor noise;    // [T, B, 2] standard normals of the policy (training only)
  Tensor mu_pre;   // [T, B, 2] locator output before the hardtanh
  Tensor mu;       // [T, B, 2] policy mean
  Tensor l_raw;    // [T, B, 2] sampled location (the policy's action)
  Tensor l;        // [T, B, 2] clamped location, where the sensor looked
  Tensor rho;      // [T, B, G] retina output
  Tensor hcat;     // [T, B, 256] [h_g, h_l]
  Tensor g;        // [T, B, 256] glimpse vector
  Tensor h;        // [T, B, H] core state h_t (h_0 = 0 is not stored)
  Tensor gates;    // [T, B, 4H] LSTM core only: i, f, o, u
  Tensor cell;     // [T, B, H] LSTM core only: cell c_t (c_0 = 0 is not stored)
  Tensor loc_gates;  // [T, B, 8] LSTM locator only: i, f, o, u of its two units
  Tensor loc_cell;   // [T, B, 2] LSTM locator only: its cell (its output is mu_pre)
  Tensor b;        // [T, B] baseline b_t, from h_{t-1} (packed: row s at s*B)
  Tensor logp;     // [B, A] log-probabilities from h_T
  // Rewards.
  RewardConfig reward;  // what episode_rewards pays
  Tensor O;        // [T + 1, B, A] action network on every h_t (change and lowstd rewards, or all_outputs; packed)
  bool all_outputs = false;  // fill O whatever the reward (the per-glimpse figures)
  Tensor r;        // [T, B] reward of each step (packed)
  Tensor R;        // [T, B] return R_t (packed)
  Tensor A;        // [T, B] advantage R_t - b_t (packed)
  // Backward scratch.
  Tensor dh, dh_prev, dg, dhcat, dmu, dlogits, db, w;
  Tensor dc, dc_prev;  // LSTM core only: dL/dc_t, dL/dc_{t-1} [B, H]
  Tensor dz;           // LSTM core only: [T, B, 4H] dL/dz_t of every step, for the weights
  Tensor dloc_h, dloc_h_prev, dloc_c, dloc_c_prev, dloc_z;  // LSTM locator only
};

// Where the sensor looks: at the policy's mean (evaluation), at a sample
// drawn from the policy with the standard normals in ep.noise (training), or
// at locations the caller wrote into ep.noise (the random-glimpse baseline of
// the seed's fig. 3: the location network still runs, its output is unused).
enum class Locations { mean, sample, given };
// Runs T glimpses, looking where `where` says.
void episode_forward(const Parameters& params, Episode& ep, Locations where);
// Rewards (as ep.reward says), returns and advantages of the episode just run.
void episode_rewards(Episode& ep);
// The hybrid loss and its gradient, added into `grads`. Each image's terms
// are scaled by weights / batch_total. Uses ep.R and ep.A as constants.
EpisodeLoss episode_backward(const Parameters& params, Parameters& grads, Episode& ep,
                             const LossWeights& weights, int batch_total);
// Index of the largest log-probability of image r at the last step.
int episode_prediction(const Episode& ep, int r);
