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
#include <limits>
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

#include "datasets/shifted_images.h"
#include "kernels/fingerprint.h"
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
constexpr uint64_t kKeyLook = 0x6c6f6f6b;     // "look": random places at evaluation
constexpr uint64_t kKeyPaths = 0x7061746873;  // "paths": the paths of `ram eval --paths`

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

// The text of a file, or "" when there is none.
std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::string kept_metrics(const std::string& text, int last_epoch, const std::string& name) {
  std::istringstream in(text);
  std::string kept = std::string(kMetricsHeader) + "\n", line;
  std::getline(in, line);  // the header
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const std::string field = line.substr(0, line.find(','));
    char* end = nullptr;
    errno = 0;
    const long epoch = std::strtol(field.c_str(), &end, 10);
    if (errno || end == field.c_str() || *end || epoch < 1)
      throw std::runtime_error(name + ": line " + std::to_string(number) + ": field 'epoch' is '" + field +
                               "', not an epoch number");
    if (epoch <= last_epoch) kept += line + "\n";
  }
  return kept;
}

std::size_t evaluation_bytes(const ModelConfig& model, int threads) {
  // The evaluator's copy of the weights and its panels (at most a forward
  // and a transposed copy of each matrix), and an episode per thread.
  const std::size_t weights = parameter_count(model) * sizeof(real);
  return 3 * weights + static_cast<std::size_t>(threads) * episode_bytes(model, Evaluator::kChunk);
}

std::size_t training_bytes(const ModelConfig& model, int batch, int shards, int threads) {
  // The weights, their panels during a batch (two copies at most), the best
  // weights, the summed gradient and one per shard, two optimizer moments;
  // each shard's episode for its rows of the batch; then evaluation.
  const std::size_t weights = parameter_count(model) * sizeof(real);
  const int S = std::min(shards, batch), rows = (batch + S - 1) / S;
  return (6 + static_cast<std::size_t>(S)) * weights + S * episode_bytes(model, rows) + evaluation_bytes(model, threads);
}

void require_memory(std::size_t bytes, const std::string& what) {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return;  // the machine does not say: let the allocation decide
  const double machine = static_cast<double>(pages) * static_cast<double>(page);
  if (static_cast<double>(bytes) <= machine) return;
  char text[160];
  std::snprintf(text, sizeof text, " needs about %.1f GB of memory, more than this machine's %.1f GB", bytes / 1e9,
                machine / 1e9);
  throw std::runtime_error(what + text);
}

