// parameters.cpp: every weight of the model in one flat buffer.
//
// The layout is fixed by the configuration alone, so a gradient buffer built
// from the same configuration lines up element for element with the weights,
// and a checkpoint is the flat array written out in order.
#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "kernels/random.h"
#include "model/parameters.h"

void ModelConfig::validate() const {
  auto need = [](bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(what);
  };
  need(channels >= 1 && channels <= 4, "channels must be 1..4");
  need(height >= 1 && width >= 1, "image height and width must be positive");
  need(classes >= 2, "at least 2 classes are needed");
  need(glimpses >= 1 && glimpses <= 64, "--glimpses must be 1..64");
  need(patch >= 1 && patch <= 64, "--patch must be 1..64");
  need(scales >= 1 && scales <= 6, "--scales must be 1..6");
  need(glimpse_scale >= 1 && glimpse_scale <= 4, "--glimpse-scale must be 1..4");
  need(unit_pixels > 0 && unit_pixels <= 1000, "--unit-pixels must be in (0, 1000]");
  need(sigma > 0 && sigma <= 2, "--sigma must be in (0, 2]");
  need(what_hidden >= 1 && where_hidden >= 1 && glimpse_hidden >= 1 && hidden >= 1,
       "layer widths must be positive");
}

namespace {

// Every layer of RamParams for configuration c, in the order of the flat
// buffer, which is the order of a checkpoint's numbers: the LSTM locator's
// recurrent weights last, so that the other layers sit where they sit in a
// model without them.
std::array<LayerSpec, kLayerCount> layer_specs(const ModelConfig& c) {
  const int H = c.hidden;
  const int gates = core_weight_blocks(c.core) * H;  // the core's gate blocks (core.cpp)
  const bool lstm_locator = c.locator == LocatorKind::lstm;
  const int locator_out = lstm_locator ? 8 : 2;  // mu, or the LSTM locator's four gate blocks of width 2
  return {{
      //                                     in                              out               bias   dL/dx
      {&RamParams::what, "glimpse.what",     c.glimpse_features(),           c.what_hidden,    true,  false},
      {&RamParams::where, "glimpse.where",   2,                              c.where_hidden,   true,  false},
      {&RamParams::join, "glimpse.join",     c.what_hidden + c.where_hidden, c.glimpse_hidden, true,  true},
      {&RamParams::core_in, "core.in",       c.glimpse_hidden,               gates,            true,  true},
      {&RamParams::core_rec, "core.rec",     H,                              gates,            false, true},
      {&RamParams::locator, "locator",       H,                              locator_out,      true,  true},
      {&RamParams::action, "action",         H,                              c.classes,        true,  true},
      {&RamParams::baseline, "baseline",     c.baseline == BaselineKind::state ? H : 0, 1,     true,  false},
      {&RamParams::locator_rec, "locator.rec", lstm_locator ? 2 : 0, lstm_locator ? locator_out : 0, false, true},
  }};
}
static_assert(sizeof(RamParams) == kLayerCount * sizeof(LinearParams), "layer_specs lists every layer of RamParams");

// Every block starts a multiple of 16 elements into the buffer: 64 bytes in
// float, 128 in double, so the GEMM kernels see 64-byte aligned rows in both
// builds, and the layout (the parameter count, a checkpoint's order) is the
// same in both.
constexpr std::size_t kBlockAlign = 16;
static_assert(kBlockAlign * sizeof(float) % kAlignBytes == 0, "blocks must start on 64-byte boundaries");
std::size_t round_up(std::size_t n) { return (n + kBlockAlign - 1) / kBlockAlign * kBlockAlign; }

}  // namespace

std::size_t parameter_count(const ModelConfig& config) {
  std::size_t total = 0;
  for (const LayerSpec& layer : layer_specs(config)) {
    total += round_up(static_cast<std::size_t>(layer.in) * layer.out);
    if (layer.bias) total += round_up(layer.out);
  }
  return total;
}

Parameters::Parameters(const ModelConfig& config) : config_(config) {
  config.validate();
  layers_ = layer_specs(config);
  const std::size_t total = parameter_count(config);
  if (total > static_cast<std::size_t>(INT32_MAX))
    throw std::invalid_argument(std::to_string(total) + " parameters: more than a Tensor holds");
  flat_.reshape({static_cast<int>(total)});
  flat_.zero();
  std::size_t offset = 0;
  for (const LayerSpec& layer : layers_) {
    if (layer.out == 0) continue;  // a layer this configuration does not have: no view
    LinearParams& v = views_.*layer.view;
    v.in = layer.in;
    v.out = layer.out;
    if (layer.in > 0) {  // in = 0: a bias alone (the constant baseline), no W block
      const std::size_t wsize = static_cast<std::size_t>(layer.in) * layer.out;
      v.W = flat_.data() + offset;
      blocks_.push_back({std::string(layer.name) + ".W", offset, wsize});
      offset += round_up(wsize);
    }
    if (layer.bias) {
      v.b = flat_.data() + offset;
      blocks_.push_back({std::string(layer.name) + ".b", offset, static_cast<std::size_t>(layer.out)});
      offset += round_up(layer.out);
    }
  }
}

// The layout follows from the configuration alone, so the copy lays itself
// out afresh and takes the numbers.
Parameters::Parameters(const Parameters& other) : Parameters(other.config_) {
  std::memcpy(flat_.data(), other.data(), other.size() * sizeof(real));
}

void Parameters::lay_out_panels() {
  std::array<PanelMatrix, kLayerCount> matrices;  // an array: the per-batch calls allocate nothing
  for (int i = 0; i < kLayerCount; ++i) {
    const LinearParams& v = views_.*layers_[i].view;
    matrices[i] = {v.W, v.in, v.out, layers_[i].input_gradient};
  }
  panels_.lay_out(matrices.data(), kLayerCount);
  for (int i = 0; i < kLayerCount; ++i) {
    LinearParams& v = views_.*layers_[i].view;
    v.W_panels = panels_.forward(i);
    v.Wt_panels = panels_.backward(i);
  }
}

void Parameters::drop_panels() {
  panels_.drop();
  for (const LayerSpec& layer : layers_) {
    LinearParams& v = views_.*layer.view;
    v.W_panels = v.Wt_panels = nullptr;
  }
}

void Parameters::init_uniform(uint64_t seed, double range, InitKind kind) {
  Rng rng(mix_key(seed, 0x1417));
  flat_.zero();  // the padding between blocks stays zero
  for (const ParamBlock& block : blocks_)
    for (std::size_t i = 0; i < block.size; ++i)
      flat_[block.offset + i] = static_cast<real>(rng.uniform(-range, range));
  // The Torch code stops here: `param:uniform(-opt.uniform, opt.uniform)`
  // for every parameter, FastLSTM's forget bias included
  // (recurrent-visual-attention.lua, every branch of the seed's code).
  if (kind == InitKind::torch) return;
  // Ours: the forget gate (block 1 of i, f, o, u) open at the start:
  // Jozefowicz, Zaremba, Sutskever 2015.
  if (config_.core == CoreKind::lstm)
    for (int j = 0; j < config_.hidden; ++j) views_.core_in.b[config_.hidden + j] = 1;
  if (config_.locator == LocatorKind::lstm)
    for (int j = 0; j < 2; ++j) views_.locator.b[2 + j] = 1;
}
