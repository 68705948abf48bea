// experiments.h: the experiments of `ram experiment NAME`, each a set of
// training runs and the figures drawn from them: the seed paper's figures
// (experiments.cpp) and the RAM paper's tables (ram_tables.h).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/ram.h"
#include "train/train.h"

struct ExperimentConfig {
  std::string name;     // fig2, fig3, fig4, collapse or ram-tables
  std::string out_dir;  // DIR: NAME.csv, NAME.png (fig4: one pair per data set; fig2 also
                        // fig2-reference; ram-tables: one PNG per table), runs/
  TrainConfig base;     // settings shared by every run (the train flags)
  // The train flags given for base. Each run derives the defaults that
  // follow other settings (settings.h: derive_defaults) for the others, from
  // its own settings: --decay-epochs is the run's epochs unless given.
  std::set<std::string> given;
  int epochs = 0;       // per run; 0: the experiment's own default
  int seeds = 0;        // seeds 1..seeds per variant; 0: the experiment's own default
  std::vector<std::string> datasets;            // empty: the experiment's own
  std::vector<std::string> variants;            // fig4, collapse: the curves to draw; empty: all
  std::map<std::string, std::string> data_dirs;  // data set -> directory, when not the usual one
  int images = 2500;    // fig2 and fig3: test images measured per glimpse
  double minutes = 0;   // ram-tables: each run's time budget; 0: the experiment's own (15)
  bool collect_only = false;  // ram-tables: report the runs that are not finished instead of training them
  // Print one `ram train` command per run not yet finished, instead of
  // training and drawing (for GNU parallel or a job array); `program` is
  // the binary the commands call.
  bool print_commands = false;
  std::string program = "ram";
};

// Trains what the experiment needs (reusing finished runs under DIR/runs and
// resuming interrupted ones), then writes its CSV and PNG files (ram-tables
// also its page, ram-tables.md). Prints the files it wrote and the numbers
// docs/results.md quotes. With print_commands, prints the commands that
// would train the runs instead.
void run_experiment(ExperimentConfig config);

// Per glimpse t = 1..T of a trained model on the first `images` images of
// `data`, means over the images of: ||O_t - O_{t-1}||_2 (seed eq. 2; O_t the
// action network on h_t as `output` says, logits or log-probabilities, O_0
// on h_0 = 0); ||O_t - z_ref||_2 (the seed's code's change reward), image j
// against row j mod rows of `z_ref` [rows, A], when z_ref is given; and the
// NLL -log p_t(y). `where`: Locations::mean for the trained policy, or
// Locations::given for locations drawn uniformly from [-1, 1]^2 with `seed`.
struct GlimpseCurves {
  std::vector<double> change;     // [T]
  std::vector<double> reference;  // [T]; empty without z_ref
  std::vector<double> nll;        // [T]
};
GlimpseCurves glimpse_curves(const Parameters& params, const ModelConfig& config, const Dataset& data, int images,
                             Locations where, uint64_t seed, RewardOutput output = RewardOutput::logprobs,
                             const Tensor* z_ref = nullptr);
