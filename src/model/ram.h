// ram.h: the unrolled model, one episode of T glimpses for a batch of images
// (RAM section 3, figure 1): the forward pass, the rewards, and the backward
// pass of the hybrid loss that trains it.
#pragma once

#include <vector>

#include "model/action_network.h"
#include "model/baseline.h"
#include "model/core.h"
#include "model/glimpse_network.h"
#include "model/glimpse_sensor.h"
#include "model/location_network.h"
#include "model/reinforce.h"
#include "model/rewards.h"
#include "model/step.h"

// One episode (ram.cpp): every activation of T glimpses for up to `capacity`
// images, kept for backpropagation through time. Steps are indexed
// s = 0..T-1 for glimpses t = 1..T; step(s) names the rows of one (step.h).

struct Episode {
  explicit Episode(const ModelConfig& config, int capacity);
  void resize(int B);  // B <= capacity; keeps the buffers

  // Glimpse t = s + 1's views; step(-1) is the zero state before the first.
  Step step(int s) const;
  // The same views of images [first, end) alone: a block of rows that runs
  // on its own (episode_forward).
  Step step(int s, int first, int end) const;
  // The backward scratch of step s; its views into step s - 1 are nullptr at s = 0.
  StepGrads grads(int s) const;
  // The scratch of a locator gradient that stays within step s (the
  // change-code term): grads(s) with the LSTM locator's views into step
  // s - 1 nullptr, and its dloc_h, dloc_c buffers of their own. (The stop at
  // h_{t-1} is immediate_reinforce_backward's.)
  StepGrads step_only_grads(int s) const;
  // The policy's draws for image row j over all T glimpses, from its own
  // random stream (location_draws): what Locations::sample and
  // Locations::given read.
  void draw_locations(int j, uint64_t stream, Locations where);

  ModelConfig config;
  int capacity = 0;
  int B = 0;
  std::vector<const uint8_t*> images;  // [B] pointers to [C, H, W] bytes
  std::vector<uint8_t> labels;         // [B]
  // [B, C, height + 1, width + 1] the images' summed-area tables, made by
  // episode_forward for the retina's coarse scales; empty when they do not
  // pay (glimpse_tables_pay).
  std::vector<GlimpseTableSum> image_tables;
  // Forward activations, each [T, capacity, ...]: step s starts at row
  // s * capacity and uses its first B rows.
  Tensor noise;    // [T, B, 2] the policy's draws (training; given locations)
  Tensor mu_pre;   // [T, B, 2] locator output before the hardtanh
  Tensor mu;       // [T, B, 2] policy mean
  Tensor l_raw;    // [T, B, 2] sampled location (the policy's action)
  Tensor l;        // [T, B, 2] clamped location, where the sensor looked
  Tensor rho;      // [T, B, G] retina output
  Tensor hcat;     // [T, B, 256] [h_g, h_l]
  Tensor g;        // [T, B, 256] glimpse vector
  Tensor h;        // [T, B, H] core state h_t (h_0 = 0 is not stored)
  Tensor gates;    // [T, B, 4H] LSTM and GRU cores only: their gates (step.h)
  Tensor cell;     // [T, B, H] LSTM core only: cell c_t (c_0 = 0 is not stored)
  Tensor loc_gates;  // [T, B, 8] LSTM locator only: i, f, o, u of its two units
  Tensor loc_cell;   // [T, B, 2] LSTM locator only: its cell (its output is mu_pre)
  Tensor b;        // [T, B] baseline b_t, from h_{t-1} (packed: row s at s*B)
  Tensor logp;     // [B, A] log-probabilities from h_T
  // Rewards.
  RewardConfig reward;  // what episode_rewards pays, and what O holds (reward.output)
  Tensor O;        // [T + 1, B, A] action network on every h_t (the seed's rewards, or all_outputs; packed)
  bool all_outputs = false;  // fill O whatever the reward (the per-glimpse figures)
  const real* reference = nullptr;  // [B, A] change-code: z_ref's rows for this episode's images
  Tensor r;        // [T, B] reward of each step (packed)
  Tensor immediate;  // [T, B] change-code: c_t, paid to each step alone (packed)
  Tensor R;        // [T, B] return R_t (packed)
  Tensor A;        // [T, B] advantage R_t - b_t (packed)
  // Backward scratch, named per step by grads(s). The gradients of a state
  // and of the state before take turns in two buffers, step by step.
  Tensor dh_turns[2];   // [B, H] dL/dh_t, dL/dh_{t-1}
  Tensor dc_turns[2];   // [B, H] LSTM core only: dL/dc_t, dL/dc_{t-1}
  Tensor dz;            // [T, B, 4H] LSTM and GRU cores only: dL/dz_t of every step, for the weights
  Tensor dg, dhcat;     // [T, B, 256] dL/dg_t, dL/d[h_g, h_l]_t of every step
  Tensor dmu;           // [B, 2]
  Tensor dlogits;       // [B, A]
  Tensor db, w;         // [B]
  Tensor dloc_h_turns[2], dloc_c_turns[2];  // [B, 2] LSTM locator only
  Tensor dloc_z;                            // [B, 8] LSTM locator only
  Tensor dloc_h_once, dloc_c_once;          // [B, 2] LSTM locator only: step_only_grads' own
};

// The memory an Episode(config, capacity) allocates, in bytes, counted
// without allocating it: every buffer above, at its full capacity.
std::size_t episode_bytes(const ModelConfig& config, int capacity);

// Runs T glimpses, looking where `where` says (location_network.h): at the
// policy's mean, at a sample drawn with the standard normals in ep.noise, or
// at the locations in ep.noise. A thread leading a team (thread_pool.h)
// hands each member blocks of images to run through all T glimpses.
void episode_forward(const Parameters& params, Episode& ep, Locations where);
// Rewards (as ep.reward says), returns and advantages of the episode just
// run; change-code also its immediate rewards, against ep.reference.
void episode_rewards(Episode& ep);
// The hybrid loss and its gradient, added into `grads`. Each image's terms
// are scaled by weights / batch_total. Uses ep.R and ep.A as constants. A
// model that looks at random places (LocationSource::random, episode_forward
// with Locations::given) has the classification term alone.
EpisodeLoss episode_backward(const Parameters& params, Parameters& grads, Episode& ep,
                             const LossWeights& weights, int batch_total);
// Index of the largest log-probability of image r at the last step.
int episode_prediction(const Episode& ep, int r);
