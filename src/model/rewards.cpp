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
// The seed paper's extra per-glimpse rewards are at the end of this file.
// The output change of equation 2 and the low standard deviation change r,
// and so every R_t, but not the rule above; the change reward as the seed's
// code ran it is paid beside r, to each location alone.
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
// the glimpse of step t changed O_{t-1} into O_t, so r_t pays for it. The
// seed's code reads O_t before the LogSoftMax (the logits, our default).
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

// The seed's code (ChangeReward.lua, branch std: `torch.std(
// currentClassifierOutput, 2):squeeze() *.01`): r_t += 0.01 * std(O_t), the
// standard deviation of the A outputs after glimpse t (there the logits),
// with Torch's default n - 1 divisor. Its
// text calls this rewarding "low standard deviation" yet explains it as
// rewarding confidence in one class: a confident O_t (one log-probability
// near 0, the others very negative) has a LARGE spread, so a positive coef
// pays confidence, as the code does. A negative coef pays low spread.
// (In the seed's code this reward, like the change reward below, was paid to
// each location at once; here it goes through the returns.)
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

// The change reward as the seed's code ran it (ChangeReward.lua and
// RecurrentAttention.lua, branch norm-lstm). The criterion keeps
// `self.classifierOutput = self.classifierOutput or
// currentClassifierOutput:clone()`: the first O_t it ever sees, the logits
// after the first glimpse of the first training batch, cloned once and never
// refreshed. Every later call pays `torch.norm(diff, 2, 2)`, per image, the
// distance of the current output from that reference:
//   c_t = coef ||O_t - z_ref||_2,   image b against z_ref's row b.
// c_t is paid to step t at once (reinforce.cpp: immediate_reinforce_backward),
// not summed into returns, and stays out of r.
void reference_change_reward(int B, int T, int A, const real* O, const real* z_ref, double coef, real* c) {
  for (int s = 0; s < T; ++s) {
    for (int b = 0; b < B; ++b) {
      const real* now = O + (static_cast<std::size_t>(s + 1) * B + b) * A;
      const real* ref = z_ref + static_cast<std::size_t>(b) * A;
      double squared = 0;
      for (int a = 0; a < A; ++a) squared += (now[a] - ref[a]) * static_cast<double>(now[a] - ref[a]);
      c[static_cast<std::size_t>(s) * B + b] = static_cast<real>(coef * std::sqrt(squared));
    }
  }
}
