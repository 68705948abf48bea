// glimpse_network.h: the glimpse network f_g (RAM section 3.1, figure 1B).
#pragma once

#include "model/parameters.h"

// Glimpse network f_g (glimpse_network.cpp; RAM section 3.1, figure 1B).
//   h_g = relu(rho W_what + b),  h_l = relu(l W_where + b)
//   g   = relu([h_g, h_l] W_join + b)

struct GlimpseActivations {
  real* hcat;  // [B, 256]: h_g in columns 0..127, h_l in 128..255
  real* g;     // [B, 256]
};
void glimpse_network_forward(const ModelConfig& config, const RamParams& p, int B,
                             const real* rho, const real* l, GlimpseActivations out);
// dg [B, 256] is overwritten (it becomes the gradient at the pre-activation);
// dhcat [B, 256] is scratch.
void glimpse_network_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad,
                              int B, const real* rho, const real* l, GlimpseActivations act,
                              real* dg, real* dhcat);
