// main.cpp: the command line.
//
//   ram train      --out RUN_DIR [--resume] [train flags]          train a model
//   ram eval       --checkpoint RUN_DIR/model.bin --split valid|test  evaluate one
//   ram experiment NAME --out DIR [flags]                          the seed paper's figures
//   ram show       --checkpoint RUN_DIR/model.bin --out FILE.png   draw its glimpses
//   ram bench      [flags]                                         measure speed
//   ram report     [--check]                                       the pages' numbers from their CSVs
//
// The train flags, their defaults, ranges and help lines come from the
// settings table (train/settings.h). Every problem with the command line or
// the input files is an error message naming the flag or file, and exit
// code 2.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/thread_pool.h"
#include "tools/bench.h"
#include "tools/experiments.h"
#include "tools/report.h"
#include "tools/show.h"
#include "train/checkpoint.h"
#include "train/settings.h"
#include "train/train.h"

namespace {

const char* kUsage = R"(usage:
  ram train --out RUN_DIR [--resume] [train flags]               train, checkpoint, report
            --resume: continue the run in RUN_DIR from last.bin
  ram eval  --checkpoint RUN_DIR/model.bin [--split valid|test] [--data DIR] [--threads N]
  ram experiment NAME --out DIR [--epochs N] [--seeds K] [--datasets A,B] [--images N]
            [--mnist DIR] [--cifar10 DIR] [--fashion-mnist DIR] [train flags shared by its runs]
            NAME: fig2, fig3, fig4 or collapse (docs/results.md)
  ram show  --checkpoint RUN_DIR/model.bin [--out FILE.png] [--animate DIR] [--count N]
            [--dataset NAME] [--data DIR] [--untrained] [--sample] [--seed S]
            the glimpse path, the patches seen and the guess after each glimpse
  ram bench [--core NAME] [--locator NAME] [--glimpses T] [--batch B]
            [--threads N] [--shards N] [--patch P] [--scales K] [--canvas N] [--seconds S]
  ram report [--check] [PAGE...]   the pages' numbers from docs/results/*.csv
            (--check: only say where a page disagrees; exit 1 if one does)

train flags (the Torch RAM code's defaults, except where docs/defaults.md says why):
)";

void print_usage(std::FILE* to) {
  std::fputs(kUsage, to);
  std::fputs(settings_help().c_str(), to);
}

std::string join_command(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += argv[i];
  }
  return s;
}

std::set<std::string> joined(std::set<std::string> a, const std::set<std::string>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

// The known data set names, in catalog order.
std::vector<std::string> dataset_names() {
  std::vector<std::string> names;
  std::stringstream list(known_datasets());
  for (std::string name; std::getline(list >> std::ws, name, ',');) names.push_back(name);
  return names;
}

int command_train(int argc, char** argv) {
  const Flags f(argc, argv, 2, joined(setting_flags(), {"--out"}), joined(setting_switches(), {"--resume"}));
  if (!f.has("--out")) throw UsageError("train: --out RUN_DIR is required");
  TrainConfig c = settings_from_flags(f);
  c.out_dir = f.text("--out", "");
  const bool resume = f.has("--resume");
  if (resume) {
    // The run's own settings come from last.bin; the flags may change only
    // those --resume allows.
    const std::string last = c.out_dir + "/last.bin";
    c = resumed_settings(load_checkpoint(last).config, c, f, last);
  }
  const double test_error = train(c, resume, join_command(argc, argv));
  std::printf("test_error=%.4f\n", test_error);
  return 0;
}

int command_experiment(int argc, char** argv) {
  if (argc < 3 || argv[2][0] == '-') throw UsageError("experiment: name one of fig2, fig3, fig4, collapse");
  // What each run is (data set, core, locator, reward, seed, epochs) is the
  // experiment's to set; the other train flags set what its runs share.
  std::set<std::string> own = {"--out", "--epochs", "--seeds", "--datasets", "--images"};
  for (const std::string& name : dataset_names()) own.insert("--" + name);
  const Flags f(argc, argv, 3, joined(setting_flags(), own), setting_switches());
  for (const Setting& s : settings_table())
    if (s.flag && (s.traits & kPerRun) && !own.count(s.flag) && f.has(s.flag))
      throw UsageError(std::string(s.flag) + ": set by the experiment for each of its runs (use --datasets, "
                       "--mnist DIR, --cifar10 DIR, --fashion-mnist DIR, --seeds)");
  if (!f.has("--out")) throw UsageError("experiment: --out DIR is required");
  ExperimentConfig e;
  e.name = argv[2];
  e.base = settings_from_flags(f);
  e.given = given_settings(f);
  e.out_dir = f.text("--out", "");
  e.epochs = f.integer("--epochs", 0, 1, 100000);
  e.seeds = f.integer("--seeds", 0, 1, 1000);
  e.images = f.integer("--images", e.images, 1, 1000000);
  std::stringstream names(f.text("--datasets", ""));
  for (std::string name; std::getline(names, name, ',');) {
    if (!is_known_dataset(name))
      throw UsageError("--datasets: unknown data set '" + name + "' (known: " + known_datasets() + ")");
    e.datasets.push_back(name);
  }
  for (const std::string& name : dataset_names())
    if (f.has("--" + name)) e.data_dirs[name] = f.text("--" + name, "");
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
  const TrainedModel m = load_trained(f.text("--checkpoint", ""), "", f.text("--data", ""));
  ThreadPool pool(f.integer("--threads", default_threads(), 1, 256));
  const Dataset& images = split == "valid" ? m.data.valid : m.data.test;
  const Evaluation e = evaluate(m.params, m.config.model, images, pool);
  std::printf("%s: %d images, nll %.4f\n", split.c_str(), images.count, e.nll);
  std::printf("mean location (x, y) of each glimpse, at the policy mean:");
  for (int t = 0; t < m.config.model.glimpses; ++t)
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
  const Flags f(argc, argv, 2,
                {"--core", "--locator", "--glimpses", "--batch", "--threads", "--shards", "--patch", "--scales",
                 "--canvas", "--seconds"},
                {});
  // The model flags read as `ram train` reads them, from bench's own defaults;
  // --canvas N: images of N x N (translated and cluttered MNIST), else 28 x 28.
  TrainConfig c;
  c.model.glimpses = 6;
  c.batch = 128;
  c.threads = default_threads();
  apply_flags(f, c);
  BenchConfig b;
  b.model = c.model;
  if (f.has("--canvas")) b.model.height = b.model.width = c.placement.canvas;
  b.batch = c.batch;
  b.threads = c.threads;
  b.shards = c.shards;
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
      print_usage(stdout);
      return 0;
    }
    throw UsageError(command.empty() ? "no command given" : "unknown command '" + command + "'");
  } catch (const UsageError& e) {
    if (*e.what()) std::fprintf(stderr, "error: %s\n\n", e.what());
    print_usage(stderr);
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
