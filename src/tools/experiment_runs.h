// experiment_runs.h: what every experiment (`ram experiment`) does with its
// training runs: tell whether a run is there, finished or interrupted, train
// or resume it, print the command that would, and read its test errors back.
//
// A run lives in its own directory (TrainConfig::out_dir): last.bin says
// how far it got and with which settings, metrics.csv what it measured.
#pragma once

#include <string>
#include <vector>

#include "tools/experiments.h"
#include "train/checkpoint.h"
#include "train/train.h"

// One training run of an experiment, and what it is called in messages.
struct Run {
  TrainConfig config;
  std::string what;
};

enum class RunState { absent, partial, finished };

// Whether the run in last.bin is done as c asks: all its epochs, or, with a
// time limit, past it (train() stops after the epoch that passes it).
bool run_finished(const Checkpoint& saved, const TrainConfig& c);
// The run's last.bin, refused when its settings are not c's.
Checkpoint load_same_run(const TrainConfig& c);
// Whether the run's directory holds nothing, an interrupted run or a
// finished one; refuses a run made with other settings.
RunState run_state(const TrainConfig& c);
// Trains the run unless a finished one with the same settings is there
// (resuming an interrupted one); `index` of `total` for the progress lines.
void ensure_run(const Run& run, int index, int total);
// The `ram train` command that makes the run (or finishes an interrupted
// one), calling `program`.
std::string train_command(const std::string& program, const TrainConfig& c, RunState state);
// 1 - test_error of each of the first `epochs` epochs, from RUN_DIR/metrics.csv.
std::vector<double> test_accuracy(const std::string& run_dir, int epochs);
// --print-commands: a `ram train` command a line on stdout for every run not
// yet finished; what is already done is said on stderr.
void print_run_commands(const ExperimentConfig& e, const std::vector<Run>& runs);
