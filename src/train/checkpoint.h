// checkpoint.h: model and training state on disk.
//
// A checkpoint is plain binary in the machine's byte order (little-endian on
// x86-64 and ARM64), read back field by field with every value checked.
// Format version 4:
//   magic "RAMCKPT\0", u32 format version,
//   u32 record count, then the settings as records, each a u32 length and
//   the text "tag=value" (settings.h: every row of the table with a tag, in
//   its text form; a setting the file lacks keeps its default, so adding one
//   never moves the fields below),
//   u64 parameter count, the parameters as f32,
//   u8 has_training_state, and if 1: the epoch reached, the best validation
//   error and its epoch, the seconds so far, the optimizer's update count
//   and moment buffers (f32).
// Versions 1 to 3 are still read: they hold the run (data set name, data
// directory, seed) and the model configuration as fixed binary fields where
// version 4 has the records, and, with the training state, the optimizer,
// loss and batch settings, the reward (from version 2 on) and the
// gradient-norm ceiling (from version 3 on) before the epoch reached.
// Files are written through AtomicFile (atomic_file.h): a crash or a full
// disk never leaves a half-written checkpoint behind, and keeps the previous
// one.
//
// Reading never trusts the file: it must be a regular file no larger than a
// checkpoint of the largest model the settings allow, and every count it
// holds is checked against the bytes that follow before memory is set aside
// for it; any problem is a std::runtime_error naming the file and the field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "train/train.h"

struct TrainingState {
  int epochs_done = 0;            // completed epochs
  double best_valid_error = 1.0;  // best validation error so far
  int best_epoch = 0;             // epoch (1-based) it was reached at; 0 = none yet
  double seconds = 0;             // wall time so far: training and per-epoch evaluation
};

struct Checkpoint {
  TrainConfig config;
  std::vector<float> params;                 // the flat buffer, Parameters layout
  bool has_training_state = false;
  TrainingState state;
  int64_t optimizer_steps = 0;
  std::vector<float> optimizer_first, optimizer_second;  // empty when absent
};

void save_checkpoint(const std::string& path, const TrainConfig& config, const Parameters& params,
                     const TrainingState* state, const Optimizer* optimizer);
// Throws std::runtime_error naming the file and the field that is wrong.
Checkpoint load_checkpoint(const std::string& path);
// The same from a file's bytes in memory (what load_checkpoint runs on the
// file, and the fuzz target on its input); `name` is the file in messages.
Checkpoint parse_checkpoint(const uint8_t* data, std::size_t size, const std::string& name);
// The size of a checkpoint of the largest model the settings table allows,
// with its training state: no checkpoint file is larger.
uint64_t largest_checkpoint_bytes();
// Copies checkpoint weights into params (same configuration) and, when
// given, the optimizer state into optimizer.
void restore_parameters(const Checkpoint& checkpoint, Parameters& params);
void restore_optimizer(const Checkpoint& checkpoint, Optimizer& optimizer);

// A trained model, ready to run: the checkpoint's settings, the data set
// they name, and the weights.
struct TrainedModel {
  TrainConfig config;  // the checkpoint's; the model's image fields read from the data
  DataSplits data;
  Parameters params;   // the checkpoint's weights
};
// Loads the checkpoint at `path`, then its data set, or `dataset` from its
// usual directory when given, from `data_dir` when given; checks that the
// images have the shape the model was trained on and, unless
// `allow_other_data` or `dataset` names another data set than the
// checkpoint's, that they are the very images (the data set's fingerprint,
// data_fingerprint in train.h). Throws std::runtime_error naming the file or
// directory.
TrainedModel load_trained(const std::string& path, const std::string& dataset = "",
                          const std::string& data_dir = "", bool allow_other_data = false);