std::string data_fingerprint(const DataSplits& data) {
  const Dataset& test = data.test;
  const std::string shape = std::to_string(test.count) + " " + std::to_string(test.channels) + " " +
                            std::to_string(test.height) + " " + std::to_string(test.width) + " " +
                            std::to_string(test.classes);
  uint64_t h = fingerprint(reinterpret_cast<const uint8_t*>(shape.data()), shape.size());
  h = fingerprint(test.labels.data(), test.labels.size(), h);
  h = fingerprint(test.pixels.data(), test.pixels.size(), h);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

DataSplits load_dataset(const std::string& name, const std::string& dir, uint64_t seed,
                        const PlacementConfig& placement, ModelConfig& model) {
  DataSplits splits = load_dataset(name, dir, seed, placement);
  model.channels = splits.train.channels;
  model.height = splits.train.height;
  model.width = splits.train.width;
  model.classes = splits.train.classes;
  return splits;
}

Locations evaluation_locations(const ModelConfig& config) {
  return config.locations == LocationSource::random ? Locations::given : Locations::mean;
}

uint64_t evaluation_stream(uint64_t seed, int image) { return mix_key(seed, kKeyLook, image); }
uint64_t path_stream(uint64_t seed, int image, int path) { return mix_key(seed, kKeyPaths, image, path); }

Evaluator::Evaluator(const ModelConfig& config, int threads, uint64_t seed, int paths)
    : config_(config), seed_(seed), paths_(paths), weights_(config) {
  if (paths < 0) throw std::invalid_argument("Evaluator: paths must be 0 or more");
  for (int t = 0; t < threads; ++t) {
    episodes_.push_back(std::make_unique<Episode>(config, kChunk));
    if (paths == 0) continue;
    path_log_sums_.emplace_back(static_cast<std::size_t>(kChunk) * config.classes);
    path_finite_.emplace_back(kChunk);
  }
}

Evaluation evaluate(const Parameters& params, const ModelConfig& config, const Dataset& data,
                    ThreadPool& pool, uint64_t seed, int paths) {
  Evaluator evaluator(config, pool.threads(), seed, paths);
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
  const Locations where = evaluation_locations(config);
  std::vector<int> wrong(tasks, 0), non_finite(tasks, 0);
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
        if (paths_ == 0) ep.draw_locations(j, evaluation_stream(seed_, begin + j), where);  // none at the mean
      }
      if (paths_ == 0) {
        episode_forward(weights_, ep, where);
        for (int j = 0; j < n; ++j) {
          wrong[task] += episode_prediction(ep, j) != ep.labels[j];
          non_finite[task] += !all_finite(0, static_cast<std::size_t>(config.classes), &ep.logp.at(j, 0));
          nll[task] -= ep.logp.at(j, ep.labels[j]);
          for (int s = 0; s < T; ++s)
            for (int d = 0; d < 2; ++d) location_sum[task][2 * s + d] += ep.l[(static_cast<std::size_t>(s) * chunk + j) * 2 + d];
        }
        continue;
      }
      // paths > 0: p(y | x) ~ (1/M) sum_m p(y | x, l^(m)), the paths l^(m)
      // drawn as in training (or at random places, as the model was trained).
      const int A = config.classes;
      const Locations drawn = where == Locations::given ? Locations::given : Locations::sample;
      // log sum_m p(y | x, l^(m)) accumulated as a running log-sum-exp: the
      // probabilities themselves underflow where the logits are large.
      std::vector<double>& log_sum = path_log_sums_[task];
      std::fill(log_sum.begin(), log_sum.end(), -std::numeric_limits<double>::infinity());
      std::vector<char>& finite = path_finite_[task];
      std::fill(finite.begin(), finite.end(), 1);
      for (int m = 0; m < paths_; ++m) {
        for (int j = 0; j < n; ++j) ep.draw_locations(j, path_stream(seed_, begin + j, m), drawn);
        episode_forward(weights_, ep, drawn);
        for (int j = 0; j < n; ++j) {
          if (!all_finite(0, static_cast<std::size_t>(A), &ep.logp.at(j, 0))) finite[j] = 0;
          for (int a = 0; a < A; ++a) {
            double& sum = log_sum[static_cast<std::size_t>(j) * A + a];
            const double term = ep.logp.at(j, a), high = std::max(sum, term);
            if (std::isfinite(high)) sum = high + std::log1p(std::exp(std::min(sum, term) - high));
          }
          for (int s = 0; s < T; ++s)
            for (int d = 0; d < 2; ++d)
              location_sum[task][2 * s + d] += ep.l[(static_cast<std::size_t>(s) * chunk + j) * 2 + d] / paths_;
        }
      }
      for (int j = 0; j < n; ++j) {
        const double* log_sum_j = log_sum.data() + static_cast<std::size_t>(j) * A;
        wrong[task] += static_cast<int>(std::max_element(log_sum_j, log_sum_j + A) - log_sum_j) != ep.labels[j];
        non_finite[task] += !finite[j];
        nll[task] -= log_sum_j[ep.labels[j]] - std::log(double(paths_));
      }
    }
  });
  Evaluation result;
  result.mean_location.assign(2 * T, 0.0);
  for (int t = 0; t < tasks; ++t) {
    result.error += wrong[t];
    result.non_finite += non_finite[t];
    result.nll += nll[t];
    for (int i = 0; i < 2 * T; ++i) result.mean_location[i] += location_sum[t][i] / std::max(1, data.count);
  }
  result.error /= std::max(1, data.count);
  result.nll /= std::max(1, data.count);
  return result;
}

BatchGradient::BatchGradient(const ModelConfig& config, int batch, int shards, const RewardConfig& reward)
    : batch_(batch), shards_(std::min(shards, batch)), reward_(reward), shard_loss_(shards_),
      where_(config.locations == LocationSource::random ? Locations::given : Locations::sample), grads_(config) {
  for (int k = 0; k < shards_; ++k) {
    episodes_.push_back(std::make_unique<Episode>(config, (batch + shards_ - 1) / shards_));
    episodes_.back()->reward = reward;
    if (k > 0) shard_grads_.push_back(std::make_unique<Parameters>(config));  // zero, as made
  }
}

void BatchGradient::set_reference(const Tensor& z_ref) {
  const int A = episodes_[0]->config.classes;
  if (z_ref.dim(0) != batch_ || z_ref.dim(1) != A)
    throw std::invalid_argument("BatchGradient::set_reference: z_ref must be [batch, classes]");
  reference_.reshape({batch_, A});
  std::copy(z_ref.data(), z_ref.data() + z_ref.size(), reference_.data());
}

