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

// The seed paper's extra rewards, from the action network's output O_t on
// every h_t (O [T + 1, B, A], O_0 from h_0 = 0): its logits h_t W_a + b_a
// (the seed's code, our default) or its log-probabilities (--reward-output).
//   change (seed eq. 2):     r_t += coef * ||O_t - O_{t-1}||_2, through the returns
//   lowstd (seed's code):    r_t += coef * std(O_t), the sample standard
//                            deviation over the A outputs
//   change-code (the seed's  c_t = coef * ||O_t - z_ref||_2, z_ref a fixed
//   code as it ran):         reference output; paid to l_t alone, beside r
//                            (reinforce.h: immediate_reinforce_backward)
enum class RewardKind { classify, change, lowstd, change_code };
enum class RewardOutput { logits, logprobs };
struct RewardConfig {
  RewardKind kind = RewardKind::classify;
  double coef = 1.0;  // seed eq. 2 has none (1); the seed's code uses 0.01 for lowstd
  RewardOutput output = RewardOutput::logits;  // what O_t is (the seed's code: the logits)
};
void output_change_reward(int B, int T, int A, const real* O, double coef, real* r);
void low_std_reward(int B, int T, int A, const real* O, double coef, real* r);
// c [T, B] = coef * ||O_t - z_ref||_2 for t = 1..T, image b against z_ref's
// row b (z_ref [B, A]).
void reference_change_reward(int B, int T, int A, const real* O, const real* z_ref, double coef, real* c);
