// train.h: the training run, its configuration, and evaluation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "datasets/catalog.h"
#include "model/ram.h"
#include "train/optimizer.h"

struct TrainConfig {
  std::string dataset = "mnist";     // which loader reads data_dir
  std::string data_dir = "data/mnist";
  PlacementConfig placement;         // translated-mnist and cluttered-mnist only
  std::string out_dir;               // RUN_DIR: metrics, checkpoints, command
  ModelConfig model;
  OptimizerConfig optimizer{OptimizerKind::adam, 0.001};  // decay_epochs: the settings table derives it from epochs
  LossWeights loss;
  RewardConfig reward;               // classification reward, or a seed variant
  int batch = 32;     // images per update (the later Torch script's --batchSize)
  int epochs = 100;   // passes over the training split
  int shards = 2;     // fixed cut of each batch; results depend on it, not on threads
  int threads = 2;    // worker threads (results do not depend on it)
  uint64_t seed = 1;  // fixes the split, the initial weights, the order and the noise
  double clip_norm = 0;    // gradient-norm ceiling (Torch --cutoffNorm); 0: none
  double max_minutes = 0;  // stop once an epoch ends past this much run time; 0: no limit
};

// Reads the named data set (datasets/catalog.h) and fills the image and
// class fields of `model` from it.
DataSplits load_dataset(const std::string& name, const std::string& dir, uint64_t seed,
                        const PlacementConfig& placement, ModelConfig& model);

struct Evaluation {
  double error = 0;  // fraction misclassified, policy mean locations
  double nll = 0;    // mean -log p(y | h_T)
  std::vector<double> mean_location;  // [T, 2]: average (x, y) of each glimpse
};
class ThreadPool;
// Classifies a data set at the policy mean, in chunks of 100 images spread
// over the pool's threads, each thread with its own workspace, kept between
// calls so that repeated evaluations allocate nothing. It runs on its own copy
// of the weights, with their column panels made (Parameters::refresh_panels).
class Evaluator {
 public:
  Evaluator(const ModelConfig& config, int threads);
  Evaluation run(ThreadPool& pool, const Parameters& params, const Dataset& data);

 private:
  static constexpr int kChunk = 100;
  ModelConfig config_;
  std::vector<std::unique_ptr<Episode>> episodes_;
  Parameters weights_;
};
// One evaluation with a fresh Evaluator.
Evaluation evaluate(const Parameters& params, const ModelConfig& config, const Dataset& data,
                    ThreadPool& pool);

// The gradient of the hybrid loss over one batch, computed in `shards` fixed
// row ranges, each with its own workspace and gradient buffer, summed in
// shard order: the result does not depend on the pool's thread count. Threads
// beyond the shard count share each shard's big products, cut by blocks of
// their output (ThreadPool::run_teams, kernels/gemm.cpp), with the same bits.
class BatchGradient {
 public:
  BatchGradient(const ModelConfig& config, int batch, int shards, const RewardConfig& reward = {});
  // Images data[indices[0..batch-1]]; the policy noise of row j is drawn from
  // Rng(mix_key(noise_key, j)). Leaves the gradient in grads() and returns
  // the summed loss terms (already divided by the batch size). Makes the
  // parameters' weight panels for the batch and drops them after it
  // (Parameters::lay_out_panels, fill_panels, drop_panels).
  EpisodeLoss compute(ThreadPool& pool, Parameters& params, const LossWeights& weights,
                      const Dataset& data, const int* indices, uint64_t noise_key);
  const Parameters& grads() const { return grads_; }
  Parameters& grads() { return grads_; }
  // Whether every element of the last gradient is finite.
  bool finite() const { return finite_; }
  int batch() const { return batch_; }

 private:
  int batch_, shards_;
  std::vector<std::unique_ptr<Episode>> episodes_;
  std::vector<std::unique_ptr<Parameters>> shard_grads_;  // shards 1..S-1; shard 0 adds into grads_
  bool shards_clear_ = true;  // shard_grads_ all zero: the sum after each batch clears them
  std::vector<EpisodeLoss> shard_loss_;
  Parameters grads_;
  std::vector<char> finite_parts_;  // per element range: all sums finite
  bool finite_ = true;
};

// Runs training as configured, writing RUN_DIR/{metrics.csv, model.bin,
// last.bin, command.txt}. `resume` continues from RUN_DIR/last.bin. Each
// call appends two lines to command.txt: `command_line`, then
// kSettingsPrefix and every setting as flags (settings_command_line).
// Returns the test error of the model with the best validation error.
constexpr const char* kSettingsPrefix = "  settings: ";
double train(TrainConfig config, bool resume, const std::string& command_line);
