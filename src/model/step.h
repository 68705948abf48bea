// step.h: one glimpse of the unrolled model as named views, the column of
// RAM's figure 1 that every component reads and writes (RAM section 3).
//
// An episode (ram.h) keeps its activations in [T, capacity, ...] buffers;
// ep.step(s) names the B rows of glimpse t = s + 1 in each of them, and the
// components take (config, params, prev, now): what they read of step t - 1
// and what they read and write of step t. The step before the first,
// ep.step(-1), is the zero state: h_0 = c_0 = 0 and the LSTM locator's
// zero state are nullptr views, which every component reads as zeros.
#pragma once

#include <cstdint>

#include "kernels/tensor.h"

// Step t's activations, each [B, ...] with rows contiguous (size legend in
// tensor.h; 256 stands for the glimpse network's widths, 128 + 128 and 256).
struct Step {
  int B = 0;                            // images
  const uint8_t* const* x = nullptr;    // [B] the images, each [C, height, width] bytes
  const uint16_t* x_tables = nullptr;   // [B, C, height + 1, width + 1] their summed-area tables modulo 2^16, or nullptr (glimpse_sensor.h)
  // Location network f_l and its policy (location_network.h).
  real* mu_pre = nullptr;     // [B, 2] the locator's output before the hardtanh
  real* loc_gates = nullptr;  // [B, 8] LSTM locator only: i, f, o, u of its two units
  real* loc_c = nullptr;      // [B, 2] LSTM locator only: its cell (its output is mu_pre)
  real* mu = nullptr;         // [B, 2] the policy's mean
  real* noise = nullptr;      // [B, 2] the policy's draws: standard normals, or given locations
  real* l_raw = nullptr;      // [B, 2] the action drawn, l_raw ~ N(mu, sigma^2 I)
  real* l = nullptr;          // [B, 2] clamp(l_raw, -1, 1): where the sensor looks
  // Baseline (baseline.h).
  real* b = nullptr;          // [B] b_t, from h_{t-1}
  // Glimpse sensor and glimpse network (glimpse_sensor.h, glimpse_network.h).
  real* rho = nullptr;        // [B, G] the retina's patches
  real* hcat = nullptr;       // [B, 256] [h_g, h_l]
  real* g = nullptr;          // [B, 256] the glimpse vector g_t
  // Core f_h (core.h).
  real* gates = nullptr;      // [B, 4H] the core's gates (LSTM: i, f, o, u; GRU: n, z, r, h U_n); RNN: nullptr
  real* c = nullptr;          // [B, H] LSTM core only: the cell c_t
  real* h = nullptr;          // [B, H] the state h_t
  // The classifier on h_t and the rewards (action_network.h, rewards.h).
  real* O = nullptr;          // [B, A] the classifier's output on h_t (logits or log-probabilities), when kept
  real* r = nullptr;          // [B] reward r_t
  real* immediate = nullptr;  // [B] change-code: c_t, paid to l_t alone (rewards.h)
  real* R = nullptr;          // [B] return R_t
  real* A = nullptr;          // [B] advantage R_t - b_t
};

// The gradients flowing through step t during backpropagation through time,
// each [B, ...]: the backward scratch of an episode (ep.grads(s)). At t = 1
// the views into step t - 1 (dh_prev, dc_prev, dloc_h_prev, dloc_c_prev)
// are nullptr: h_0, c_0 and the locator's zero state are constants.
struct StepGrads {
  real* dh = nullptr;           // [B, H] dL/dh_t, complete when step t is reached
  real* dh_prev = nullptr;      // [B, H] dL/dh_{t-1}, being summed by the core and the locator
  real* dc = nullptr;           // [B, H] LSTM core: dL/dc_t from later steps, then in full
  real* dc_prev = nullptr;      // [B, H] LSTM core: dL/dc_{t-1}
  real* dz = nullptr;           // [B, 4H] LSTM and GRU cores: dL/d(gate pre-activations), kept per step
  real* dg = nullptr;           // [B, 256] dL/dg_t, kept for all T steps
  real* dhcat = nullptr;        // [B, 256] dL/d[h_g, h_l], kept for all T steps
  real* w = nullptr;            // [B] REINFORCE's per-image weights (w_reinforce / M) (R_t - b_t)
  real* dmu = nullptr;          // [B, 2] dL/dmu_t from REINFORCE, then dL/dmu_pre_t
  real* db = nullptr;           // [B] dL/db_t of the baseline regression
  real* dloc_h = nullptr;       // [B, 2] LSTM locator: dL/d(its output mu_pre_t) from later steps
  real* dloc_c = nullptr;       // [B, 2] LSTM locator: dL/d(its cell) from later steps
  real* dloc_h_prev = nullptr;  // [B, 2] LSTM locator: the same for step t - 1
  real* dloc_c_prev = nullptr;  // [B, 2]
  real* dloc_z = nullptr;       // [B, 8] LSTM locator: dL/d(its gate pre-activations)
};
