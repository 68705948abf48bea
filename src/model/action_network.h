// action_network.h: the action network f_a, the classifier (RAM section 3.1).
#pragma once

#include <cstdint>
#include "model/parameters.h"

// Action network f_a (action_network.cpp; RAM section 3.1).
//   logp = log_softmax(h W_a + b)

// h == nullptr stands for h_0 = 0 (the seed's O_0).
void action_network_forward(const RamParams& p, int B, int H, int A, const real* h, real* logp);
// The logits h W_a + b alone, before the log_softmax (the seed's code reads
// them for its rewards).
void action_network_logits(const RamParams& p, int B, int H, int A, const real* h, real* logits);
// In place, each of B rows of A values: z -> z - log sum exp(z).
void log_softmax_rows(int B, int A, real* logp);
// Loss = sum_b weight * -logp[b, label_b]; adds its gradient into the action
// parameters and into dh. Returns the loss. dlogits [B, A] scratch.
double action_network_nll_backward(const RamParams& p, const RamParams& grad, int B, int H, int A,
                                   const real* h, const real* logp, const uint8_t* labels,
                                   double weight, real* dlogits, real* dh);
