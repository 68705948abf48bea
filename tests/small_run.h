// small_run.h: the small training run the training and kill tests share.
#pragma once

#include <string>

#include "train/train.h"

// A small model, so a run over the fake MNIST takes a fraction of a second.
inline TrainConfig small_run(const std::string& data_dir, const std::string& out_dir, int epochs) {
  TrainConfig c;
  c.dataset = "mnist";
  c.data_dir = data_dir;
  c.out_dir = out_dir;
  c.model.glimpses = 3;
  c.model.what_hidden = c.model.where_hidden = 16;
  c.model.glimpse_hidden = c.model.hidden = 32;
  c.batch = 10;
  c.epochs = epochs;
  c.optimizer.decay_epochs = 3;
  c.threads = 2;
  c.seed = 5;
  return c;
}
