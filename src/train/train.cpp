// train.cpp: the training loop (RAM section 4 trains on mini-batches with
// SGD and momentum; our default is Adam, docs/defaults.md says why), with the
// Torch code's linear learning-rate decay and best-on-validation bookkeeping.
//
// One step: the batch is cut into `shards` fixed row ranges; each shard runs
// its episodes and backward pass into its own gradient buffer (in parallel,
// on any thread); the shard gradients are summed in shard order; the
// optimizer updates the weights. Every random draw is keyed by (seed, epoch,
// position in the epoch), so a run is fixed by its seed, independent of the
// thread count, and a resumed run repeats exactly what the original would
// have done.
#include "train/train.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <iterator>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

#include "kernels/random.h"
#include "kernels/thread_pool.h"
#include "kernels/vectorize.h"
#include "train/atomic_file.h"
#include "train/checkpoint.h"
#include "train/settings.h"

namespace fs = std::filesystem;

namespace {

// Keys that keep the random streams of the run apart.
constexpr uint64_t kKeyOrder = 0x6f72646572;  // "order": image order of an epoch
constexpr uint64_t kKeyNoise = 0x6e6f697365;  // "noise": policy noise of an image

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The progress line on stderr: redrawn in place on a terminal, a plain line
// every 30 seconds when stderr is a file.
class Progress {
 public:
  Progress() : tty_(isatty(fileno(stderr))) {}
  void update(int epoch, int epochs, int done, int total, double nll, double reward, double images_per_s) {
    const double now = seconds_since(start_);
    if (done < total && now - last_ < (tty_ ? 0.25 : 30.0)) return;
    last_ = now;
    const int width = 24, filled = static_cast<int>(static_cast<double>(width) * done / total);
    std::string bar(filled, '#');
    bar.resize(width, '.');
    const double eta = images_per_s > 0 ? (total - done) / images_per_s : 0;
    std::fprintf(stderr, "%sepoch %d/%d [%s] %3d%%  nll %.4f  reward %.3f  %.0f img/s  eta %.0fs%s",
                 tty_ ? "\r" : "", epoch, epochs, bar.c_str(), static_cast<int>(100.0 * done / total),
                 nll, reward, images_per_s, eta, tty_ ? "\033[K" : "\n");
    if (tty_ && done == total) std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  void restart() {
    start_ = Clock::now();
    last_ = 0;
  }

 private:
  bool tty_;
  Clock::time_point start_ = Clock::now();
  double last_ = 0;
};

// sum[i] += g[i], then g[i] = 0, for i in [begin, end): g is ready for the
// next batch while it is still in cache.
RAM_VECTORIZE void add_and_clear(std::size_t begin, std::size_t end, real* sum, real* g) {
  for (std::size_t i = begin; i < end; ++i) {
    sum[i] += g[i];
    g[i] = 0;
  }
}

// Whether x[begin, end) is all finite: x - x is 0 for a finite x and NaN for
// NaN or infinity. An OR of comparisons, not a sum, so it vectorises.
RAM_VECTORIZE bool all_finite(std::size_t begin, std::size_t end, const real* x) {
  int bad = 0;
  for (std::size_t i = begin; i < end; ++i) bad |= (x[i] - x[i]) != 0;
  return bad == 0;
}

// Finds the first non-finite gradient; returns the block name or "".
std::string non_finite_block(const Parameters& grads) {
  for (const ParamBlock& block : grads.blocks())
    for (std::size_t i = 0; i < block.size; ++i)
      if (!std::isfinite(grads.data()[block.offset + i])) return block.name;
  return "";
}

const char* kMetricsHeader =
    "epoch,lr,train_nll,train_reward,train_error,valid_error,valid_nll,test_error,seconds";

// The header and the rows of epochs 1..last_epoch of a run's metrics.csv,
// as the resumed run continues it: rows of later epochs (the epoch in flight
// when the run stopped) are dropped. A row whose epoch is not a whole number
// is refused with the file, the line and the value.
std::string kept_metrics(const std::string& path, int last_epoch) {
  std::ifstream in(path);
  std::string kept = std::string(kMetricsHeader) + "\n", line;
  std::getline(in, line);  // the header
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const std::string field = line.substr(0, line.find(','));
    char* end = nullptr;
    errno = 0;
    const long epoch = std::strtol(field.c_str(), &end, 10);
    if (errno || end == field.c_str() || *end || epoch < 1)
      throw std::runtime_error(path + ": line " + std::to_string(number) + ": field 'epoch' is '" + field +
                               "', not an epoch number");
    if (epoch <= last_epoch) kept += line + "\n";
  }
  return kept;
}

}  // namespace

