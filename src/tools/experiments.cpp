// experiments.cpp: the seed paper's experiments ("Applying Active Learning to
// Recurrent Attentive Models", sections 2.3 and 2.4), each redrawn from runs
// trained here:
//
//   fig2      mean ||O_t - O_{t-1}||_2 after each glimpse (seed eq. 2), and
//             in fig2-reference the mean distance ||O_t - z_ref||_2 the seed's
//             code paid, for models trained with the change reward of
//             equation 2, the change reward as the seed's code ran it, and
//             the classification reward alone (seed fig. 2).
//   fig3      the classifier's NLL after each glimpse, looking where the
//             trained policy looks or at uniformly random places, for the
//             linear and the LSTM locator (seed fig. 3).
//   fig4      test accuracy per epoch: the Torch RAM (linear locator), the
//             seed's LSTM locator, and an LSTM core, on MNIST and CIFAR-10,
//             over several seeds (seed figs. 4 and 5).
//   collapse  test accuracy per epoch under both change rewards (equation 2,
//             and the seed's code) and the low-std reward, against the
//             classification reward (seed section 2.3: "climbed to over 50 %
//             but abruptly fell to 10 or 11 % by the tenth epoch").
//   ram-tables  the RAM paper's tables: test error against the number of
//             glimpses on 28x28 MNIST, 60x60 translated and cluttered MNIST
//             (with the 8-random-glimpses control) and 100x100 cluttered
//             MNIST, each run trained for a fixed time.
//
// Every run of the seed's figures lives in
// DIR/runs/<data set>-<variant>-e<epochs>-s<seed>, every run of ram-tables in
// DIR/runs/<table>-<row>-s<seed>, so experiments with the same settings share
// runs, a finished run is reused and an interrupted one resumes from its
// last.bin. An experiment first lists its runs, then trains them (or, with
// --print-commands, prints the `ram train` command of each for the user to
// run anywhere), then draws from them: the per-glimpse figures read the final
// weights (last.bin), the accuracy curves and the tables read metrics.csv.
#include "tools/experiments.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "kernels/random.h"
#include "tools/plot.h"
#include "tools/report.h"
#include "train/atomic_file.h"
#include "train/checkpoint.h"
#include "train/settings.h"

namespace fs = std::filesystem;

namespace {

struct Variant {
  std::string run;    // in run directory names
  std::string name;   // in CSV files
  std::string label;  // in the legend
  CoreKind core;
  LocatorKind locator;
  RewardKind reward;
};

const Variant kLinear{"linear", "linear", "linear locator (RAM)", CoreKind::rnn, LocatorKind::linear, RewardKind::classify};
// The same runs, named for what the reward experiments compare.
const Variant kClassify{"linear", "classify", "classification reward (RAM)", CoreKind::rnn, LocatorKind::linear,
                        RewardKind::classify};
const Variant kLstmLocator{"lstm-locator", "lstm-locator", "LSTM locator (seed)", CoreKind::rnn, LocatorKind::lstm,
                           RewardKind::classify};
const Variant kLstmCore{"lstm-core", "lstm-core", "LSTM core", CoreKind::lstm, LocatorKind::linear, RewardKind::classify};
const Variant kChange{"change", "change", "change reward (seed eq. 2)", CoreKind::rnn, LocatorKind::linear, RewardKind::change};
const Variant kChangeCode{"change-code", "change-code", "change reward (seed's code)", CoreKind::rnn,
                          LocatorKind::linear, RewardKind::change_code};
const Variant kLowStd{"lowstd", "lowstd", "low-std reward (seed code)", CoreKind::rnn, LocatorKind::linear,
                      RewardKind::lowstd};

std::string dataset_title(const std::string& dataset) {
  if (dataset == "mnist") return "MNIST";
  if (dataset == "cifar10") return "CIFAR-10";
  if (dataset == "fashion-mnist") return "Fashion-MNIST";
  return dataset;
}

// The settings of one run: the shared ones, then what the variant changes,
// then the defaults that follow them (the data directory, the reward's
// coefficient, the decay length), as `ram train` derives them.
TrainConfig run_config(const ExperimentConfig& e, const std::string& dataset, const Variant& v, int seed) {
  TrainConfig c = e.base;
  std::set<std::string> given = e.given;
  for (const Setting& s : settings_table())
    if (s.flag && (s.traits & kPerRun)) given.erase(s.flag);
  c.dataset = dataset;
  const auto dir = e.data_dirs.find(dataset);
  if (dir != e.data_dirs.end()) {
    c.data_dir = dir->second;
    given.insert("--data");
  }
  c.model.core = v.core;
  c.model.locator = v.locator;
  c.reward.kind = v.reward;
  c.epochs = e.epochs;
  c.seed = static_cast<uint64_t>(seed);
  c.max_minutes = 0;
  derive_defaults(c, given);
  c.out_dir = e.out_dir + "/runs/" + dataset + "-" + v.run + "-e" + std::to_string(e.epochs) + "-s" +
              std::to_string(seed);
  return c;
}

// Whether the run in last.bin is done as c asks: all its epochs, or, with a
// time limit, past it (train() stops after the epoch that passes it).
bool run_finished(const Checkpoint& saved, const TrainConfig& c) {
  return saved.state.epochs_done >= c.epochs || (c.max_minutes > 0 && saved.state.seconds > 60 * c.max_minutes);
}

// The run's last.bin, refused when its settings are not c's.
Checkpoint load_same_run(const TrainConfig& c) {
  Checkpoint saved = load_checkpoint(c.out_dir + "/last.bin");
  const std::string difference = identity_difference(saved.config, c);
  if (!difference.empty())
    throw std::runtime_error(c.out_dir + ": holds a run with other settings (" + difference +
                             "); give another --out or remove it");
  return saved;
}

// One training run of an experiment, and what it is called in messages.
struct Run {
  TrainConfig config;
  std::string what;
};

enum class RunState { absent, partial, finished };

// Whether the run's directory holds nothing, an interrupted run or a
// finished one; refuses a run made with other settings.
RunState run_state(const TrainConfig& c) {
  if (!fs::exists(c.out_dir + "/last.bin")) return RunState::absent;
  return run_finished(load_same_run(c), c) ? RunState::finished : RunState::partial;
}

// Trains the run unless a finished one with the same settings is there.
void ensure_run(const Run& run, int index, int total) {
  const TrainConfig& c = run.config;
  const RunState state = run_state(c);
  if (state == RunState::finished) {
    std::printf("[%d/%d] %s: finished run in %s, reused\n", index, total, run.what.c_str(), c.out_dir.c_str());
    return;
  }
  const bool resume = state == RunState::partial;
  std::printf("[%d/%d] %s: %s %s\n", index, total, run.what.c_str(), resume ? "resuming" : "training",
              c.out_dir.c_str());
  std::fflush(stdout);
  train(c, resume, "ram experiment: " + run.what);
}

// The `ram train` command that makes the run (or finishes an interrupted
// one): the settings line of command.txt, so that the experiment then finds
// the run with its own settings and reuses it.
std::string train_command(const std::string& program, const TrainConfig& c, RunState state) {
  if (state == RunState::partial) {
    // --epochs and --max-minutes are not the run's identity: a resume is
    // told them again.
    std::string command = program + " train --resume --epochs " + std::to_string(c.epochs);
    if (c.max_minutes > 0) command += " --max-minutes " + setting_text(*find_setting("--max-minutes"), c);
    return command + " --out " + c.out_dir;
  }
  return program + " train " + settings_command_line(c);
}

// 1 - test_error of every epoch, from RUN_DIR/metrics.csv.
std::vector<double> test_accuracy(const std::string& run_dir, int epochs) {
  const std::string path = run_dir + "/metrics.csv";
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::string line;
  std::getline(in, line);
  int column = -1, k = 0;
  std::stringstream header(line);
  for (std::string name; std::getline(header, name, ','); ++k)
    if (name == "test_error") column = k;
  if (column < 0) throw std::runtime_error(path + ": no test_error column");
  std::vector<double> accuracy;
  for (int number = 2; std::getline(in, line); ++number) {
    std::stringstream row(line);
    std::string cell;
    int cells = 0;
    while (cells <= column && std::getline(row, cell, ',')) ++cells;
    char* end = nullptr;
    const double error = cells > column ? std::strtod(cell.c_str(), &end) : 0;
    if (cells <= column || end == cell.c_str() || *end || !(error >= 0 && error <= 1))
      throw std::runtime_error(path + ": line " + std::to_string(number) + " has no test error in [0, 1]");
    accuracy.push_back(1.0 - error);
  }
  if (static_cast<int>(accuracy.size()) < epochs)
    throw std::runtime_error(path + ": " + std::to_string(accuracy.size()) + " epochs, expected " +
                             std::to_string(epochs));
  accuracy.resize(epochs);
  return accuracy;
}

// One plotted curve: a value per x for each seed, shown as the mean with
// the range (min to max) over seeds as its band.
struct Curve {
  std::string name, label;
  std::vector<double> x;
  std::vector<std::vector<double>> per_seed;  // [seed][x]

