// rewards.cpp: what the agent is paid, and the returns REINFORCE uses
// (RAM section 3.2).
//
// RAM's classification reward: "r_T = 1 if the object is classified correctly
// after T steps and 0 otherwise", with every earlier r_t = 0. The return of
// step t is the undiscounted sum of the rewards from t on,
//   R_t = sum_{s=t}^{T} r_s,
// so with the classification reward alone every step sees R_t = r_T. The
// location drawn at step t produced glimpse t, so R_t (which includes r_t) is
// the return credited to it.
#include "ram.h"

void classification_reward(int B, int T, int A, const real* logp_T, const uint8_t* labels, real* r) {
  for (int i = 0; i < T * B; ++i) r[i] = 0;
  real* r_T = r + static_cast<std::size_t>(T - 1) * B;
  for (int b = 0; b < B; ++b) {
    const real* logp_b = logp_T + static_cast<std::size_t>(b) * A;
    int best = 0;
    for (int a = 1; a < A; ++a)
      if (logp_b[a] > logp_b[best]) best = a;
    r_T[b] = best == labels[b] ? real(1) : real(0);
  }
}

void returns_from_rewards(int B, int T, const real* r, real* R) {
  // R_T = r_T, then R_t = r_t + R_{t+1} going backwards.
  for (int b = 0; b < B; ++b) R[static_cast<std::size_t>(T - 1) * B + b] = r[static_cast<std::size_t>(T - 1) * B + b];
  for (int s = T - 2; s >= 0; --s)
    for (int b = 0; b < B; ++b)
      R[static_cast<std::size_t>(s) * B + b] = r[static_cast<std::size_t>(s) * B + b] + R[static_cast<std::size_t>(s + 1) * B + b];
}
