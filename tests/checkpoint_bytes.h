// checkpoint_bytes.h: checkpoint files byte by byte, for the tests and the
// fuzz targets' seeds: values in the machine's byte order as the writer puts
// them, and whole files in the layout of format versions 1 to 3, which
// nothing writes any more but load_checkpoint still reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "train/checkpoint.h"

template <class T>
inline void put(std::vector<uint8_t>& bytes, T v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  bytes.insert(bytes.end(), p, p + sizeof v);
}
inline void put_text(std::vector<uint8_t>& bytes, const std::string& s) {
  put<uint32_t>(bytes, static_cast<uint32_t>(s.size()));
  bytes.insert(bytes.end(), s.begin(), s.end());
}
inline void put_floats(std::vector<uint8_t>& bytes, const std::vector<float>& v) {
  put<uint64_t>(bytes, v.size());
  for (float x : v) put<float>(bytes, x);
}

// A checkpoint with training state in the byte layout of format versions 1
// to 3 (the writer before format 4, field by field).
inline std::vector<uint8_t> old_checkpoint(uint32_t version, const TrainConfig& c, const std::vector<float>& params,
                                           const TrainingState& state, int64_t steps, const std::vector<float>& first,
                                           const std::vector<float>& second) {
  std::vector<uint8_t> b;
  for (char ch : std::string("RAMCKPT", 8)) b.push_back(static_cast<uint8_t>(ch));
  put<uint32_t>(b, version);
  put_text(b, c.dataset);
  put_text(b, c.data_dir);
  put<uint64_t>(b, c.seed);
  const ModelConfig& m = c.model;
  for (int v : {m.channels, m.height, m.width, m.classes, m.glimpses, m.patch, m.scales, m.glimpse_scale,
                m.what_hidden, m.where_hidden, m.glimpse_hidden, m.hidden, static_cast<int>(m.core),
                static_cast<int>(m.locator)})
    put<int32_t>(b, v);
  put<double>(b, m.unit_pixels);
  put<double>(b, m.sigma);
  put_floats(b, params);
  put<uint8_t>(b, 1);
  const OptimizerConfig& o = c.optimizer;
  put<int32_t>(b, static_cast<int32_t>(o.kind));
  for (double v : {o.lr, o.min_lr, o.decay_epochs, o.momentum, o.dampening, o.beta1, o.beta2, o.eps, c.loss.nll,
                   c.loss.reinforce, c.loss.baseline})
    put<double>(b, v);
  for (int v : {c.batch, c.epochs, c.shards, c.loss.reinforce_into_core ? 1 : 0}) put<int32_t>(b, v);
  if (version >= 2) {
    put<int32_t>(b, static_cast<int32_t>(c.reward.kind));
    put<double>(b, c.reward.coef);
  }
  if (version >= 3) put<double>(b, c.clip_norm);
  put<int32_t>(b, state.epochs_done);
  put<double>(b, state.best_valid_error);
  put<int32_t>(b, state.best_epoch);
  put<double>(b, state.seconds);
  put<int64_t>(b, steps);
  put_floats(b, first);
  put_floats(b, second);
  return b;
}
