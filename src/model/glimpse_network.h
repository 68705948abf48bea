// glimpse_network.h: the glimpse network f_g (RAM section 3.1, figure 1B).
#pragma once

#include "model/parameters.h"
#include "model/step.h"

// Glimpse network f_g (glimpse_network.cpp; RAM section 3.1, figure 1B).
//   h_g = relu(rho W_what + b),  h_l = relu(l W_where + b)
//   g   = relu([h_g, h_l] W_join + b)

// Reads now.rho and now.l, writes now.hcat and now.g.
void glimpse_network_forward(const ModelConfig& config, const RamParams& p, const Step& now);
// The backward pass in two halves (glimpse_network.cpp). The first reads
// d.dg [B, 256], dL/dg_t, and overwrites it with the gradient at g's
// pre-activation; it writes d.dhcat [B, 256], the gradient at [h_g, h_l]'s
// pre-activations. Its rows are the images' own, so now.B may span several
// steps' rows at once (ram.cpp). The second adds the weights' share of
// `steps` steps from those two, from the step of `last` and `d_last` back,
// each step's rows `step_rows` rows before the next one's. Both stop at rho
// and l.
void glimpse_network_backward_rows(const ModelConfig& config, const RamParams& p, const Step& now,
                                   const StepGrads& d);
void glimpse_network_backward_weights(const ModelConfig& config, const RamParams& p, const RamParams& grad,
                                      const Step& last, const StepGrads& d_last, int steps, int step_rows);
