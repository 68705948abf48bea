// main.cpp: the command line.
//
//   ram train  --dataset mnist --data DIR --out RUN_DIR [flags]   train a model
//   ram eval   --checkpoint RUN_DIR/model.bin --split valid|test  evaluate one
//   ram bench  [flags]                                            measure speed
//
// Every problem with the command line or the input files is an error message
// naming the flag or file, and exit code 2.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kernels/thread_pool.h"
#include "tools/bench.h"
#include "tools/experiments.h"
#include "tools/report.h"
#include "tools/show.h"
#include "train/checkpoint.h"
#include "train/train.h"

namespace {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* kUsage = R"(usage:
  ram train --out RUN_DIR [--dataset NAME] [--data DIR] [flags]   train, checkpoint, report
  ram eval  --checkpoint RUN_DIR/model.bin [--split valid|test] [--data DIR] [--threads N]
  ram experiment NAME --out DIR [--epochs N] [--seeds K] [--datasets A,B] [--images N]
            [--mnist DIR] [--cifar10 DIR] [train flags shared by its runs]
            NAME: fig2, fig3, fig4 or collapse (docs/results.md)
  ram show  --checkpoint RUN_DIR/model.bin [--out FILE.png] [--animate DIR] [--count N]
            [--dataset NAME] [--data DIR] [--untrained] [--sample] [--seed S]
            the glimpse path, the patches seen and the guess after each glimpse
  ram report [--check] [PAGE...]   the pages' numbers from docs/results/*.csv
            (--check: only say where a page disagrees; exit 1 if one does)
  ram bench [--core rnn|lstm|gru] [--locator linear|lstm] [--glimpses T] [--batch B]
            [--threads N] [--patch P] [--scales K] [--seconds S]

train flags (the Torch RAM code's defaults, except where docs/defaults.md says why):
  --dataset NAME       mnist, fashion-mnist or cifar10            [mnist]
  --data DIR           the data set's files [data/mnist, /usr/share/datasets/
                       fashion-mnist (Debian dataset-fashion-mnist), data/cifar10-jpg]
  --core NAME          recurrent core: rnn (Torch), lstm or gru   [rnn]
  --locator NAME       locator: linear (Torch) or lstm (seed)     [linear]
  --glimpses T         glimpses per image                         [7]
  --patch P            retina patch side, pixels                  [8]
  --scales K           patches per glimpse                        [1]
  --glimpse-scale S    width ratio of successive patches          [2]
  --unit-pixels U      pixels from the centre to location 1       [13]
  --sigma SD           std. deviation of the location policy      [0.22]
  --optimizer NAME     adam, or sgd (momentum 0.9, Torch's)       [adam]
  --lr LR              learning rate                              [adam 0.001, sgd 0.01]
  --min-lr LR          floor of the linear decay                  [1e-5]
  --decay-epochs N     epochs over which lr decays to min-lr      [= --epochs]
  --momentum M         SGD momentum: v = M v + (1 - D) g          [0.9]
  --dampening D        SGD damping (Torch's dpnn: D = M)          [= momentum]
  --batch B            images per update                          [32]
  --epochs N           passes over the training split             [100]
  --seed S             fixes split, weights, order and noise      [1]
  --threads N          worker threads (results do not depend on it) [cores]
  --shards N           fixed cut of each batch for parallel work  [2]
  --reward NAME        classify (RAM), change (seed eq. 2), lowstd [classify]
  --reward-coef C      weight of the change / lowstd reward       [change 1, lowstd 0.01]
  --reinforce-into-core  REINFORCE also trains the core (Torch)   [off]
  --clip-norm C        scale each batch gradient to norm <= C     [off]
  --max-minutes M      stop after the epoch that passes M minutes [no limit]
  --out RUN_DIR        where metrics.csv, model.bin, last.bin go  (required)
  --resume             continue the run in RUN_DIR from last.bin
)";

CoreKind parse_core(const std::string& name) {
  if (name == "rnn") return CoreKind::rnn;
  if (name == "lstm") return CoreKind::lstm;
  if (name == "gru") return CoreKind::gru;
  throw UsageError("--core: '" + name + "' is not one of rnn, lstm, gru");
}

LocatorKind parse_locator(const std::string& name) {
  if (name == "linear") return LocatorKind::linear;
  if (name == "lstm") return LocatorKind::lstm;
  throw UsageError("--locator: '" + name + "' is not one of linear, lstm");
}

// Flags seen on the command line, with their text values.
class Flags {
 public:
  Flags(int argc, char** argv, int first, const std::set<std::string>& valued,
        const std::set<std::string>& switches) {
    for (int i = first; i < argc; ++i) {
      std::string name = argv[i];
      if (name == "-h" || name == "--help") throw UsageError("");
      if (switches.count(name)) {
        values_[name] = "1";
      } else if (valued.count(name)) {
        if (i + 1 >= argc) throw UsageError(name + ": needs a value");
        values_[name] = argv[++i];
      } else {
        throw UsageError(name.rfind("--", 0) == 0 ? "unknown flag " + name
                                                  : "unexpected argument '" + name + "'");
      }
    }
  }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  const std::map<std::string, std::string>& all() const { return values_; }
  std::string text(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  long integer(const std::string& name, long fallback, long lo, long hi) const {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    errno = 0;
    char* end = nullptr;
    long v = std::strtol(it->second.c_str(), &end, 10);
    if (errno || end == it->second.c_str() || *end)
      throw UsageError(name + ": '" + it->second + "' is not a whole number");
    if (v < lo || v > hi)
      throw UsageError(name + ": " + it->second + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    return v;
  }
  double number(const std::string& name, double fallback, double lo, double hi) const {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(it->second.c_str(), &end);
    if (errno || end == it->second.c_str() || *end || !std::isfinite(v))
      throw UsageError(name + ": '" + it->second + "' is not a number");
    if (v < lo || v > hi)
      throw UsageError(name + ": " + it->second + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
  }

 private:
  std::map<std::string, std::string> values_;
};

int default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(std::min(n, 64u));
}

std::string join_command(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += argv[i];
  }
  return s;
}

// The train flags; `experiment` takes them too, for the settings its runs share.
const std::set<std::string> kTrainFlags = {
    "--dataset", "--data", "--core", "--locator", "--glimpses", "--patch", "--scales", "--glimpse-scale",
    "--unit-pixels", "--sigma", "--optimizer", "--lr", "--min-lr", "--decay-epochs", "--momentum", "--dampening",
    "--batch", "--epochs", "--seed", "--threads", "--shards", "--out", "--max-minutes", "--reward", "--reward-coef",
    "--clip-norm"};

// The training settings the flags give; the rest keep their defaults.
// decay_epochs is -1 when --decay-epochs is absent: "= the run's epochs".
TrainConfig train_config(const Flags& f) {
  TrainConfig c;
  c.out_dir = f.text("--out", "");
  c.dataset = f.text("--dataset", c.dataset);
  c.data_dir = f.text("--data", default_data_dir(c.dataset));
  ModelConfig& m = c.model;
  m.core = parse_core(f.text("--core", "rnn"));
  m.locator = parse_locator(f.text("--locator", "linear"));
  m.glimpses = f.integer("--glimpses", m.glimpses, 1, 64);
  m.patch = f.integer("--patch", m.patch, 1, 64);
  m.scales = f.integer("--scales", m.scales, 1, 6);
  m.glimpse_scale = f.integer("--glimpse-scale", m.glimpse_scale, 1, 4);
  m.unit_pixels = f.number("--unit-pixels", m.unit_pixels, 1e-3, 1000);
  m.sigma = f.number("--sigma", m.sigma, 1e-4, 2);
  const std::string opt = f.text("--optimizer", "adam");
  if (opt == "sgd") {
    c.optimizer.kind = OptimizerKind::sgd;
    c.optimizer.lr = 0.01;
  } else if (opt == "adam") {
    c.optimizer.kind = OptimizerKind::adam;
    c.optimizer.lr = 0.001;
  } else {
    throw UsageError("--optimizer: '" + opt + "' is not one of sgd, adam");
  }
  c.optimizer.lr = f.number("--lr", c.optimizer.lr, 1e-9, 10);
  c.optimizer.min_lr = f.number("--min-lr", c.optimizer.min_lr, 0, 10);
  c.epochs = f.integer("--epochs", c.epochs, 0, 1000000);
  c.optimizer.decay_epochs = f.number("--decay-epochs", -1, 0, 1e7);
  c.optimizer.momentum = f.number("--momentum", c.optimizer.momentum, 0, 0.9999);
  c.optimizer.dampening = f.number("--dampening", c.optimizer.momentum, 0, 1);
  c.batch = f.integer("--batch", c.batch, 1, 65536);
  c.seed = static_cast<uint64_t>(f.integer("--seed", 1, 0, 1L << 62));
  c.threads = f.integer("--threads", default_threads(), 1, 256);
  c.shards = f.integer("--shards", c.shards, 1, 256);
  c.loss.reinforce_into_core = f.has("--reinforce-into-core");
  const std::string reward = f.text("--reward", "classify");
  if (reward == "classify") {
    c.reward.kind = RewardKind::classify;
  } else if (reward == "change") {
    c.reward.kind = RewardKind::change;
  } else if (reward == "lowstd") {
    c.reward.kind = RewardKind::lowstd;
    c.reward.coef = 0.01;  // the seed's code
  } else {
    throw UsageError("--reward: '" + reward + "' is not one of classify, change, lowstd");
  }
  c.reward.coef = f.number("--reward-coef", c.reward.coef, -1e6, 1e6);
  c.max_minutes = f.number("--max-minutes", 0, 0, 1e7);
  c.clip_norm = f.number("--clip-norm", 0, 0, 1e9);
  return c;
}

int command_train(int argc, char** argv) {
  const Flags f(argc, argv, 2, kTrainFlags, {"--resume", "--reinforce-into-core"});
  if (!f.has("--out")) throw UsageError("train: --out RUN_DIR is required");
  TrainConfig c = train_config(f);
  if (c.optimizer.decay_epochs < 0) c.optimizer.decay_epochs = c.epochs;
  const bool resume = f.has("--resume");
  if (resume) {
    // The run's own settings come from last.bin; flags other than these
    // may not contradict them.
    const std::set<std::string> may_change = {"--out", "--resume", "--epochs", "--threads", "--data",
                                              "--max-minutes"};
    Checkpoint saved = load_checkpoint(c.out_dir + "/last.bin");
    for (const auto& flag : f.all())
      if (!may_change.count(flag.first))
        throw UsageError(flag.first + ": cannot be changed when resuming; the run's settings come from " +
                         c.out_dir + "/last.bin (only --epochs, --threads, --data and --max-minutes may be given)");
    TrainConfig saved_config = saved.config;
    saved_config.out_dir = c.out_dir;
    saved_config.threads = c.threads;
    saved_config.max_minutes = c.max_minutes;
    if (f.has("--epochs")) saved_config.epochs = c.epochs;
    if (f.has("--data")) saved_config.data_dir = c.data_dir;
    c = saved_config;
  }
  const double test_error = train(c, resume, join_command(argc, argv));
  std::printf("test_error=%.4f\n", test_error);
  return 0;
}

int command_experiment(int argc, char** argv) {
  if (argc < 3 || argv[2][0] == '-') throw UsageError("experiment: name one of fig2, fig3, fig4, collapse");
  // What each run is (data set, core, locator, reward, seed, epochs) is the
  // experiment's to set; the other train flags set what its runs share.
  const std::set<std::string> own = {"--out", "--epochs", "--seeds", "--datasets", "--images",
                                     "--mnist", "--cifar10", "--fashion-mnist"};
  const std::set<std::string> set_by_experiment = {"--dataset", "--data", "--core", "--locator", "--reward",
                                                   "--reward-coef", "--seed", "--max-minutes"};
  std::set<std::string> valued = own;
  for (const std::string& flag : kTrainFlags)
    if (!set_by_experiment.count(flag)) valued.insert(flag);
  std::set<std::string> all = valued;
  all.insert(set_by_experiment.begin(), set_by_experiment.end());
  const Flags f(argc, argv, 3, all, {"--reinforce-into-core"});
  for (const std::string& flag : set_by_experiment)
    if (f.has(flag))
      throw UsageError(flag + ": set by the experiment for each of its runs (use --datasets, --mnist DIR, "
                       "--cifar10 DIR, --fashion-mnist DIR, --seeds)");
  if (!f.has("--out")) throw UsageError("experiment: --out DIR is required");
  ExperimentConfig e;
  e.name = argv[2];
  e.base = train_config(f);
  e.out_dir = e.base.out_dir;
  e.epochs = f.integer("--epochs", 0, 1, 100000);
  e.seeds = f.integer("--seeds", 0, 1, 1000);
  e.images = f.integer("--images", e.images, 1, 1000000);
  std::stringstream names(f.text("--datasets", ""));
  for (std::string name; std::getline(names, name, ',');) {
    if (name != "mnist" && name != "cifar10" && name != "fashion-mnist")
      throw UsageError("--datasets: unknown data set '" + name + "' (known: mnist, fashion-mnist, cifar10)");
    e.datasets.push_back(name);
  }
  for (const char* name : {"mnist", "cifar10", "fashion-mnist"})
    if (f.has(std::string("--") + name)) e.data_dirs[name] = f.text(std::string("--") + name, "");
  run_experiment(e);
  return 0;
}

int command_show(int argc, char** argv) {
  const Flags f(argc, argv, 2, {"--checkpoint", "--dataset", "--data", "--count", "--out", "--animate", "--seed"},
                {"--untrained", "--sample"});
  if (!f.has("--checkpoint")) throw UsageError("show: --checkpoint RUN_DIR/model.bin is required");
  if (!f.has("--out") && !f.has("--animate")) throw UsageError("show: give --out FILE.png, --animate DIR, or both");
  if (f.has("--seed") && !f.has("--untrained") && !f.has("--sample"))
    throw UsageError("--seed: only with --untrained or --sample (the initial weights' and the noise's seed)");
  ShowConfig s;
  s.checkpoint = f.text("--checkpoint", "");
  s.dataset = f.text("--dataset", "");
  s.data_dir = f.text("--data", "");
  s.count = f.integer("--count", s.count, 1, 100);
  s.out = f.text("--out", "");
  s.animate_dir = f.text("--animate", "");
  s.untrained = f.has("--untrained");
  s.sample = f.has("--sample");
  s.seed = static_cast<uint64_t>(f.integer("--seed", 1, 0, 1L << 62));
  run_show(s);
  return 0;
}

int command_eval(int argc, char** argv) {
  const Flags f(argc, argv, 2, {"--checkpoint", "--split", "--data", "--threads"}, {});
  if (!f.has("--checkpoint")) throw UsageError("eval: --checkpoint FILE is required");
  const std::string split = f.text("--split", "test");
  if (split != "valid" && split != "test") throw UsageError("--split: '" + split + "' is not one of valid, test");
  Checkpoint ck = load_checkpoint(f.text("--checkpoint", ""));
  TrainConfig c = ck.config;
  c.data_dir = f.text("--data", c.data_dir);
  ModelConfig loaded = c.model;
  DataSplits data = load_dataset(c.dataset, c.data_dir, c.seed, c.placement, c.model);
  if (!loaded.same_images(c.model))
    throw UsageError(c.data_dir + ": images differ in shape from those the checkpoint was trained on");
  Parameters params(c.model);
  restore_parameters(ck, params);
  ThreadPool pool(f.integer("--threads", default_threads(), 1, 256));
  const Evaluation e = evaluate(params, c.model, split == "valid" ? data.valid : data.test, pool);
  std::printf("%s: %d images, nll %.4f\n", split.c_str(), (split == "valid" ? data.valid : data.test).count, e.nll);
  std::printf("mean location (x, y) of each glimpse, at the policy mean:");
  for (int t = 0; t < c.model.glimpses; ++t)
    std::printf(" (%.2f, %.2f)", e.mean_location[2 * t], e.mean_location[2 * t + 1]);
  std::printf("\n");
  std::printf("%s_error=%.4f\n", split.c_str(), e.error);
  return 0;
}

// ram report [--check] [PAGE...]: the numbers on the pages from their CSVs
// (tools/report.h); by default README.md and every page under docs/.
int command_report(int argc, char** argv) {
  bool check = false;
  std::vector<std::string> pages;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--check")
      check = true;
    else if (arg.rfind("--", 0) == 0)
      throw UsageError("unknown flag " + arg);
    else
      pages.push_back(arg);
  }
  if (pages.empty()) {
    pages.push_back("README.md");
    for (const char* dir : {"docs", "docs/results"}) {
      std::vector<std::string> found;
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
        if (entry.path().extension() == ".md") found.push_back(entry.path().string());
      std::sort(found.begin(), found.end());
      pages.insert(pages.end(), found.begin(), found.end());
    }
  }
  const std::vector<ReportIssue> issues = run_report("docs/results", pages, !check);
  for (const ReportIssue& issue : issues)
    if (check || !issue.rewritable) return 1;
  return 0;
}

int command_bench(int argc, char** argv) {
  const Flags f(argc, argv, 2, {"--core", "--locator", "--glimpses", "--batch", "--threads", "--patch", "--scales", "--seconds"},
                {});
  BenchConfig b;
  b.model.core = parse_core(f.text("--core", "rnn"));
  b.model.locator = parse_locator(f.text("--locator", "linear"));
  b.model.glimpses = f.integer("--glimpses", 6, 1, 64);
  b.model.patch = f.integer("--patch", b.model.patch, 1, 64);
  b.model.scales = f.integer("--scales", b.model.scales, 1, 6);
  b.batch = f.integer("--batch", 128, 1, 65536);
  b.threads = f.integer("--threads", default_threads(), 1, 256);
  b.seconds = f.number("--seconds", b.seconds, 0.1, 600);
  run_bench(b);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  try {
    if (command == "train") return command_train(argc, argv);
    if (command == "eval") return command_eval(argc, argv);
    if (command == "bench") return command_bench(argc, argv);
    if (command == "experiment") return command_experiment(argc, argv);
    if (command == "show") return command_show(argc, argv);
    if (command == "report") return command_report(argc, argv);
    if (command == "-h" || command == "--help" || command == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    throw UsageError(command.empty() ? "no command given" : "unknown command '" + command + "'");
  } catch (const UsageError& e) {
    if (*e.what()) std::fprintf(stderr, "error: %s\n\n", e.what());
    std::fputs(kUsage, stderr);
    return *e.what() ? 2 : 0;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    std::fprintf(stderr, "error: %s\n", what.c_str());
    // A run that diverged is not an input problem.
    return what.rfind("training stopped", 0) == 0 ? 1 : 2;
  }
}
