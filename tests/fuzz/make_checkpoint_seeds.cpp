// make_checkpoint_seeds.cpp: writes the starting inputs of fuzz_checkpoint
// and fuzz_metrics into DIR/checkpoint/ and DIR/metrics/: checkpoints of
// tiny models as save_checkpoint writes them (without and with training
// state, Adam and SGD, each core and locator), one with only the records
// that differ from the defaults, files of format versions 1 to 3, and
// metrics.csv files as training writes them.
// Usage: make_checkpoint_seeds DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "checkpoint_bytes.h"
#include "test_files.h"
#include "train/checkpoint.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_checkpoint_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::filesystem::create_directories(dir + "/checkpoint");
  std::filesystem::create_directories(dir + "/metrics");
  int n = 0;
  for (CoreKind core : {CoreKind::rnn, CoreKind::lstm, CoreKind::gru})
    for (OptimizerKind kind : {OptimizerKind::adam, OptimizerKind::sgd}) {
      TrainConfig c;
      ModelConfig& m = c.model;
      m.channels = 1;
      m.height = m.width = 4;
      m.classes = 2;
      m.glimpses = 2;
      m.patch = 1;
      m.what_hidden = m.where_hidden = m.glimpse_hidden = m.hidden = 1;
      m.core = core;
      m.locator = kind == OptimizerKind::sgd ? LocatorKind::lstm : LocatorKind::linear;
      c.optimizer.kind = kind;
      c.data_fingerprint = "0123456789abcdef";
      Parameters params(m);
      params.init_uniform(1);
      Optimizer optimizer(c.optimizer, params.size());
      const TrainingState state{3, 0.25, 2, 10.5};
      const std::string base = dir + "/checkpoint/" + std::to_string(n++);
      save_checkpoint(base + "-model.bin", c, params, nullptr, nullptr);
      save_checkpoint(base + "-last.bin", c, params, &state, &optimizer);
    }
  // The fewest records: those that differ from the defaults.
  ModelConfig m;
  m.classes = 2;
  m.patch = 1;
  m.what_hidden = m.where_hidden = m.glimpse_hidden = m.hidden = 1;
  m.glimpses = 1;
  const std::size_t count = parameter_count(m);
  std::vector<uint8_t> b;
  for (char ch : std::string("RAMCKPT", 8)) b.push_back(static_cast<uint8_t>(ch));
  put<uint32_t>(b, 4);
  const std::vector<std::string> records = {"classes=2", "patch=1", "what_hidden=1", "where_hidden=1",
                                            "glimpse_hidden=1", "hidden=1", "glimpses=1"};
  put<uint32_t>(b, static_cast<uint32_t>(records.size()));
  for (const std::string& r : records) put_text(b, r);
  put_floats(b, std::vector<float>(count, 0.5f));
  put<uint8_t>(b, 0);
  write_file(dir + "/checkpoint/minimal.bin", b);
  // Versions 1 to 3, with training state.
  TrainConfig old;
  old.model = m;
  const std::vector<float> numbers(count, 0.25f);
  for (uint32_t version : {1u, 2u, 3u})
    write_file(dir + "/checkpoint/v" + std::to_string(version) + ".bin",
               old_checkpoint(version, old, numbers, TrainingState{2, 0.5, 1, 3.0}, 7, numbers, numbers));
  // metrics.csv: the first byte is the last finished epoch.
  const std::string header = kept_metrics("", 0, "seed");  // the header alone
  const std::string rows = "1,0.001,2.301,0.1,0.9,0.88,2.2,0.87,1.5\n2,0.0009,1.2,0.5,0.4,0.3,0.9,0.31,3.1\n"
                           "3,0.0008,0.8,0.7,0.2,0.19,0.6,0.2,4.6\n";
  std::ofstream(dir + "/metrics/three", std::ios::binary) << '\3' << header << rows;
  std::ofstream(dir + "/metrics/two", std::ios::binary) << '\2' << header << rows;
  std::ofstream(dir + "/metrics/header", std::ios::binary) << '\0' << header;
  std::printf("wrote %d checkpoints and 3 metrics files under %s\n", 2 * n + 4, dir.c_str());
  return 0;
}
