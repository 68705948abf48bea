// location_network.h: the location network f_l and its Gaussian policy (RAM section 3.1, seed equation 1).
#pragma once

#include "model/parameters.h"

// Location network f_l and its Gaussian policy (location_network.cpp; RAM
// section 3.1, seed equation 1).
//   mu_t = hardtanh(h_{t-1} W_loc + b),  l_raw ~ N(mu_t, sigma^2 I),
//   l_t  = clamp(l_raw, -1, 1)

// mu_pre, mu [B, 2]. When noise is given ([B, 2] standard normals) writes
// l_raw = mu + sigma * noise and l = clamp(l_raw); without noise l = l_raw = mu
// (evaluation uses the mean, as the Torch code does).
void location_network_forward(const ModelConfig& config, const RamParams& p, int B, int H,
                              const real* h_prev, const real* noise, real* mu_pre, real* mu,
                              real* l_raw, real* l);
// The seed's LSTM locator: mu_pre = LSTM(h_prev) with a two-unit state
// (loc_h_prev = the previous step's mu_pre, loc_c_prev), gates [B, 8], loc_c [B, 2].
void location_lstm_forward(const ModelConfig& config, const RamParams& p, int B, int H,
                           const real* h_prev, const real* loc_h_prev, const real* loc_c_prev,
                           const real* noise, real* loc_gates, real* loc_c, real* mu_pre, real* mu,
                           real* l_raw, real* l);
// log pi(l_raw | mu) of one image, a 2-d isotropic Gaussian.
double gaussian_log_prob(const real* l_raw, const real* mu, double sigma);
// The REINFORCE term for one step: loss = -sum_b weight_b * log pi(l_raw_b | mu_b)
// with weight_b a constant (the scaled advantage). Adds its gradient into the
// locator's parameters and into dh_prev (unless nullptr). dmu [B, 2] scratch.
void location_network_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad,
                               int B, int H, const real* h_prev, const real* mu_pre,
                               const real* mu, const real* l_raw, const real* weight,
                               real* dmu, real* dh_prev);

// The REINFORCE term for the LSTM locator. dloc_h, dloc_c [B, 2] arrive with
// what the locator's later steps sent back; the step's score gradient is
// added to dloc_h. Adds into dh_prev and dloc_h_prev, writes dloc_c_prev
// (each skipped when nullptr). dloc_z [B, 8], dmu [B, 2] scratch.
void location_lstm_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, int B,
                            int H, const real* h_prev, const real* loc_h_prev, const real* loc_c_prev,
                            const real* loc_gates, const real* loc_c, const real* mu_pre, const real* mu,
                            const real* l_raw, const real* weight, real* dloc_h, real* dloc_c,
                            real* dloc_z, real* dmu, real* dh_prev, real* dloc_h_prev,
                            real* dloc_c_prev);
