// bench.h: `ram bench`, the speed measurement.
#pragma once

#include "model/ram.h"

struct BenchConfig {
  ModelConfig model;    // 28x28 grey images, 10 classes unless changed
  int batch = 128;      // images per training step / inference chunk
  int threads = 2;      // worker threads
  int shards = 2;       // fixed cut of each batch, as in `ram train` (--shards)
  double seconds = 3;   // time spent measuring each of training and inference
};

// Prints GEMM GFLOP/s per kernel path and model shape, then training and
// inference images/s for the configuration on synthetic images, and the
// arithmetic rate as a fraction of the machine's measured FMA peak. Ends with
// the lines infer_images_per_s=<n> and train_images_per_s=<n>.
void run_bench(const BenchConfig& config);

// Multiply-adds of one image's forward pass, and of one training step
// (forward plus backward) per image, for the configuration.
double forward_macs_per_image(const ModelConfig& config);
double train_macs_per_image(const ModelConfig& config);
