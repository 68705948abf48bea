// rewards.h: rewards and returns (RAM section 3.2; seed equation 2).
#pragma once

#include <cstdint>
#include "kernels/tensor.h"

// Rewards and returns (rewards.cpp; RAM section 3.2).

// r [T, B]: r_T = 1 where the class predicted from h_T is the label, all
// earlier rewards 0.
void classification_reward(int B, int T, int A, const real* logp_T, const uint8_t* labels, real* r);
// R_t = sum_{s >= t} r_s, undiscounted: R [T, B] from r [T, B].
void returns_from_rewards(int B, int T, const real* r, real* R);

// The seed paper's extra rewards, added to r at every glimpse, from the
// action network's log-probabilities O_t on every h_t (O [T + 1, B, A],
// O_0 from h_0 = 0, that is log_softmax(b_a)):
//   change (seed eq. 2):  r_t += coef * ||O_t - O_{t-1}||_2
//   lowstd (seed code):   r_t += coef * std(O_t), the sample standard
//                         deviation over the A outputs
enum class RewardKind { classify, change, lowstd };
struct RewardConfig {
  RewardKind kind = RewardKind::classify;
  double coef = 1.0;  // seed eq. 2 has none (1); the seed's code uses 0.01 for lowstd
};
void output_change_reward(int B, int T, int A, const real* O, double coef, real* r);
void low_std_reward(int B, int T, int A, const real* O, double coef, real* r);
