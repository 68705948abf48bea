// show.h: pictures of what a model looks at (`ram show`).
#pragma once

#include <cstdint>
#include <string>

struct ShowConfig {
  std::string checkpoint;   // RUN_DIR/model.bin or last.bin
  std::string dataset;      // "": the checkpoint's
  std::string data_dir;     // "": the checkpoint's
  int count = 16;           // test images in the grid, the first ones of the test split
  std::string out;          // the grid PNG; "": none
  std::string animate_dir;  // one PNG per glimpse; "": none
  std::string gif;          // the same frames as one animated GIF; "": none
  bool untrained = false;   // the checkpoint's model with fresh initial weights instead
  bool sample = false;      // locations drawn from the policy (sigma) instead of its mean
  uint64_t seed = 1;        // the initial weights' and the policy noise's seed
  bool allow_other_data = false;  // run on other images than those it was trained on (load_trained)
};

// Runs the model (at the policy mean, or sampling from the policy; a model
// trained with --locations random at its evaluation's random places) on the
// first `count` test images and draws, per image: the image with the glimpse
// path (numbered locations, the retina's squares at every scale), the
// patches the sensor saw at each glimpse, and the predicted class with its
// probability after each glimpse. --animate and --gif show the glimpses one
// by one: frame t draws glimpses 1..t.
void run_show(const ShowConfig& config);
