// glimpse_network.cpp: the glimpse network f_g (RAM section 3.1, figure 1B).
//
//   h_g = relu(rho W_what + b_what)            "what": the retina patches
//   h_l = relu(l W_where + b_where)            "where": the location
//   g_t = relu([h_g, h_l] W_join + b_join)
//
// The paper writes g_t = relu(W_1 h_g + W_2 h_l + b); one matrix on the
// concatenation [h_g, h_l] is the same map with W_join = [W_1; W_2], and it is
// how the Torch code builds it (JoinTable, then Linear). h_g and h_l are
// written straight into the two column blocks of one [B, 256] buffer, so the
// concatenation costs nothing. The Torch code's next Linear, from g_t into the
// core, is the core's W_in (core_rnn.cpp).
//
// The location l enters only as an input: the classification gradient stops
// here and never reaches the sampled location (RAM section 3.2).
#include "model/glimpse_network.h"
#include "model/linear.h"

void glimpse_network_forward(const ModelConfig& config, const RamParams& p, const Step& now) {
  const int B = now.B, Nw = config.what_hidden, Nl = config.where_hidden;
  const int ld_cat = Nw + Nl;
  const int G = config.glimpse_features();
  // h_g = relu(rho W_what + b)          [B, 128] in hcat[:, 0:128]
  linear_forward(B, now.rho, G, p.what, now.hcat, ld_cat, Activation::relu);
  // h_l = relu(l W_where + b)           [B, 128] in hcat[:, 128:256]
  linear_forward(B, now.l, 2, p.where, now.hcat + Nw, ld_cat, Activation::relu);
  // g = relu([h_g, h_l] W_join + b)     [B, 256]
  linear_forward(B, now.hcat, ld_cat, p.join, now.g, config.glimpse_hidden, Activation::relu);
}

// The backward pass in two halves, so that the episode (ram.cpp) can run the
// first over all T steps at once: every row of it is an image's own.
//
// Forward was g = relu([h_g, h_l] W_join + b), h_g = relu(rho W_what + b),
// h_l = relu(l W_where + b). Through the relu, then the linear map, which
// hands back d[h_g, h_l], then through the first two relus:
//   da_g  = dg * [g > 0]
//   dhcat = (da_g W_join^T) * [hcat > 0]
void glimpse_network_backward_rows(const ModelConfig& config, const RamParams& p, const Step& now,
                                   const StepGrads& d) {
  const int B = now.B, ld_cat = config.what_hidden + config.where_hidden, Ng = config.glimpse_hidden;
  relu_backward(B, Ng, now.g, Ng, d.dg, Ng);
  linear_backward_input(B, d.dg, Ng, p.join, d.dhcat, ld_cat, false);
  relu_backward(B, ld_cat, now.hcat, ld_cat, d.dhcat, ld_cat);
}

// The weights' share, from the gradients the first half made, summed over
// the steps t = T, T - 1, ..., 1 in turn:
//   dW_join  += hcat_t^T da_g,t,                db_join  += sum_rows da_g,t
//   dW_what  += rho_t^T dhcat_t[:, 0:128],      db_what  += sum_rows dhcat_t[:, 0:128]
//   dW_where += l_t^T dhcat_t[:, 128:256],      db_where += sum_rows dhcat_t[:, 128:256]
// Each product is one pass over its dW for all the steps (the bits of a
// pass per step: linear_backward_weight_steps). Neither rho nor l is
// trained, so no input gradient is formed.
void glimpse_network_backward_weights(const ModelConfig& config, const RamParams& p, const RamParams& grad,
                                      const Step& last, const StepGrads& d_last, int steps, int step_rows) {
  const int B = last.B, Nw = config.what_hidden, ld_cat = Nw + config.where_hidden, Ng = config.glimpse_hidden;
  const int G = config.glimpse_features();
  // From one step's rows to the step before's, in each buffer.
  auto back = [&](int ld) { return -static_cast<std::ptrdiff_t>(step_rows) * ld; };
  linear_backward_weight_steps(B, steps, last.hcat, ld_cat, back(ld_cat), d_last.dg, Ng, back(Ng), p.join, grad.join);
  linear_backward_weight_steps(B, steps, last.rho, G, back(G), d_last.dhcat, ld_cat, back(ld_cat), p.what, grad.what);
  linear_backward_weight_steps(B, steps, last.l, 2, back(2), d_last.dhcat + Nw, ld_cat, back(ld_cat), p.where,
                               grad.where);
}