DataSplits load_dataset(const std::string& name, const std::string& dir, uint64_t seed,
                        const PlacementConfig& placement, ModelConfig& model) {
  DataSplits splits = load_dataset(name, dir, seed, placement);
  model.channels = splits.train.channels;
  model.height = splits.train.height;
  model.width = splits.train.width;
  model.classes = splits.train.classes;
  return splits;
}

Evaluator::Evaluator(const ModelConfig& config, int threads) : config_(config), weights_(config) {
  for (int t = 0; t < threads; ++t) episodes_.push_back(std::make_unique<Episode>(config, kChunk));
}

Evaluation evaluate(const Parameters& params, const ModelConfig& config, const Dataset& data,
                    ThreadPool& pool) {
  Evaluator evaluator(config, pool.threads());
  return evaluator.run(pool, params, data);
}

Evaluation Evaluator::run(ThreadPool& pool, const Parameters& params, const Dataset& data) {
  // Each task walks every tasks-th chunk with its own workspace; images do
  // not interact, so the split of the work does not change the error count
  // (the summed nll may differ in its last bits).
  const ModelConfig& config = config_;
  if (params.size() != weights_.size())
    throw std::invalid_argument("Evaluator: the parameters do not belong to the evaluator's model");
  std::memcpy(weights_.data(), params.data(), params.size() * sizeof(real));
  weights_.refresh_panels();
  const int chunk = kChunk, tasks = static_cast<int>(episodes_.size());
  const int chunks = (data.count + chunk - 1) / chunk;
  const int T = config.glimpses;
  std::vector<int> wrong(tasks, 0);
  std::vector<double> nll(tasks, 0);
  std::vector<std::vector<double>> location_sum(tasks, std::vector<double>(2 * T, 0.0));
  pool.run(tasks, [&](int task) {
    Episode& ep = *episodes_[task];
    for (int c = task; c < chunks; c += tasks) {
      const int begin = c * chunk, n = std::min(chunk, data.count - begin);
      ep.resize(n);
      for (int j = 0; j < n; ++j) {
        ep.images[j] = data.image(begin + j);
        ep.labels[j] = data.labels[begin + j];
      }
      episode_forward(weights_, ep, Locations::mean);
      for (int j = 0; j < n; ++j) {
        wrong[task] += episode_prediction(ep, j) != ep.labels[j];
        nll[task] -= ep.logp.at(j, ep.labels[j]);
        for (int s = 0; s < T; ++s)
          for (int d = 0; d < 2; ++d) location_sum[task][2 * s + d] += ep.l[(static_cast<std::size_t>(s) * chunk + j) * 2 + d];
      }
    }
  });
  Evaluation result;
  result.mean_location.assign(2 * T, 0.0);
  for (int t = 0; t < tasks; ++t) {
    result.error += wrong[t];
    result.nll += nll[t];
    for (int i = 0; i < 2 * T; ++i) result.mean_location[i] += location_sum[t][i] / std::max(1, data.count);
  }
  result.error /= std::max(1, data.count);
  result.nll /= std::max(1, data.count);
  return result;
}

BatchGradient::BatchGradient(const ModelConfig& config, int batch, int shards, const RewardConfig& reward)
    : batch_(batch), shards_(std::min(shards, batch)), shard_loss_(shards_), grads_(config) {
  for (int k = 0; k < shards_; ++k) {
    episodes_.push_back(std::make_unique<Episode>(config, (batch + shards_ - 1) / shards_));
    episodes_.back()->reward = reward;
    if (k > 0) shard_grads_.push_back(std::make_unique<Parameters>(config));  // zero, as made
  }
}