  double mean(std::size_t i) const {
    double s = 0;
    for (const auto& v : per_seed) s += v[i];
    return s / per_seed.size();
  }
  double min(std::size_t i) const {
    double m = per_seed[0][i];
    for (const auto& v : per_seed) m = std::min(m, v[i]);
    return m;
  }
  double max(std::size_t i) const {
    double m = per_seed[0][i];
    for (const auto& v : per_seed) m = std::max(m, v[i]);
    return m;
  }
};

// Writes NAME.csv (series, x, mean, min, max, then each seed's value) and
// NAME.png, each atomically (train/atomic_file.h).
void write_figure(const std::string& dir, const std::string& name, const std::string& title,
                  const std::string& subtitle, const std::string& x_label, const std::string& y_label,
                  const std::vector<Curve>& curves) {
  const std::string csv = dir + "/" + name + ".csv", png = dir + "/" + name + ".png";
  std::size_t seeds = 0;
  for (const Curve& c : curves) seeds = std::max(seeds, c.per_seed.size());
  {
    std::ostringstream out;
    out << "series,x,mean,min,max";
    for (std::size_t s = 0; s < seeds; ++s) out << ",seed_" << s + 1;
    out << "\n";
    char cell[64];
    for (const Curve& c : curves)
      for (std::size_t i = 0; i < c.x.size(); ++i) {
        out << c.name << "," << c.x[i];
        for (double v : {c.mean(i), c.min(i), c.max(i)}) {
          std::snprintf(cell, sizeof cell, ",%.6g", v);
          out << cell;
        }
        for (std::size_t s = 0; s < seeds; ++s) {
          if (s < c.per_seed.size()) std::snprintf(cell, sizeof cell, "%.6g", c.per_seed[s][i]);
          out << "," << (s < c.per_seed.size() ? cell : "");
        }
        out << "\n";
      }
    write_file_atomically(csv, out.str());
  }
  Plot plot;
  plot.title = title;
  plot.x_label = x_label;
  plot.y_label = y_label;
  plot.subtitle = subtitle;
  for (const Curve& c : curves) {
    PlotSeries s;
    s.label = c.label;
    s.x = c.x;
    for (std::size_t i = 0; i < c.x.size(); ++i) {
      s.y.push_back(c.mean(i));
      if (c.per_seed.size() > 1) {
        s.low.push_back(c.min(i));
        s.high.push_back(c.max(i));
      }
    }
    plot.series.push_back(s);
  }
  draw_plot(plot).save_png(png);
  std::printf("wrote %s and %s\n", csv.c_str(), png.c_str());
}

std::vector<double> range_1_to(int n) {
  std::vector<double> x(n);
  for (int i = 0; i < n; ++i) x[i] = i + 1;
  return x;
}

// The training settings the runs share, for the figure's subtitle.
std::string setup_note(const TrainConfig& c) {
  char s[200];
  std::snprintf(s, sizeof s, "%s lr %g, batch %d, %d glimpses, sigma %g, REINFORCE %s%s%s",
                c.optimizer.kind == OptimizerKind::adam ? "Adam" : "SGD", c.optimizer.lr, c.batch, c.model.glimpses,
                c.model.sigma, c.loss.reinforce_into_core ? "into the core (Torch)" : "stopped at the core",
                c.model.baseline == BaselineKind::constant ? ", constant baseline" : "",
                c.init == InitKind::torch ? ", Torch init" : "");
  return s;
}

std::string seeds_note(int seeds) {
  return seeds > 1 ? " (mean, band: range over " + std::to_string(seeds) + " seeds)" : "";
}

// The accuracy-per-epoch experiments (fig4, collapse): every variant for
// every seed, on every data set, seed by seed, so that an interrupted
// experiment has whole seeds done.
std::vector<Run> accuracy_runs(const ExperimentConfig& e, const std::vector<Variant>& variants) {
  std::vector<Run> runs;
  for (const std::string& dataset : e.datasets)
    for (int seed = 1; seed <= e.seeds; ++seed)
      for (const Variant& v : variants)
        runs.push_back({run_config(e, dataset, v, seed),
                        e.name + " " + dataset + " " + v.name + " seed " + std::to_string(seed)});
  return runs;
}

// One figure per data set from the finished runs; prints the last epoch's
// accuracy of each curve.
void accuracy_figures(const ExperimentConfig& e, const std::vector<Variant>& variants, const std::string& what) {
  for (const std::string& dataset : e.datasets) {
    std::vector<Curve> curves;
    for (const Variant& v : variants) curves.push_back({v.name, v.label, range_1_to(e.epochs), {}});
    for (int seed = 1; seed <= e.seeds; ++seed)
      for (std::size_t k = 0; k < variants.size(); ++k)
        curves[k].per_seed.push_back(test_accuracy(run_config(e, dataset, variants[k], seed).out_dir, e.epochs));
    const std::string file = e.datasets.size() > 1 || e.name == "fig4" ? e.name + "-" + dataset : e.name;
    write_figure(e.out_dir, file, what + ", " + dataset_title(dataset) + seeds_note(e.seeds), setup_note(e.base),
                 "epoch", "test accuracy", curves);
    for (const Curve& c : curves) {
      const std::size_t last = c.x.size() - 1;
      std::printf("%s %s %s: test accuracy at epoch %d: mean %.4f, min %.4f, max %.4f; best epoch mean %.4f\n",
                  e.name.c_str(), dataset.c_str(), c.name.c_str(), e.epochs, c.mean(last), c.min(last), c.max(last),
                  [&] {
                    double best = 0;
                    for (std::size_t i = 0; i <= last; ++i) best = std::max(best, c.mean(i));
                    return best;
                  }());
    }
  }
}

// The per-glimpse experiments (fig2, fig3): train, then measure each model.
enum class Measure { change, reference, nll };
struct Measured {
  const Variant* variant;
  Locations where;
  std::string name, label;
};

std::vector<Run> glimpse_runs(const ExperimentConfig& e, const std::vector<Variant>& variants) {
  std::vector<Run> runs;
  const std::string dataset = e.datasets.front();
  for (int seed = 1; seed <= e.seeds; ++seed)
    for (const Variant& v : variants)
      runs.push_back({run_config(e, dataset, v, seed),
                      e.name + " " + dataset + " " + v.name + " seed " + std::to_string(seed)});
  return runs;
}

// One figure, NAME.csv and NAME.png, of one measure over the models.
void glimpse_figure(const ExperimentConfig& e, const std::string& name, const std::vector<Measured>& measures,
                    Measure measure, const std::string& title, const std::string& y_label) {
  const std::string dataset = e.datasets.front();
  std::vector<Curve> curves;
  for (const Measured& m : measures) curves.push_back({m.name, m.label, {}, {}});
  for (int seed = 1; seed <= e.seeds; ++seed) {
    for (std::size_t k = 0; k < measures.size(); ++k) {
      const TrainConfig c = run_config(e, dataset, *measures[k].variant, seed);
      const TrainedModel trained = load_trained(c.out_dir + "/last.bin");
      const ModelConfig& model = trained.config.model;
      // The seed's code's reference output, as that run's training made it.
      Tensor z_ref;
      if (measure == Measure::reference) z_ref = change_reference(trained.config, trained.data.train);
      const GlimpseCurves g = glimpse_curves(trained.params, model, trained.data.test, e.images, measures[k].where,
                                             mix_key(static_cast<uint64_t>(seed), 0x72616e646f6d),  // "random"
                                             trained.config.reward.output,
                                             measure == Measure::reference ? &z_ref : nullptr);
      curves[k].x = range_1_to(model.glimpses);
      curves[k].per_seed.push_back(measure == Measure::nll ? g.nll : measure == Measure::change ? g.change : g.reference);
    }
  }
  write_figure(e.out_dir, name, title + ", " + dataset_title(dataset) + seeds_note(e.seeds),
               setup_note(e.base) + ", " + std::to_string(e.epochs) + " epochs", "glimpse t", y_label, curves);
  for (const Curve& c : curves) {
    std::printf("%s %s:", name.c_str(), c.name.c_str());
    for (std::size_t i = 0; i < c.x.size(); ++i) std::printf(" %.4f", c.mean(i));
    std::printf("\n");
  }
}

// ---------------------------------------------------------------------------
// ram-tables: the RAM paper's tables of test error against the number of
// glimpses, beside ours. Every run trains for the same time budget and is
// scored as `ram train` scores it: the test error of the epoch with the
// lowest validation error.

// One table of the paper: a data set and the sensor the paper used on it.
struct PaperTable {
  const char* name;     // in run names and CSV rows
  const char* title;    // in headings and plots
  const char* dataset;  // --dataset
  int canvas;           // --canvas of translated and cluttered MNIST; 0: 28x28 MNIST
  int patch, scales;    // the retina: P x P, K scales
  // Pixels from the centre to a location of 1: canvas / 2, so that (-1, -1)
  // is the image's corner as in the RAM paper; 28x28 keeps the Torch code's 13.
  double unit_pixels;
  const char* source;   // the version of the paper whose numbers the table quotes
};

const PaperTable kMnist28{"mnist28", "28x28 MNIST", "mnist", 0, 8, 1, 13, "RAM paper, NIPS 2014"};
const PaperTable kTranslated60{"translated60", "60x60 translated MNIST", "translated-mnist", 60, 12, 3, 30,
                               "RAM paper, NIPS 2014"};
const PaperTable kCluttered60{"cluttered60", "60x60 cluttered MNIST", "cluttered-mnist", 60, 12, 3, 30,
                              "RAM paper, NIPS 2014"};
const PaperTable kCluttered100{"cluttered100", "100x100 cluttered MNIST", "cluttered-mnist", 100, 12, 4, 50,
                               "RAM paper, arXiv 1406.6247"};
const PaperTable* const kPaperTables[] = {&kMnist28, &kTranslated60, &kCluttered60, &kCluttered100};

// One row of a table: a glimpse count, or the random-glimpse control.
struct PaperRow {
  const PaperTable* table;
  const char* name;    // in run names and CSV rows: g7, random-g8
  int glimpses;
  double paper_error;  // the paper's test error, a fraction
  bool headline;       // the table's headline row: 3 seeds, other rows 1
  bool random;         // --locations random
};

const std::vector<PaperRow>& paper_rows() {
  static const std::vector<PaperRow> rows = {
      {&kMnist28, "g2", 2, 0.0379, false, false},        {&kMnist28, "g3", 3, 0.0151, false, false},
      {&kMnist28, "g4", 4, 0.0154, false, false},        {&kMnist28, "g5", 5, 0.0134, false, false},
      {&kMnist28, "g6", 6, 0.0112, false, false},        {&kMnist28, "g7", 7, 0.0107, true, false},
      {&kTranslated60, "g4", 4, 0.0154, false, false},   {&kTranslated60, "g6", 6, 0.0122, false, false},
      {&kTranslated60, "g8", 8, 0.0120, true, false},    {&kCluttered60, "g4", 4, 0.0496, false, false},
      {&kCluttered60, "g6", 6, 0.0408, false, false},    {&kCluttered60, "g8", 8, 0.0404, true, false},
      {&kCluttered60, "random-g8", 8, 0.144, true, true}, {&kCluttered100, "g4", 4, 0.1495, false, false},
      {&kCluttered100, "g6", 6, 0.1158, false, false},   {&kCluttered100, "g8", 8, 0.1083, true, false},
  };
  return rows;
}

// The experiment's own defaults: Adam at half its usual rate (which trains
// 28x28 MNIST steadily, docs/results/mnist-60min.md), decaying over 300
// epochs, each run cut off at 15 minutes.
constexpr double kTablesLr = 0.0005;
constexpr int kTablesEpochs = 300;
constexpr double kTablesMinutes = 15;

int row_seeds(const PaperRow& row, int asked) { return std::max(row.headline ? 3 : 1, asked); }

// The settings of one run: what the runs share, then the row's data set,
// sensor and glimpse count, then the defaults that follow them.
TrainConfig table_run_config(const ExperimentConfig& e, const PaperRow& row, int seed) {
  const PaperTable& t = *row.table;
  TrainConfig c = e.base;
  std::set<std::string> given = e.given;
  for (const Setting& s : settings_table())
    if (s.flag && (s.traits & kPerRun)) given.erase(s.flag);
  c.dataset = t.dataset;
  // Translated and cluttered MNIST are made from MNIST's files: their own
  // directory when given, else MNIST's.
  for (const std::string name : {t.dataset, "mnist"}) {
    const auto dir = e.data_dirs.find(name);
    if (dir == e.data_dirs.end()) continue;
    c.data_dir = dir->second;
    given.insert("--data");
    break;
  }
  if (t.canvas) c.placement.canvas = t.canvas;
  c.model.glimpses = row.glimpses;
  c.model.patch = t.patch;
  c.model.scales = t.scales;
  c.model.unit_pixels = t.unit_pixels;
  c.model.locations = row.random ? LocationSource::random : LocationSource::policy;
  if (!given.count("--lr") && c.optimizer.kind == OptimizerKind::adam) {
    c.optimizer.lr = kTablesLr;
    given.insert("--lr");
  }
  c.epochs = e.epochs > 0 ? e.epochs : kTablesEpochs;
  c.seed = static_cast<uint64_t>(seed);
  c.max_minutes = e.minutes > 0 ? e.minutes : kTablesMinutes;
  derive_defaults(c, given);
  c.out_dir = e.out_dir + "/runs/" + t.name + "-" + row.name + "-s" + std::to_string(seed);
  return c;
}

struct TableRun {
  const PaperRow* row;
  int seed;
  TrainConfig config;
};

// Every run, seed by seed (so that an interrupted experiment has whole seeds
// done), table by table within a seed.
std::vector<TableRun> table_runs(const ExperimentConfig& e) {
  for (const char* flag : {"--glimpses", "--patch", "--scales", "--unit-pixels"})
    if (e.given.count(flag))
      throw std::invalid_argument(std::string(flag) + ": set by ram-tables for each of its rows (the paper's sensor)");
  if (!e.datasets.empty()) throw std::invalid_argument("--datasets: ram-tables' tables choose their data sets");
  int most = 1;
  for (const PaperRow& row : paper_rows()) most = std::max(most, row_seeds(row, e.seeds));
  std::vector<TableRun> runs;
  for (int seed = 1; seed <= most; ++seed)
    for (const PaperRow& row : paper_rows())
      if (seed <= row_seeds(row, e.seeds)) runs.push_back({&row, seed, table_run_config(e, row, seed)});
  return runs;
}

// What a run gave, or why it gave nothing yet.
struct RunOutcome {
  bool finished = false;
  std::string status;      // "missing" or "unfinished ..." when not finished
  double test_error = 0;   // at the best validation epoch
  int epochs = 0, best_epoch = 0;
  double minutes = 0;      // wall time: training and per-epoch evaluation
};

RunOutcome collect_run(const TrainConfig& c) {
  RunOutcome o;
  if (!fs::exists(c.out_dir + "/last.bin")) {
    o.status = "missing";
    return o;
  }
  const Checkpoint saved = load_same_run(c);
  o.epochs = saved.state.epochs_done;
  o.best_epoch = saved.state.best_epoch;
  o.minutes = saved.state.seconds / 60;
  o.finished = run_finished(saved, c);
  if (!o.finished) {
    char s[96];
    std::snprintf(s, sizeof s, "unfinished (epoch %d, %.1f of %g minutes)", o.epochs, o.minutes, c.max_minutes);
    o.status = s;
    return o;
  }
  o.test_error = 1 - test_accuracy(c.out_dir, o.best_epoch)[o.best_epoch - 1];
  return o;
}

// DIR/ram-tables-runs/RUN.csv: a finished run's metrics.csv, every epoch,
// copied beside the tables so that they can be kept with the page (the runs'
// directories hold checkpoints too large to keep).
void copy_run_metrics(const std::string& dir, const TrainConfig& c) {
  const std::string from = c.out_dir + "/metrics.csv";
  std::ifstream in(from, std::ios::binary);
  if (!in) throw std::runtime_error(from + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  fs::create_directories(dir + "/ram-tables-runs");
  write_file_atomically(dir + "/ram-tables-runs/" + fs::path(c.out_dir).filename().string() + ".csv", text.str());
}

// A row's runs, seed s at index s - 1.
struct RowOutcome {
  const PaperRow* row;
  std::vector<const TableRun*> runs;
  std::vector<RunOutcome> outcomes;
  std::vector<double> errors() const {
    std::vector<double> v;
    for (const RunOutcome& o : outcomes)
      if (o.finished) v.push_back(o.test_error);
    return v;
  }
};

std::string number_cell(const char* format, double v) {
  char s[32];
  std::snprintf(s, sizeof s, format, v);
  return s;
}

// DIR/ram-tables.csv: a line per row: the paper's error, our mean, min and
// max over the finished seeds, their difference from the paper's, then per
// seed its test error, epochs run, best epoch and wall minutes (empty where
// the run is not finished).
void write_tables_csv(const std::string& path, const std::vector<RowOutcome>& rows, int seeds) {
  std::ostringstream out;
  out << "table,row,glimpses,paper_error,runs,mean,min,max,gap";
  for (const char* group : {"seed_", "epochs_", "best_epoch_", "minutes_"})
    for (int s = 1; s <= seeds; ++s) out << "," << group << s;
  out << "\n";
  for (const RowOutcome& r : rows) {
    const std::vector<double> e = r.errors();
    out << r.row->table->name << "," << r.row->name << "," << r.row->glimpses << ","
        << number_cell("%.6g", r.row->paper_error) << "," << e.size();
    if (e.empty()) {
      out << ",,,,";
    } else {
      double mean = 0;
      for (double v : e) mean += v / e.size();
      for (double v : {mean, *std::min_element(e.begin(), e.end()), *std::max_element(e.begin(), e.end()),
                       mean - r.row->paper_error})
        out << "," << number_cell("%.6g", v);
    }
    for (int group = 0; group < 4; ++group)
      for (int s = 0; s < seeds; ++s) {
        out << ",";
        if (s >= static_cast<int>(r.outcomes.size()) || !r.outcomes[s].finished) continue;
        const RunOutcome& o = r.outcomes[s];
        out << (group == 0   ? number_cell("%.6g", o.test_error)
                : group == 1 ? std::to_string(o.epochs)
                : group == 2 ? std::to_string(o.best_epoch)
                             : number_cell("%.2f", o.minutes));
      }
    out << "\n";
  }
  write_file_atomically(path, out.str());
}

// DIR/ram-tables-TABLE.png: test error (%) per glimpse count, ours (mean,
// band: range over seeds) and the paper's; the random-glimpse control as
// points of its own.
void draw_table(const std::string& path, const PaperTable& t, const std::vector<RowOutcome>& rows,
                const std::string& subtitle) {
  PlotSeries ours{"ours", {}, {}, {}, {}}, paper{"RAM paper", {}, {}, {}, {}};
  PlotSeries ours_random{"ours, random glimpses", {}, {}, {}, {}},
      paper_random{"RAM paper, random glimpses", {}, {}, {}, {}};
  for (const RowOutcome& r : rows) {
    if (r.row->table != &t) continue;
    PlotSeries& mine = r.row->random ? ours_random : ours;
    PlotSeries& theirs = r.row->random ? paper_random : paper;
    theirs.x.push_back(r.row->glimpses);
    theirs.y.push_back(100 * r.row->paper_error);
    const std::vector<double> e = r.errors();
    if (e.empty()) continue;
    double mean = 0;
    for (double v : e) mean += 100 * v / e.size();
    mine.x.push_back(r.row->glimpses);
    mine.y.push_back(mean);
    mine.low.push_back(100 * *std::min_element(e.begin(), e.end()));
    mine.high.push_back(100 * *std::max_element(e.begin(), e.end()));
  }
  // A band only where some point has more than one seed to spread over.
  for (PlotSeries* s : {&ours, &ours_random})
    if (std::equal(s->low.begin(), s->low.end(), s->high.begin())) s->low.clear(), s->high.clear();
  Plot plot;
  plot.title = std::string(t.title) + ": test error by number of glimpses";
  plot.subtitle = subtitle;
  plot.x_label = "glimpses";
  plot.y_label = "test error, %";
  plot.y_lo = 0;
  // Ours beside the paper's whenever the paper has the row, so that the
  // colours mean the same in every plot.
  for (auto [mine, theirs] : {std::pair<PlotSeries*, PlotSeries*>{&ours, &paper}, {&ours_random, &paper_random}}) {
    if (theirs->x.empty()) continue;
    if (mine->x.empty()) mine->label += " (no run finished)";
    for (const PlotSeries* s : {mine, theirs}) {
      plot.series.push_back(*s);
      for (double v : s->high.empty() ? s->y : s->high) plot.y_hi = std::max(plot.y_hi, 1.1 * v);
    }
  }
  draw_plot(plot).save_png(path);
}

// `ram train` and the settings a run must be given: those whose value is
// not their default, derived or not (--decay-epochs is left out when it is
// --epochs), then --out.
std::string train_command(const TrainConfig& c) {
  static const TrainConfig defaults = settings_from_flags(Flags(0, nullptr, 0, {}, {}));
  std::string line = "ram train";
  for (const Setting& s : settings_table()) {
    if (!s.flag) continue;
    const std::string value = setting_text(s, c);
    std::string fallback = setting_text(s, defaults);
    if (s.derive) {
      TrainConfig derived = c;
      s.derive(derived);
      fallback = setting_text(s, derived);
    }
    if (value == fallback) continue;
    line += " " + std::string(s.flag) + (s.value ? " " + value : "");
  }
  return line + " --out " + c.out_dir;
}

// A number of the page, from the CSV: a `ram report` marker whose value
// report_page fills in.
std::string from_csv(const PaperRow& row, const std::string& value, const char* format) {
  return "<!--csv ram-tables.csv table=" + std::string(row.table->name) + ",row=" + row.name + " " + value + " " +
         format + "--><!--/csv-->";
}

// DIR/ram-tables.md: the setup, a table per paper table with its plot, and
// every run with its command; every number of a run from the CSV, through
// `ram report` markers.
void write_tables_page(const std::string& dir, const std::vector<RowOutcome>& rows, const TrainConfig& shared,
                       int seeds_most) {
  std::ostringstream md;
  const OptimizerConfig& o = shared.optimizer;
  md << "# The RAM paper's tables, measured\n\n"
     << "Test error against the number of glimpses, as the RAM paper reports it (Mnih, Heess, Graves,\n"
     << "Kavukcuoglu, \"Recurrent Models of Visual Attention\", 2014) and as `ram` trains it here in\n"
     << shared.max_minutes << " minutes per run. Written by `ram experiment ram-tables` with ram-tables.csv\n"
     << "and one plot per table; every number of ours sits between `ram report` markers, which\n"
     << "`ram report --check` compares with the CSV.\n\n"
     << "## Setup\n\n"
     << "| | the RAM paper | ours |\n|---|---|---|\n"
     << "| training | SGD with momentum; the learning rate and the policy's variance chosen by random search; "
        "no time budget stated | "
     << (o.kind == OptimizerKind::adam ? "Adam" : "SGD") << ", learning rate " << o.lr
     << " decaying linearly to " << o.min_lr << " over " << o.decay_epochs << " epochs, batch " << shared.batch
     << ", sigma " << shared.model.sigma << ", " << core_name(shared.model.core) << " core, REINFORCE "
     << (shared.loss.reinforce_into_core ? "into the core (Torch)" : "stopped at the core") << "; each run stops "
     << "after the epoch that passes " << shared.max_minutes << " minutes (or after " << shared.epochs
     << " epochs) |\n"
     << "| score | test error, early stopping on validation (Torch code) | test error of the epoch with the lowest "
        "validation error (what `ram train` prints) |\n"
     << "| seeds | one number per row (how many runs, not stated) | 3 for each table's headline row (7 glimpses on 28x28, 8 elsewhere), "
     << "1 for the others" << (seeds_most > 3 ? " (raised by --seeds)" : "") << "; mean, and the range over seeds |\n"
     << "| random glimpses | 8 glimpses at random places, the policy unused | `--locations random`: each glimpse "
        "uniform in [-1, 1]^2, no REINFORCE or baseline term; evaluated at random places fixed by the seed |\n\n"
     << "| table | data | retina | pixels from the centre to location 1 | the paper's numbers |\n"
     << "|---|---|---|---|---|\n";
  for (const PaperTable* t : kPaperTables) {
    const TrainConfig& c = [&]() -> const TrainConfig& {
      for (const RowOutcome& r : rows)
        if (r.row->table == t) return r.runs.front()->config;
      throw std::logic_error("ram-tables: a table without rows");
    }();
    md << "| " << t->name << " | `--dataset " << t->dataset;
    if (t->canvas) md << " --canvas " << t->canvas << " --clutter " << c.placement.clutter;
    md << "` | " << t->patch << "x" << t->patch << ", " << t->scales << " scale" << (t->scales > 1 ? "s" : "")
       << " | " << t->unit_pixels << " | " << t->source << " |\n";
  }
  md << "\nThe paper's NIPS and arXiv versions differ: the arXiv version gives 6.27 / 1.73 / 1.29 % for 2 / 4 / 6 "
        "glimpses on 28x28 MNIST.\n";

  for (const PaperTable* t : kPaperTables) {
    md << "\n## " << t->title << ", " << t->patch << "x" << t->patch << " retina, " << t->scales << " scale"
       << (t->scales > 1 ? "s" : "") << "\n\n"
       << "![" << t->name << "](ram-tables-" << t->name << ".png)\n\n"
       << "| glimpses | RAM paper, % | ours, %: mean | min | max | seeds finished | ours - paper, points |\n"
       << "|---|---|---|---|---|---|---|\n";
    for (const RowOutcome& r : rows) {
      if (r.row->table != t) continue;
      const PaperRow& row = *r.row;
      md << "| " << (row.random ? "8 random" : std::to_string(row.glimpses)) << " | "
         << from_csv(row, "paper_error", "pct:%.2f") << " | ";
      if (r.errors().empty()) {
        md << "not finished | | | 0 of " << r.outcomes.size() << " | |\n";
        continue;
      }
      md << from_csv(row, "mean", "pct:%.2f") << " | " << from_csv(row, "min", "pct:%.2f") << " | "
         << from_csv(row, "max", "pct:%.2f") << " | " << from_csv(row, "runs", "%.0f") << " of " << r.outcomes.size()
         << " | " << from_csv(row, "gap", "pct:%+.2f") << " |\n";
    }
  }

  md << "\n## Runs\n\n"
     << "Each run's directory holds its command.txt (the command that trained it and every setting), "
        "metrics.csv (every epoch) and its checkpoints; the metrics of every finished run are copied to "
        "ram-tables-runs/RUN.csv (the run's name links to it).\n\n"
     << "| run | test error, % | epochs | best epoch | minutes | command |\n|---|---|---|---|---|---|\n";
  for (const RowOutcome& r : rows)
    for (std::size_t k = 0; k < r.runs.size(); ++k) {
      const TableRun& run = *r.runs[k];
      const RunOutcome& o = r.outcomes[k];
      const std::string seed = std::to_string(run.seed);
      const std::string name = fs::path(run.config.out_dir).filename().string();
      if (o.finished)
        md << "| [" << name << "](ram-tables-runs/" << name << ".csv) | ";
      else
        md << "| " << name << " | ";
      if (o.finished)
        md << from_csv(*r.row, "seed_" + seed, "pct:%.2f") << " | " << from_csv(*r.row, "epochs_" + seed, "%.0f")
           << " | " << from_csv(*r.row, "best_epoch_" + seed, "%.0f") << " | "
           << from_csv(*r.row, "minutes_" + seed, "%.1f");
      else
        md << o.status << " | | |";
      md << " | `" << train_command(run.config) << "` |\n";
    }
  const std::string path = dir + "/ram-tables.md";
  std::vector<ReportIssue> issues;
  const std::string page = report_page(dir, path, md.str(), issues);
  for (const ReportIssue& issue : issues)
    if (!issue.rewritable) throw std::logic_error("ram-tables.md: line " + std::to_string(issue.line) + ": " + issue.message);
  write_file_atomically(path, page);
}

// --print-commands: one `ram train` command a line on stdout for every run
// not yet finished, for `parallel -j N < FILE` or a job array; what is
// already done is said on stderr.
void print_run_commands(const ExperimentConfig& e, const std::vector<Run>& runs) {
  int finished = 0;
  for (const Run& run : runs) {
    const RunState state = run_state(run.config);
    if (state == RunState::finished) {
      ++finished;
      continue;
    }
    std::printf("%s\n", train_command(e.program, run.config, state).c_str());
  }
  std::fprintf(stderr, "%s: %zu runs, %d finished; then `ram experiment %s --out %s` with the same flags draws them\n",
               e.name.c_str(), runs.size(), finished, e.name.c_str(), e.out_dir.c_str());
}

void ram_tables_experiment(const ExperimentConfig& e) {
  const std::vector<TableRun> runs = table_runs(e);
  if (e.print_commands) {
    std::vector<Run> listed;
    for (const TableRun& run : runs) listed.push_back({run.config, run.config.out_dir});
    print_run_commands(e, listed);
    return;
  }
  std::vector<RowOutcome> rows;
  for (const PaperRow& row : paper_rows()) rows.push_back({&row, {}, {}});
  const int total = static_cast<int>(runs.size());
  int index = 0, missing = 0;
  for (const TableRun& run : runs) {
    RowOutcome& r = rows[run.row - paper_rows().data()];
    const std::string what = std::string("ram-tables ") + run.row->table->name + " " + run.row->name + " seed " +
                             std::to_string(run.seed);
    ++index;
    if (!e.collect_only) ensure_run(Run{run.config, what}, index, total);
    r.runs.push_back(&run);
    r.outcomes.push_back(collect_run(run.config));
    if (r.outcomes.back().finished) copy_run_metrics(e.out_dir, run.config);
    if (!r.outcomes.back().finished) {
      ++missing;
      std::printf("[%d/%d] %s: %s: %s\n", index, total, what.c_str(), run.config.out_dir.c_str(),
                  r.outcomes.back().status.c_str());
    }
  }
  int seeds_most = 0;
  for (const RowOutcome& r : rows) seeds_most = std::max(seeds_most, static_cast<int>(r.runs.size()));
  const TrainConfig& shared = runs.front().config;
  write_tables_csv(e.out_dir + "/ram-tables.csv", rows, seeds_most);
  char subtitle[160];
  std::snprintf(subtitle, sizeof subtitle, "ours: %s lr %g, batch %d, %g minutes per run (mean, band: range over seeds)",
                shared.optimizer.kind == OptimizerKind::adam ? "Adam" : "SGD", shared.optimizer.lr, shared.batch,
                shared.max_minutes);
  for (const PaperTable* t : kPaperTables) draw_table(e.out_dir + "/ram-tables-" + t->name + ".png", *t, rows, subtitle);
  write_tables_page(e.out_dir, rows, shared, seeds_most);
  std::printf("wrote %s/ram-tables.csv, ram-tables.md and a PNG per table\n", e.out_dir.c_str());
  for (const RowOutcome& r : rows) {
    const std::vector<double> v = r.errors();
    std::printf("ram-tables %s %s: paper %.2f %%, ours ", r.row->table->name, r.row->name, 100 * r.row->paper_error);
    if (v.empty()) {
      std::printf("not finished\n");
      continue;
    }
    double mean = 0;
    for (double x : v) mean += x / v.size();
    std::printf("%.2f %% (%zu of %zu seeds)\n", 100 * mean, v.size(), r.outcomes.size());
  }
  if (missing) std::printf("ram-tables: %d of %d runs not finished\n", missing, total);
}
// The models fig2 compares, and fig3's.
const std::vector<Variant> kFig2Variants = {kClassify, kChange, kChangeCode};
const std::vector<Measured> kFig2Measures = {{&kChange, Locations::mean, "change", "change reward (seed eq. 2)"},
                                             {&kChangeCode, Locations::mean, "change-code", "change reward (seed's code)"},
                                             {&kClassify, Locations::mean, "classify", "classification reward (RAM)"}};
const std::vector<Variant> kFig3Variants = {kLinear, kLstmLocator};
const std::vector<Measured> kFig3Measures = {{&kLinear, Locations::mean, "linear-trained", "linear locator, trained"},
                                             {&kLinear, Locations::given, "linear-random", "linear locator, random"},
                                             {&kLstmLocator, Locations::mean, "lstm-trained", "LSTM locator, trained"},
                                             {&kLstmLocator, Locations::given, "lstm-random", "LSTM locator, random"}};
const std::vector<Variant> kFig4Variants = {kLinear, kLstmLocator, kLstmCore};
const std::vector<Variant> kCollapseVariants = {kClassify, kChange, kChangeCode, kLowStd};

// --variants: the named ones of an accuracy experiment's variants, in the
// experiment's order (fig4 and collapse draw one curve per variant).
std::vector<Variant> chosen_variants(const ExperimentConfig& e, const std::vector<Variant>& all) {
  if (e.variants.empty()) return all;
  if (e.name != "fig4" && e.name != "collapse")
    throw std::invalid_argument("--variants: only fig4 and collapse take it (" + e.name + " compares fixed models)");
  std::string known;
  for (const Variant& v : all) known += (known.empty() ? "" : ", ") + std::string(v.name);
  for (const std::string& name : e.variants)
    if (std::none_of(all.begin(), all.end(), [&](const Variant& v) { return name == v.name; }))
      throw std::invalid_argument("--variants: " + e.name + " has no variant '" + name + "' (known: " + known + ")");
  std::vector<Variant> chosen;
  for (const Variant& v : all)
    if (std::find(e.variants.begin(), e.variants.end(), v.name) != e.variants.end()) chosen.push_back(v);
  return chosen;
}

}  // namespace

GlimpseCurves glimpse_curves(const Parameters& params, const ModelConfig& config, const Dataset& data, int images,
                             Locations where, uint64_t seed, RewardOutput output, const Tensor* z_ref) {
  const int T = config.glimpses, A = config.classes, chunk = 100;
  const int n_images = std::min(images, data.count);
  if (n_images < 1) throw std::invalid_argument("glimpse_curves: no images to measure");
  if (z_ref && z_ref->dim(1) != A) throw std::invalid_argument("glimpse_curves: z_ref must have one column per class");
  GlimpseCurves result;
  result.change.assign(T, 0.0);
  result.nll.assign(T, 0.0);
  if (z_ref) result.reference.assign(T, 0.0);
  Episode ep(config, chunk);
  ep.all_outputs = true;
  ep.reward.output = output;
  std::vector<real> logp(A);
  for (int begin = 0; begin < n_images; begin += chunk) {
    const int n = std::min(chunk, n_images - begin);
    ep.resize(n);
    for (int j = 0; j < n; ++j) {
      ep.images[j] = data.image(begin + j);
      ep.labels[j] = data.labels[begin + j];
      // Locations::given: uniform over the whole image, the same places for a given seed.
      ep.draw_locations(j, mix_key(seed, begin + j), where);
    }
    episode_forward(params, ep, where);
    // O is packed [T + 1, n, A]: O_t of image j at (t * n + j) * A.
    const real* O = ep.O.data();
    auto distance = [A](const real* x, const real* y) {
      double sq = 0;
      for (int a = 0; a < A; ++a) sq += (static_cast<double>(x[a]) - y[a]) * (x[a] - y[a]);
      return std::sqrt(sq);
    };
    for (int t = 1; t <= T; ++t)
      for (int j = 0; j < n; ++j) {
        const real* now = O + (static_cast<std::size_t>(t) * n + j) * A;
        const real* before = O + (static_cast<std::size_t>(t - 1) * n + j) * A;
        result.change[t - 1] += distance(now, before);
        if (z_ref) {
          // The evaluation batch of the seed's code is its training batch:
          // image j meets the reference row j mod batch.
          const int row = (begin + j) % z_ref->dim(0);
          result.reference[t - 1] += distance(now, z_ref->data() + static_cast<std::size_t>(row) * A);
        }
        std::copy(now, now + A, logp.begin());
        if (output == RewardOutput::logits) log_softmax_rows(1, A, logp.data());
        result.nll[t - 1] -= logp[ep.labels[j]];
      }
  }
  for (int t = 0; t < T; ++t) {
    result.change[t] /= n_images;
    result.nll[t] /= n_images;
    if (z_ref) result.reference[t] /= n_images;
  }
  return result;
}

std::vector<TrainConfig> ram_tables_runs(const ExperimentConfig& config) {
  std::vector<TrainConfig> configs;
  for (const TableRun& run : table_runs(config)) configs.push_back(run.config);
  return configs;
}

void run_experiment(ExperimentConfig e) {
  if (e.name != "ram-tables" && (e.minutes > 0 || e.collect_only))
    throw std::invalid_argument(std::string(e.collect_only ? "--collect-only" : "--minutes") +
                                ": only ram-tables takes it (the seed's figures train a number of epochs)");
  const auto create_out_dir = [&] {
    std::error_code ec;
    fs::create_directories(e.out_dir + "/runs", ec);
    if (ec) throw std::runtime_error(e.out_dir + ": cannot create the directory: " + ec.message());
  };
  if (e.name == "ram-tables") {
    create_out_dir();
    ram_tables_experiment(e);
    return;
  }
  struct Defaults {
    int epochs, seeds;
    std::vector<std::string> datasets;
  };
  const std::map<std::string, Defaults> defaults = {{"fig2", {15, 1, {"mnist"}}},
                                                    {"fig3", {50, 1, {"mnist"}}},
                                                    {"fig4", {50, 3, {"mnist", "cifar10"}}},
                                                    {"collapse", {15, 1, {"mnist"}}}};
  const auto d = defaults.find(e.name);
  if (d == defaults.end())
    throw std::invalid_argument("experiment: unknown experiment '" + e.name +
                                "' (known: fig2, fig3, fig4, collapse, ram-tables)");
  if (e.epochs == 0) e.epochs = d->second.epochs;
  if (e.seeds == 0) e.seeds = d->second.seeds;
  if (e.datasets.empty()) e.datasets = d->second.datasets;
  if (e.name != "fig4" && e.name != "collapse" && e.datasets.size() != 1)
    throw std::invalid_argument("--datasets: " + e.name + " draws one data set");

  const std::vector<Variant> variants = e.name == "fig4"       ? chosen_variants(e, kFig4Variants)
                                       : e.name == "collapse" ? chosen_variants(e, kCollapseVariants)
                                                              : chosen_variants(e, {});
  const std::vector<Run> runs = e.name == "fig4" || e.name == "collapse" ? accuracy_runs(e, variants)
                                : e.name == "fig2"     ? glimpse_runs(e, kFig2Variants)
                                                       : glimpse_runs(e, kFig3Variants);
  if (e.print_commands) {
    print_run_commands(e, runs);
    return;
  }
  std::error_code ec;
  fs::create_directories(e.out_dir + "/runs", ec);
  if (ec) throw std::runtime_error(e.out_dir + ": cannot create the directory: " + ec.message());
  for (std::size_t i = 0; i < runs.size(); ++i) ensure_run(runs[i], static_cast<int>(i) + 1, static_cast<int>(runs.size()));

  if (e.name == "fig4") {
    accuracy_figures(e, variants, "Test accuracy");
  } else if (e.name == "collapse") {
    accuracy_figures(e, variants, "Test accuracy by reward");
  } else if (e.name == "fig2") {
    glimpse_figure(e, "fig2", kFig2Measures, Measure::change, "Output change per glimpse (seed eq. 2)",
                   "mean ||O_t - O_t-1||");
    glimpse_figure(e, "fig2-reference", kFig2Measures, Measure::reference,
                   "Distance from the first output (the seed's code)", "mean ||O_t - z_ref||");
  } else {
    glimpse_figure(e, "fig3", kFig3Measures, Measure::nll, "Classifier NLL per glimpse", "NLL of the true class");
  }
}
