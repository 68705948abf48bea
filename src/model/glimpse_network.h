// glimpse_network.h: the glimpse network f_g (RAM section 3.1, figure 1B).
#pragma once

#include "model/parameters.h"
#include "model/step.h"

// Glimpse network f_g (glimpse_network.cpp; RAM section 3.1, figure 1B).
//   h_g = relu(rho W_what + b),  h_l = relu(l W_where + b)
//   g   = relu([h_g, h_l] W_join + b)

// Reads now.rho and now.l, writes now.hcat and now.g.
void glimpse_network_forward(const ModelConfig& config, const RamParams& p, const Step& now);
// d.dg [B, 256] holds dL/dg_t and is overwritten (it becomes the gradient at
// the pre-activation); d.dhcat [B, 256] is scratch. Stops at rho and l.
void glimpse_network_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& now,
                              const StepGrads& d);
