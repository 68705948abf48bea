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
  InitKind init = InitKind::ours;    // the initial weights (Parameters::init_uniform)
  int batch = 32;     // images per update (the later Torch script's --batchSize)
  int epochs = 100;   // passes over the training split
  int shards = 2;     // fixed cut of each batch; results depend on it, not on threads
  int threads = 2;    // worker threads (results do not depend on it)
  uint64_t seed = 1;  // fixes the split, the initial weights, the order and the noise
  double clip_norm = 0;    // gradient-norm ceiling (Torch --cutoffNorm); 0: none
  double max_minutes = 0;  // stop once an epoch ends past this much run time; 0: no limit
  int patience = 0;        // stop after this many epochs without a better validation error; 0: never
  int shift = 0;           // training images moved by up to this many pixels, anew each epoch (ours)
  std::string data_fingerprint;  // the data it was trained on (data_fingerprint below); "": not known
};

// Reads the named data set (datasets/catalog.h) and fills the image and
// class fields of `model` from it.
DataSplits load_dataset(const std::string& name, const std::string& dir, uint64_t seed,
                        const PlacementConfig& placement, ModelConfig& model);

// The identity of a data set as a run sees it: the fingerprint
// (kernels/fingerprint.h) of its test split's shape, labels and pixels, as
// 16 hex digits. The test split is fixed by the files (or, for the data sets
// made on the fly, by the seed and the placement), not by the seed's split of
// the training images. Checkpoints record it; train (--resume) and
// load_trained (checkpoint.h) refuse other data.
std::string data_fingerprint(const DataSplits& data);

struct Evaluation {
  double error = 0;  // fraction misclassified, where evaluation looks
  double nll = 0;    // mean -log p(y | h_T)
  std::vector<double> mean_location;  // [T, 2]: average (x, y) of each glimpse
  int non_finite = 0;  // images whose log-probabilities are not all finite (weights that overflow)
};
class ThreadPool;
// Where evaluation looks: at the policy's mean; or, for a model that looks at
// random places (--locations random), image i of the data set at the places
// drawn from Rng(evaluation_stream(seed, i)) (location_draws), fixed by the
// run's seed whatever the thread count.
Locations evaluation_locations(const ModelConfig& config);
uint64_t evaluation_stream(uint64_t seed, int image);

// The memory, in bytes, that evaluation on `threads` threads allocates
// (Evaluator), and that training allocates besides the data set
// (BatchGradient, Evaluator, the optimizer and the copies of the weights):
// estimates from the buffers' shapes (episode_bytes, parameter_count), made
// before any of them exists.
std::size_t evaluation_bytes(const ModelConfig& model, int threads);
std::size_t training_bytes(const ModelConfig& model, int batch, int shards, int threads);
// Throws std::runtime_error "<what> needs about X GB of memory, more than
// this machine's Y GB" when `bytes` exceed the machine's physical memory.
void require_memory(std::size_t bytes, const std::string& what);

// Classifies a data set where evaluation looks, in chunks of 100 images spread
// over the pool's threads, each thread with its own workspace, kept between
// calls so that repeated evaluations allocate nothing. It runs on its own copy
// of the weights, with their column panels made (Parameters::refresh_panels).
// `seed`: the run's, for random places.
//
// paths > 0 (ours, `ram eval --paths M`): instead of the one path at the
// policy's mean, M glimpse paths drawn from the policy (or, for a model that
// looks at random places, M draws of them), and each image's class is the
// largest of its mean class probability over the paths, a Monte Carlo
// estimate of E_l[p(y | x, l)] under the policy the model was trained with.
// Path m of image i draws from Rng(path_stream(seed, i, m)): the seed fixes
// the paths whatever the thread count. `nll` is -log of the mean
// probability, `mean_location` the mean over the paths.
class Evaluator {
 public:
  static constexpr int kChunk = 100;  // images per episode
  Evaluator(const ModelConfig& config, int threads, uint64_t seed, int paths = 0);
  Evaluation run(ThreadPool& pool, const Parameters& params, const Dataset& data);

