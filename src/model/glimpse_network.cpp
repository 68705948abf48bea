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

void glimpse_network_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& now,
                              const StepGrads& d) {
  const int B = now.B, Nw = config.what_hidden, Nl = config.where_hidden;
  const int ld_cat = Nw + Nl;
  const int Ng = config.glimpse_hidden;
  const int G = config.glimpse_features();
  // Forward was g = relu([h_g, h_l] W_join + b): through the relu, then the
  // linear map, which hands back d[h_g, h_l].
  relu_backward(B, Ng, now.g, Ng, d.dg, Ng);
  linear_backward(B, now.hcat, ld_cat, d.dg, Ng, p.join, grad.join, d.dhcat, ld_cat, false);
  relu_backward(B, ld_cat, now.hcat, ld_cat, d.dhcat, ld_cat);
  // Forward was h_g = relu(rho W_what + b), h_l = relu(l W_where + b). Neither
  // rho nor l is trained, so no input gradient is formed (dx = nullptr).
  linear_backward(B, now.rho, G, d.dhcat, ld_cat, p.what, grad.what, nullptr, 0, false);
  linear_backward(B, now.l, 2, d.dhcat + Nw, ld_cat, p.where, grad.where, nullptr, 0, false);
}
