// optimizer.h: the two update rules training offers.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/tensor.h"

class ThreadPool;

enum class OptimizerKind { sgd, adam };

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::sgd;
  double lr = 0.01;           // learning rate at epoch 0
  double min_lr = 1e-5;       // floor of the linear decay (Torch --minLR)
  double decay_epochs = 800;  // epochs over which lr falls to min_lr (Torch --saturateEpoch)
  double momentum = 0.9;      // SGD only (Torch --momentum)
  double dampening = 0.9;     // SGD only: the Torch code's dpnn damps by the momentum
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam only (Kingma and Ba 2015)
};

// Scales grads [n] so that its Euclidean norm is at most max_norm (the Torch
// code's --cutoffNorm; max_norm <= 0 leaves it alone). Returns the norm before
// scaling. The sum runs in one fixed order, so the result does not depend on
// the thread count.
double clip_gradient_norm(real* grads, std::size_t n, double max_norm);

// The learning rate of an epoch (0-based): linear from lr to min_lr over
// decay_epochs, then min_lr, as the Torch code schedules it.
double learning_rate_at(const OptimizerConfig& config, int epoch);

class Optimizer {
 public:
  Optimizer(const OptimizerConfig& config, std::size_t size);
  // One update of params [n] from grads [n] at learning rate lr.
  void step(real* params, const real* grads, double lr);
  // The same update, split over the pool's threads by element ranges (each
  // element's update is independent, so the result is the same).
  void step(ThreadPool& pool, real* params, const real* grads, double lr);

  const OptimizerConfig& config() const { return config_; }
  // State for checkpoints: the update count and the moment buffers
  // (SGD: velocity in first; Adam: first and second moments).
  int64_t steps = 0;
  Tensor first, second;

 private:
  // Elements [begin, end) of the update numbered `steps`.
  void update(real* params, const real* grads, double lr, std::size_t begin, std::size_t end);
  OptimizerConfig config_;
};