EpisodeLoss BatchGradient::compute(ThreadPool& pool, Parameters& params, const LossWeights& weights,
                                   const Dataset& data, const int* indices, uint64_t noise_key) {
  const int B = batch_, S = shards_;
  const std::size_t n = grads_.size();
  const int parts = pool.threads();
  // Shard 0 adds its gradient straight into grads_; shards 1.. into their own
  // buffers, which the last batch's sum left zero (unless it never ran).
  const bool shards_dirty = !shards_clear_;
  shards_clear_ = false;
  params.lay_out_panels();
  pool.run(parts, [&](int part) {
    params.fill_panels(part, parts);
    const std::size_t begin = element_range_begin(n, parts, part), end = element_range_begin(n, parts, part + 1);
    std::fill(grads_.data() + begin, grads_.data() + end, real(0));
    if (shards_dirty)
      for (auto& g : shard_grads_) std::fill(g->data() + begin, g->data() + end, real(0));
  });
  // One task per shard; threads beyond the shard count help inside the
  // shards, with the big products (ThreadPool::run_teams), which gives the
  // same bits as one thread per shard.
  pool.run_teams(S, [&](int k) {
    const int row0 = k * B / S, rows = (k + 1) * B / S - row0;
    Episode& ep = *episodes_[k];
    ep.resize(rows);
    for (int j = 0; j < rows; ++j) {
      ep.images[j] = data.image(indices[row0 + j]);
      ep.labels[j] = data.labels[indices[row0 + j]];
      ep.draw_locations(j, mix_key(noise_key, row0 + j), Locations::sample);  // each image its own stream
    }
    episode_forward(params, ep, Locations::sample);
    episode_rewards(ep);
    shard_loss_[k] = episode_backward(params, k == 0 ? grads_ : *shard_grads_[k - 1], ep, weights, B);
  });
  params.drop_panels();  // the optimizer is about to change the weights they copy
  // Sum the shards in shard order, each element on its own: the same sum
  // whatever thread ran what, split over the threads by element ranges.
  std::vector<char>& finite = finite_parts_;
  finite.assign(parts, 1);
  pool.run(parts, [&](int part) {
    const std::size_t begin = element_range_begin(n, parts, part), end = element_range_begin(n, parts, part + 1);
    real* sum = grads_.data();
    for (auto& g : shard_grads_) add_and_clear(begin, end, sum, g->data());
    finite[part] = all_finite(begin, end, sum);
  });
  shards_clear_ = true;
  finite_ = std::all_of(finite.begin(), finite.end(), [](char f) { return f != 0; });
  EpisodeLoss loss = shard_loss_[0];
  for (int k = 1; k < S; ++k) loss += shard_loss_[k];
  return loss;
}

