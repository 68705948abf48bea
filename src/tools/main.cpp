// main.cpp: the command line.
//
//   ram train      --out RUN_DIR [--resume] [train flags]          train a model
//   ram eval       --checkpoint RUN_DIR/model.bin --split valid|test  evaluate one
//   ram experiment NAME --out DIR [flags]                          the seed paper's figures
//   ram show       --checkpoint RUN_DIR/model.bin --out FILE.png   draw its glimpses
//   ram bench      [flags]                                         measure speed
//   ram report     [--check]                                       the pages' numbers from their CSVs
//   ram plot       --out FILE.png CSV[=LABEL]...                   columns of CSV files as lines
//
// The train flags, their defaults, ranges and help lines come from the
// settings table (train/settings.h). Every problem with the command line or
// the input files is an error message naming the flag or file, and exit
// code 2.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/thread_pool.h"
#include "tools/bench.h"
#include "tools/plot.h"
#include "tools/experiments.h"
#include "tools/report.h"
#include "tools/show.h"
#include "train/atomic_file.h"
#include "train/checkpoint.h"
#include "train/settings.h"
#include "train/train.h"

namespace {

const char* kUsage = R"(usage:
  ram train --out RUN_DIR [--resume] [train flags]               train, checkpoint, report
            --resume: continue the run in RUN_DIR from last.bin
  ram eval  --checkpoint RUN_DIR/model.bin [--split valid|test|valid,test] [--data DIR] [--threads N]
            [--allow-other-data]  (run it on other images than those it was trained on)
            [--csv FILE]  also write the results, a row per glimpse: split, glimpse, mean_x, mean_y,
            error, nll, paths
            [--paths M[,M2...]]  classify by the mean class probability over M glimpse paths drawn
            from the policy (ours), instead of the one path at its mean (0, the default)
  ram experiment NAME --out DIR [--epochs N] [--seeds K] [--datasets A,B] [--variants A,B]
            [--images N]
            [--mnist DIR] [--cifar10 DIR] [--fashion-mnist DIR] [--print-commands]
            [train flags shared by its runs]
            NAME: fig2, fig3, fig4 or collapse (docs/results.md), ram-tables (docs/results/ram-tables.md)
            --variants A,B: fig4 (linear, lstm-locator, lstm-core), collapse (classify, change,
            change-code, lowstd): draw only these curves, train only their runs
            --print-commands: print a `ram train` command per run left to train, and stop;
            run them anywhere (parallel -j N < FILE), then the same command draws
            ram-tables: [--minutes M] each run's budget (15); [--collect-only] report unfinished runs,
            train none; --seeds K: at least K seeds per row (3 for the headline rows, 1 for the others)
  ram show  --checkpoint RUN_DIR/model.bin [--out FILE.png] [--animate DIR] [--gif FILE.gif] [--count N]
            [--dataset NAME] [--data DIR] [--untrained] [--sample] [--seed S] [--allow-other-data]
            the glimpse path, the patches seen and the guess after each glimpse
  ram bench [--core NAME] [--locator NAME] [--glimpses T] [--batch B] [--threads N] [--shards N]
            [--canvas N] [--patch P] [--scales K] [--glimpse-scale S] [--unit-pixels U]
            [--what-hidden N] [--where-hidden N] [--glimpse-hidden N] [--hidden N] [--seconds S]
  ram report [--check] [PAGE...]   the pages' numbers from docs/results/*.csv
            (--check: only say where a page disagrees; exit 1 if one does)
  ram plot  --out FILE.png [--x COLUMN] [--y COLUMN] [--percent] [--y-max V] [--title TEXT]
            CSV[=LABEL]...   one line per CSV file (a run's metrics.csv): column --y (test_error)
            against --x (epoch; "minutes": seconds / 60); --percent: y times 100

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
  if (argc < 3 || argv[2][0] == '-')
    throw UsageError("experiment: name one of fig2, fig3, fig4, collapse, ram-tables");
  // What each run is (data set, core, locator, reward, seed, epochs) is the
  // experiment's to set; the other train flags set what its runs share.
  std::set<std::string> own = {"--out", "--epochs", "--seeds", "--datasets", "--variants", "--images", "--minutes"};
  for (const std::string& name : dataset_names()) own.insert("--" + name);
  const Flags f(argc, argv, 3, joined(setting_flags(), own),
                joined(setting_switches(), {"--collect-only", "--print-commands"}));
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
  e.minutes = f.number("--minutes", 0, 0.01, 1e6);
  e.collect_only = f.has("--collect-only");
  e.print_commands = f.has("--print-commands");
  e.program = argv[0];
  std::stringstream names(f.text("--datasets", ""));
  for (std::string name; std::getline(names, name, ',');) {
    if (!is_known_dataset(name))
      throw UsageError("--datasets: unknown data set '" + name + "' (known: " + known_datasets() + ")");
    e.datasets.push_back(name);
  }
  std::stringstream variants(f.text("--variants", ""));
  for (std::string name; std::getline(variants, name, ',');) e.variants.push_back(name);
  for (const std::string& name : dataset_names())
    if (f.has("--" + name)) e.data_dirs[name] = f.text("--" + name, "");
  run_experiment(e);
  return 0;
}

int command_show(int argc, char** argv) {
  const Flags f(argc, argv, 2,
                {"--checkpoint", "--dataset", "--data", "--count", "--out", "--animate", "--gif", "--seed"},
                {"--untrained", "--sample", "--allow-other-data"});
  if (!f.has("--checkpoint")) throw UsageError("show: --checkpoint RUN_DIR/model.bin is required");
  if (!f.has("--out") && !f.has("--animate") && !f.has("--gif"))
    throw UsageError("show: give --out FILE.png, --animate DIR, --gif FILE.gif, or several");
  if (f.has("--seed") && !f.has("--untrained") && !f.has("--sample"))
    throw UsageError("--seed: only with --untrained or --sample (the initial weights' and the noise's seed)");
  ShowConfig s;
  s.checkpoint = f.text("--checkpoint", "");
  s.dataset = f.text("--dataset", "");
  s.data_dir = f.text("--data", "");
  s.count = f.integer("--count", s.count, 1, 100);
  s.out = f.text("--out", "");
  s.animate_dir = f.text("--animate", "");
  s.gif = f.text("--gif", "");
  s.untrained = f.has("--untrained");
  s.sample = f.has("--sample");
  s.seed = static_cast<uint64_t>(f.integer("--seed", 1, 0, 1L << 62));
  s.allow_other_data = f.has("--allow-other-data");
  run_show(s);
  return 0;
}

// The comma-separated values of a list flag (--split valid,test; --paths 0,4,16).
std::vector<std::string> list_values(const Flags& f, const std::string& name, const std::string& fallback) {
  std::vector<std::string> values;
  std::stringstream items(f.text(name, fallback));
  for (std::string item; std::getline(items, item, ',');) values.push_back(item);
  if (values.empty()) throw UsageError(name + ": no value");
  return values;
}

int command_eval(int argc, char** argv) {
  const Flags f(argc, argv, 2, {"--checkpoint", "--split", "--data", "--threads", "--csv", "--paths"},
                {"--allow-other-data"});
  if (!f.has("--checkpoint")) throw UsageError("eval: --checkpoint FILE is required");
  const std::vector<std::string> splits = list_values(f, "--split", "test");
  for (const std::string& split : splits)
    if (split != "valid" && split != "test") throw UsageError("--split: '" + split + "' is not one of valid, test");
  std::vector<int> path_counts;
  for (const std::string& item : list_values(f, "--paths", "0")) {
    long paths = 0;
    const std::string problem = parse_integer(item, 0, 1000, paths);
    if (!problem.empty()) throw UsageError("--paths: " + problem);
    path_counts.push_back(static_cast<int>(paths));
  }
  const int threads = static_cast<int>(f.integer("--threads", default_threads(), 1, 256));
  const std::string checkpoint = f.text("--checkpoint", "");
  const TrainedModel m = load_trained(checkpoint, "", f.text("--data", ""), f.has("--allow-other-data"));
  require_memory(evaluation_bytes(m.config.model, threads), "evaluating " + checkpoint);
  ThreadPool pool(threads);
  const bool random = m.config.model.locations == LocationSource::random;
  std::string csv = "split,glimpse,mean_x,mean_y,error,nll,paths\n";  // for pages' numbers (tools/report.h)
  for (const std::string& split : splits) {
    const Dataset& images = split == "valid" ? m.data.valid : m.data.test;
    for (const int paths : path_counts) {
      const Evaluation e = evaluate(m.params, m.config.model, images, pool, m.config.seed, paths);
      if (e.non_finite > 0)
        throw std::runtime_error(checkpoint + ": the model's outputs are not finite on " +
                                 std::to_string(e.non_finite) + " of " + std::to_string(images.count) +
                                 " images (its weights overflow the float computation)");
      std::printf("%s: %d images, nll %.4f\n", split.c_str(), images.count, e.nll);
      if (paths > 0)
        std::printf("classified by the mean class probability over %d paths %s\n", paths,
                    random ? "at random places" : "drawn from the policy");
      std::printf("mean location (x, y) of each glimpse, %s:",
                  paths > 0 ? "over the paths" : random ? "at random places" : "at the policy mean");
      for (int t = 0; t < m.config.model.glimpses; ++t)
        std::printf(" (%.2f, %.2f)", e.mean_location[2 * t], e.mean_location[2 * t + 1]);
      std::printf("\n%s_error=%.4f\n", split.c_str(), e.error);
      std::fflush(stdout);
      for (int t = 0; t < m.config.model.glimpses; ++t) {
        char row[192];
        std::snprintf(row, sizeof row, "%s,%d,%.6f,%.6f,%.6f,%.6f,%d\n", split.c_str(), t + 1,
                      e.mean_location[2 * t], e.mean_location[2 * t + 1], e.error, e.nll, paths);
        csv += row;
      }
    }
  }
  if (f.has("--csv")) write_file_atomically(f.text("--csv", ""), csv);
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

int command_plot(int argc, char** argv) {
  CsvPlotRequest request;
  std::string out;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--out") {
      out = value();
    } else if (arg == "--x") {
      request.x = value();
    } else if (arg == "--y") {
      request.y = value();
    } else if (arg == "--title") {
      request.title = value();
    } else if (arg == "--percent") {
      request.percent = true;
    } else if (arg == "--y-max") {
      const std::string text = value();
      char* end = nullptr;
      request.y_max = std::strtod(text.c_str(), &end);
      if (text.empty() || *end || !(request.y_max > 0 && request.y_max < 1e300))
        throw UsageError("--y-max: '" + text + "' is not a number above 0");
    } else if (arg.rfind("--", 0) == 0) {
      throw UsageError("unknown flag " + arg);
    } else {  // FILE.csv or FILE.csv=LABEL; the label defaults to the file's name
      const auto eq = arg.find('=');
      const std::string path = arg.substr(0, eq);
      request.curves.push_back(
          {path, eq == std::string::npos ? std::filesystem::path(path).stem().string() : arg.substr(eq + 1)});
    }
  }
  if (out.empty()) throw UsageError("plot needs --out FILE.png");
  if (request.curves.empty()) throw UsageError("plot needs at least one CSV file");
  draw_plot(csv_plot(request)).save_png(out);
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

int command_bench(int argc, char** argv) {
  const Flags f(argc, argv, 2,
                {"--core", "--locator", "--glimpses", "--batch", "--threads", "--shards", "--patch", "--scales",
                 "--glimpse-scale", "--unit-pixels", "--canvas", "--what-hidden", "--where-hidden",
                 "--glimpse-hidden", "--hidden", "--seconds"},
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
  require_memory(training_bytes(b.model, b.batch, std::max(2, b.threads), b.threads),
                 "bench with --batch " + std::to_string(b.batch) + ", --glimpses " + std::to_string(b.model.glimpses) +
                     ", --patch " + std::to_string(b.model.patch) + ", --scales " + std::to_string(b.model.scales));
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
    if (command == "plot") return command_plot(argc, argv);
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
  } catch (const std::bad_alloc&) {
    // What the settings need is checked before the large buffers are made
    // (require_memory); this is what the estimate missed, or memory that
    // others hold.
    std::fprintf(stderr, "error: out of memory: the settings need more memory than the machine could give "
                 "(smaller --batch, --glimpses, --patch or --scales need less)\n");
    return 2;
  }
}
