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
//
// (`ram experiment ram-tables`, the RAM paper's own tables, is ram_tables.cpp.)
//
// Every run of the seed's figures lives in
// DIR/runs/<data set>-<variant>-e<epochs>-s<seed>, so experiments with the
// same settings share runs, a finished run is reused and an interrupted one
// resumes from its last.bin (experiment_runs.h). An experiment first lists
// its runs, then trains them (or, with --print-commands, prints the `ram
// train` command of each for the user to run anywhere), then draws from
// them: the per-glimpse figures read the final weights (last.bin), the
// accuracy curves metrics.csv.
#include "tools/experiments.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "kernels/random.h"
#include "tools/experiment_runs.h"
#include "tools/plot.h"
#include "tools/ram_tables.h"
#include "train/atomic_file.h"
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
