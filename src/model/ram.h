// ram.h: the unrolled model, one episode of T glimpses for a batch of images
// (RAM section 3, figure 1): the forward pass, the rewards, and the backward
// pass of the hybrid loss that trains it.
#pragma once

#include <vector>

#include "model/action_network.h"
#include "model/baseline.h"
#include "model/core_lstm.h"
#include "model/core_rnn.h"
#include "model/glimpse_network.h"
#include "model/glimpse_sensor.h"
#include "model/location_network.h"
#include "model/reinforce.h"
#include "model/rewards.h"

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