double train(TrainConfig cfg, bool resume, const std::string& command_line) {
  if (cfg.epochs < 1) throw std::invalid_argument("--epochs " + std::to_string(cfg.epochs) + ": nothing to train; give 1 or more");
  const std::string last_path = cfg.out_dir + "/last.bin", best_path = cfg.out_dir + "/model.bin";
  const std::string metrics_path = cfg.out_dir + "/metrics.csv";
  std::error_code ec;
  fs::create_directories(cfg.out_dir, ec);
  if (ec) throw std::runtime_error(cfg.out_dir + ": cannot create the run directory: " + ec.message());

  Checkpoint resumed;
  if (resume) {
    if (!fs::exists(last_path))
      throw std::runtime_error(last_path + ": missing; there is no run to resume in " + cfg.out_dir);
    resumed = load_checkpoint(last_path);
    if (!resumed.has_training_state)
      throw std::runtime_error(last_path + ": holds no training state to resume from");
  }

  std::fprintf(stderr, "loading %s from %s\n", cfg.dataset.c_str(), cfg.data_dir.c_str());
  DataSplits data = load_dataset(cfg.dataset, cfg.data_dir, cfg.seed, cfg.placement, cfg.model);
  if (resume) {
    const ModelConfig& saved = resumed.config.model;
    if (!saved.same_images(cfg.model))
      throw std::runtime_error(last_path + ": was trained on images of another shape than those in " +
                               cfg.data_dir);
  }
  if (cfg.batch > data.train.count)
    throw std::invalid_argument("--batch " + std::to_string(cfg.batch) + " is larger than the training split (" +
                                std::to_string(data.train.count) + " images)");

  Parameters params(cfg.model);
  params.init_uniform(cfg.seed);
  Optimizer optimizer(cfg.optimizer, params.size());
  TrainingState state;
  if (resume) {
    restore_parameters(resumed, params);
    restore_optimizer(resumed, optimizer);
    state = resumed.state;
  }
  Parameters best(params);
  if (resume && state.best_epoch > 0) restore_parameters(load_checkpoint(best_path), best);

  // command.txt gains this command's line; metrics.csv keeps the finished
  // epochs (all of them on a resume) and is rewritten whole after each
  // epoch: both through AtomicFile, so that a kill never empties them.
  const std::string command_path = cfg.out_dir + "/command.txt";
  std::string commands;
  if (resume) {
    std::ifstream previous(command_path);
    commands.assign(std::istreambuf_iterator<char>(previous), std::istreambuf_iterator<char>());
  }
  // The command as given, then every setting: `ram train` followed by the
  // second line makes the same run.
  write_file_atomically(command_path,
                        commands + command_line + "\n" + kSettingsPrefix + settings_command_line(cfg) + "\n");
  std::string metrics = resume ? kept_metrics(metrics_path, state.epochs_done) : std::string(kMetricsHeader) + "\n";
  write_file_atomically(metrics_path, metrics);

  ThreadPool pool(cfg.threads);
  const int B = cfg.batch;
  BatchGradient batch_gradient(cfg.model, B, cfg.shards, cfg.reward);
  Evaluator evaluator(cfg.model, cfg.threads);
  const int steps = data.train.count / B;
  std::fprintf(stderr, "model: %zu parameters; %d train / %d valid / %d test images; %d steps of %d per epoch\n",
               params.size(), data.train.count, data.valid.count, data.test.count, steps, B);

  Progress progress;
  for (int epoch = state.epochs_done; epoch < cfg.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    const double lr = learning_rate_at(cfg.optimizer, epoch);
    // A data set made on the fly draws this epoch's training images.
    if (data.training_epoch && epoch > 0) data.train = data.training_epoch(epoch);
    const std::vector<int> order = random_permutation(data.train.count, mix_key(cfg.seed, kKeyOrder, epoch));
    EpisodeLoss total;
    progress.restart();
    for (int step = 0; step < steps; ++step) {
      const EpisodeLoss step_loss = batch_gradient.compute(pool, params, cfg.loss, data.train,
                                                           order.data() + static_cast<std::size_t>(step) * B,
                                                           mix_key(cfg.seed, kKeyNoise, epoch, step));
      Parameters& grads = batch_gradient.grads();
      const double step_objective = step_loss.nll + step_loss.reinforce + step_loss.baseline;
      if (!std::isfinite(step_objective))
        throw std::runtime_error("training stopped: non-finite loss at epoch " + std::to_string(epoch + 1) +
                                 ", step " + std::to_string(step + 1) + " (try a smaller --lr)");
      if (!batch_gradient.finite())
        throw std::runtime_error("training stopped: non-finite gradient of " + non_finite_block(grads) +
                                 " at epoch " + std::to_string(epoch + 1) + ", step " + std::to_string(step + 1) +
                                 " (try a smaller --lr)");
      if (cfg.clip_norm > 0) clip_gradient_norm(grads.data(), grads.size(), cfg.clip_norm);
      optimizer.step(pool, params.data(), grads.data(), lr);
      total += step_loss;
      const int seen = (step + 1) * B;
      progress.update(epoch + 1, cfg.epochs, seen, steps * B, total.nll / (step + 1) / cfg.loss.nll,
                      total.reward / seen, seen / seconds_since(epoch_start));
    }
    const double train_seconds = seconds_since(epoch_start);
    const Evaluation valid = evaluator.run(pool, params, data.valid);
    const Evaluation test = evaluator.run(pool, params, data.test);
    state.epochs_done = epoch + 1;
    state.seconds += seconds_since(epoch_start);
    const bool improved = state.best_epoch == 0 || valid.error < state.best_valid_error;
    if (improved) {
      state.best_valid_error = valid.error;
      state.best_epoch = epoch + 1;
      std::copy(params.data(), params.data() + params.size(), best.data());
      save_checkpoint(best_path, cfg, best, nullptr, nullptr);
    }
    const int seen = steps * B;
    const double train_nll = total.nll / steps / cfg.loss.nll;
    {
      char row[256];
      std::snprintf(row, sizeof row, "%d,%.6g,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.1f\n", epoch + 1, lr, train_nll,
                    total.reward / seen, 1.0 - static_cast<double>(total.correct) / seen, valid.error, valid.nll,
                    test.error, state.seconds);
      metrics += row;
      write_file_atomically(metrics_path, metrics);
    }
    save_checkpoint(last_path, cfg, params, &state, &optimizer);
    std::printf("epoch %3d  lr %.3g  train_nll %.4f  reward %.4f  valid_error %.4f  test_error %.4f  %5.1fs  %.0f img/s%s\n",
                epoch + 1, lr, train_nll, total.reward / seen, valid.error, test.error,
                seconds_since(epoch_start), seen / train_seconds, improved ? "  *" : "");
    std::fflush(stdout);
    if (cfg.max_minutes > 0 && state.seconds > 60 * cfg.max_minutes && epoch + 1 < cfg.epochs) {
      std::printf("stopping after epoch %d: --max-minutes %g reached\n", epoch + 1, cfg.max_minutes);
      break;
    }
  }
  const Evaluation final_test = evaluator.run(pool, best, data.test);
  std::printf("best validation error %.4f at epoch %d; %s\n", state.best_valid_error, state.best_epoch,
              best_path.c_str());
  return final_test.error;
}
