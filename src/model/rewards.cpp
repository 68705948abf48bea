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
//
// The seed paper's extra per-glimpse rewards (output change, low standard
// deviation) are at the end of this file; they change r, and so every R_t,
// but not the rule above.
#include <cmath>

#include "model/ram.h"

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

// Seed equation 2: r_t := r_t + ||O_t - O_{t-1}||_2, "where O_t is the output
// of the classifier module ... on timestep t". O [T + 1, B, A] holds O_0..O_T;
// the glimpse of step t changed O_{t-1} into O_t, so r_t pays for it.
void output_change_reward(int B, int T, int A, const real* O, double coef, real* r) {
  for (int s = 0; s < T; ++s) {
    for (int b = 0; b < B; ++b) {
      const real* before = O + (static_cast<std::size_t>(s) * B + b) * A;
      const real* after = O + (static_cast<std::size_t>(s + 1) * B + b) * A;
      double squared = 0;
      for (int a = 0; a < A; ++a) squared += (after[a] - before[a]) * static_cast<double>(after[a] - before[a]);
      r[static_cast<std::size_t>(s) * B + b] += static_cast<real>(coef * std::sqrt(squared));
    }
  }
}

// The seed's code: r_t += 0.01 * std(O_t), the standard deviation of the A
// log-probabilities after glimpse t, with Torch's default n - 1 divisor. Its
// text calls this rewarding "low standard deviation" yet explains it as
// rewarding confidence in one class: a confident O_t (one log-probability
// near 0, the others very negative) has a LARGE spread, so a positive coef
// pays confidence, as the code does. A negative coef pays low spread.
void low_std_reward(int B, int T, int A, const real* O, double coef, real* r) {
  for (int s = 0; s < T; ++s) {
    for (int b = 0; b < B; ++b) {
      const real* o = O + (static_cast<std::size_t>(s + 1) * B + b) * A;
      double mean = 0;
      for (int a = 0; a < A; ++a) mean += o[a];
      mean /= A;
      double squares = 0;
      for (int a = 0; a < A; ++a) squares += (o[a] - mean) * (o[a] - mean);
      r[static_cast<std::size_t>(s) * B + b] += static_cast<real>(coef * std::sqrt(squares / (A - 1)));
    }
  }
}