EpisodeLoss BatchGradient::compute(ThreadPool& pool, Parameters& params, const LossWeights& weights,
                                   const Dataset& data, const int* indices, uint64_t noise_key) {
  const int B = batch_, S = shards_;
  if (reward_.kind == RewardKind::change_code && !reference_.data())
    throw std::logic_error("BatchGradient: change-code needs its reference output first (set_reference)");
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
    if (reference_.data()) ep.reference = reference_.data() + static_cast<std::size_t>(row0) * reference_.dim(1);
    for (int j = 0; j < rows; ++j) {
      ep.images[j] = data.image(indices[row0 + j]);
      ep.labels[j] = data.labels[indices[row0 + j]];
      ep.draw_locations(j, mix_key(noise_key, row0 + j), where_);  // each image its own stream
    }
    episode_forward(params, ep, where_);
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

Tensor change_reference(const TrainConfig& c, const Dataset& train_epoch_1) {
  // The first step of train(): epoch 0's order, step 0's noise key, each
  // row's own stream (BatchGradient::compute), at the initial weights.
  Parameters initial(c.model);
  initial.init_uniform(c.seed, kInitRange, c.init);
  const std::vector<int> order = random_permutation(train_epoch_1.count, mix_key(c.seed, kKeyOrder, 0));
  const uint64_t noise_key = mix_key(c.seed, kKeyNoise, 0, 0);
  Episode ep(c.model, c.batch);
  ep.reward = c.reward;
  ep.all_outputs = true;
  ep.resize(c.batch);
  for (int j = 0; j < c.batch; ++j) {
    ep.images[j] = train_epoch_1.image(order[j]);
    ep.labels[j] = train_epoch_1.labels[order[j]];
    ep.draw_locations(j, mix_key(noise_key, j), Locations::sample);
  }
  episode_forward(initial, ep, Locations::sample);
  // O_1, after the first glimpse: step 0's rows of O.
  const int A = c.model.classes;
  Tensor z_ref({c.batch, A});
  const real* O_1 = ep.step(0).O;
  std::copy(O_1, O_1 + static_cast<std::size_t>(c.batch) * A, z_ref.data());
  return z_ref;
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
  shift_training_images(data, cfg.shift, cfg.seed);  // --shift: the training split alone
  const std::string fingerprint = data_fingerprint(data);
  if (resume) {
    const ModelConfig& saved = resumed.config.model;
    if (!saved.same_images(cfg.model))
      throw std::runtime_error(last_path + ": was trained on images of another shape than those in " +
                               cfg.data_dir);
    const std::string& trained_on = resumed.config.data_fingerprint;
    if (trained_on.empty())
      std::fprintf(stderr, "warning: %s records no data set fingerprint (written by an earlier version): "
                   "the images in %s are not checked against those it was trained on\n",
                   last_path.c_str(), cfg.data_dir.c_str());
    else if (trained_on != fingerprint)
      throw std::runtime_error(last_path + ": was trained on " + resumed.config.dataset + " from " +
                               resumed.config.data_dir + " (data fingerprint " + trained_on + "), but the " +
                               cfg.dataset + " images in " + cfg.data_dir + " are others (fingerprint " +
                               fingerprint + "); resume with --data naming the files it was trained on");
  }
  cfg.data_fingerprint = fingerprint;
  require_memory(training_bytes(cfg.model, cfg.batch, cfg.shards, cfg.threads),
                 "training with --batch " + std::to_string(cfg.batch) + ", --glimpses " +
                     std::to_string(cfg.model.glimpses) + ", --patch " + std::to_string(cfg.model.patch) +
                     ", --scales " + std::to_string(cfg.model.scales) + " on " + std::to_string(cfg.model.channels) +
                     "x" + std::to_string(cfg.model.height) + "x" + std::to_string(cfg.model.width) + " images");
  if (cfg.batch > data.train.count)
    throw std::invalid_argument("--batch " + std::to_string(cfg.batch) + " is larger than the training split (" +
                                std::to_string(data.train.count) + " images)");

  Parameters params(cfg.model);
  params.init_uniform(cfg.seed, kInitRange, cfg.init);
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
  const std::string commands = resume ? file_text(command_path) : "";
  // The command as given, then every setting: `ram train` followed by the
  // second line makes the same run.
  write_file_atomically(command_path,
                        commands + command_line + "\n" + kSettingsPrefix + settings_command_line(cfg) + "\n");
  std::string metrics = resume ? kept_metrics(file_text(metrics_path), state.epochs_done, metrics_path)
                               : std::string(kMetricsHeader) + "\n";
  write_file_atomically(metrics_path, metrics);

  ThreadPool pool(cfg.threads);
  const int B = cfg.batch;
  BatchGradient batch_gradient(cfg.model, B, cfg.shards, cfg.reward);
  if (cfg.reward.kind == RewardKind::change_code) batch_gradient.set_reference(change_reference(cfg, data.train));
  Evaluator evaluator(cfg.model, cfg.threads, cfg.seed);
  const int steps = data.train.count / B;
  std::fprintf(stderr, "model: %zu parameters; %d train / %d valid / %d test images; %d steps of %d per epoch\n",
               params.size(), data.train.count, data.valid.count, data.test.count, steps, B);

  // --patience: the Torch code's early stopping (--maxTries), counted from the
  // best epoch so far; checked before each epoch, so a resumed run that had
  // already stopped trains no further.
  const auto out_of_patience = [&] {
    return cfg.patience > 0 && state.best_epoch > 0 && state.epochs_done - state.best_epoch >= cfg.patience;
  };
  Progress progress;
  for (int epoch = state.epochs_done; epoch < cfg.epochs && !out_of_patience(); ++epoch) {
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
  if (out_of_patience() && state.epochs_done < cfg.epochs)
    std::printf("stopping after epoch %d: no better validation error since epoch %d (--patience %d)\n",
                state.epochs_done, state.best_epoch, cfg.patience);
  const Evaluation final_test = evaluator.run(pool, best, data.test);
  std::printf("best validation error %.4f at epoch %d; %s\n", state.best_valid_error, state.best_epoch,
              best_path.c_str());
  return final_test.error;
}
