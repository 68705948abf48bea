// experiment_runs.cpp: the training runs of an experiment (experiment_runs.h).
#include "tools/experiment_runs.h"

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "tools/csv_table.h"
#include "train/settings.h"

namespace fs = std::filesystem;

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
  const CsvTable table = load_csv_table(path);
  const int column = table.column(path, "test_error");
  std::vector<double> accuracy;
  for (std::size_t i = 0; i < table.rows.size(); ++i) {
    const double error = csv_number(path, table.rows[i][column], "test_error");
    if (!(error >= 0 && error <= 1))
      throw std::runtime_error(path + ": line " + std::to_string(i + 2) + " has a test error outside [0, 1]");
    accuracy.push_back(1.0 - error);
  }
  if (static_cast<int>(accuracy.size()) < epochs)
    throw std::runtime_error(path + ": " + std::to_string(accuracy.size()) + " epochs, expected " +
                             std::to_string(epochs));
  accuracy.resize(epochs);
  return accuracy;
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