 private:
  ModelConfig config_;
  uint64_t seed_;
  int paths_;
  std::vector<std::unique_ptr<Episode>> episodes_;
  std::vector<std::vector<double>> path_log_sums_;  // per task: [kChunk, classes], paths > 0 only
  std::vector<std::vector<char>> path_finite_;     // per task: [kChunk], paths > 0 only
  Parameters weights_;
};
uint64_t path_stream(uint64_t seed, int image, int path);
// One evaluation with a fresh Evaluator.
Evaluation evaluate(const Parameters& params, const ModelConfig& config, const Dataset& data,
                    ThreadPool& pool, uint64_t seed, int paths = 0);

// The gradient of the hybrid loss over one batch, computed in `shards` fixed
// row ranges, each with its own workspace and gradient buffer, summed in
// shard order: the result does not depend on the pool's thread count. Threads
// beyond the shard count share each shard's big products, cut by blocks of
// their output (ThreadPool::run_teams, kernels/gemm.cpp), with the same bits.
class BatchGradient {
 public:
  BatchGradient(const ModelConfig& config, int batch, int shards, const RewardConfig& reward = {});
  // Images data[indices[0..batch-1]]; the policy noise of row j (or its
  // random places, for --locations random) is drawn from
  // Rng(mix_key(noise_key, j)). Leaves the gradient in grads() and returns
  // the summed loss terms (already divided by the batch size). Makes the
  // parameters' weight panels for the batch and drops them after it
  // (Parameters::lay_out_panels, fill_panels, drop_panels).
  EpisodeLoss compute(ThreadPool& pool, Parameters& params, const LossWeights& weights,
                      const Dataset& data, const int* indices, uint64_t noise_key);
  // change-code's z_ref [batch, A] (change_reference): batch row j is paid
  // against its row j. Required before compute() for that reward.
  void set_reference(const Tensor& z_ref);
  const Parameters& grads() const { return grads_; }
  Parameters& grads() { return grads_; }
  // Whether every element of the last gradient is finite.
  bool finite() const { return finite_; }
  int batch() const { return batch_; }

 private:
  int batch_, shards_;
  RewardConfig reward_;
  Tensor reference_;  // [batch, A] change-code's z_ref; empty otherwise
  std::vector<std::unique_ptr<Episode>> episodes_;
  std::vector<std::unique_ptr<Parameters>> shard_grads_;  // shards 1..S-1; shard 0 adds into grads_
  bool shards_clear_ = true;  // shard_grads_ all zero: the sum after each batch clears them
  std::vector<EpisodeLoss> shard_loss_;
  Locations where_;  // sample from the policy, or given: uniform random places
  Parameters grads_;
  std::vector<char> finite_parts_;  // per element range: all sums finite
  bool finite_ = true;
};

// The change reward as the seed's code ran it (--reward change-code) pays
// each glimpse's distance from z_ref, which that code clones once: the
// classifier's output O_1 (as config.reward.output says) after the first
// glimpse of the first batch of the first epoch, under the initial weights,
// with that batch's sampled first locations. This computes it from the
// settings alone, so a resumed run computes it again: [config.batch, A].
// `train_epoch_1` is the training split the first epoch draws from.
Tensor change_reference(const TrainConfig& config, const Dataset& train_epoch_1);

// Runs training as configured, writing RUN_DIR/{metrics.csv, model.bin,
// last.bin, command.txt}. `resume` continues from RUN_DIR/last.bin. Each
// call appends two lines to command.txt: `command_line`, then
// kSettingsPrefix and every setting as flags (settings_command_line).
// Returns the test error of the model with the best validation error.
constexpr const char* kSettingsPrefix = "  settings: ";
double train(TrainConfig config, bool resume, const std::string& command_line);

// metrics.csv as a resumed run continues it: the header, then the rows of
// `text` (the file's contents) for epochs 1..last_epoch; rows of later
// epochs (the epoch in flight when the run stopped) are dropped. A row whose
// epoch is not a whole number from 1 on throws std::runtime_error naming
// `name` (the file), the line and the value.
std::string kept_metrics(const std::string& text, int last_epoch, const std::string& name);
