// parameters.h: the model's weights in one flat buffer, with named views (parameters.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/panels.h"
#include "kernels/tensor.h"
#include "model/model.h"

// Parameters: one contiguous buffer, with named views (parameters.cpp).
// A gradient buffer has the very same layout, so the optimizer, checkpoints
// and the finite-difference checks each walk one flat array.

// y[B, out] = x[B, in] W[in, out] + b[out]
struct LinearParams {
  real* W = nullptr;  // [in, out]
  real* b = nullptr;  // [out], or nullptr for a layer without bias
  int in = 0, out = 0;
  // Copies in column panels (kernels/panels.h), or nullptr.
  // Parameters::refresh_panels writes them for the wide layers: W_panels
  // holds W, for the forward y = x W; Wt_panels holds W^T, so that the
  // backward pass's dx = dy W^T runs as a plain product (the fastest GEMM
  // form) instead of dot products.
  const real* W_panels = nullptr;
  const real* Wt_panels = nullptr;
};

struct RamParams {
  LinearParams what;       // glimpse network: rho -> h_g       W [G, 128]
  LinearParams where;      // glimpse network: l -> h_l         W [2, 128]
  LinearParams join;       // glimpse network: [h_g, h_l] -> g  W [256, 256]
  LinearParams core_in;    // core: g_t -> h_t                  W [256, H]  (LSTM: [256, 4H])
  LinearParams core_rec;   // core: h_{t-1} -> h_t (no bias)    W [H, H]    (LSTM: [H, 4H])
  LinearParams locator;    // location network: h -> mu         W [H, 2]    (LSTM: [H, 8])
  LinearParams locator_rec;  // LSTM locator only (no bias)     W [2, 8]
  LinearParams action;     // action network: h_T -> logits     W [H, A]
  LinearParams baseline;   // baseline: h -> b                  W [H, 1]    (constant: b alone, no W)
};

// One layer of RamParams for a configuration: its view, its name (in
// blocks(), messages and tests), W's shape [in, out], whether it has a
// bias, and whether the backward pass forms dL/dx = dy W^T through it (not
// for the glimpse network's first two layers: neither the retina's patches
// nor the location is trained, so nothing asks for their gradients). A
// layer the configuration does not have has in = out = 0; a bias without
// weights (the constant baseline) has in = 0.
struct LayerSpec {
  LinearParams RamParams::*view;
  const char* name;
  int in, out;
  bool bias;
  bool input_gradient;
};
constexpr int kLayerCount = 9;

// The initial weights (Parameters::init_uniform): the Torch code's uniform
// draw, with or without our forget-gate bias of 1 (--init).
enum class InitKind { ours, torch };
constexpr double kInitRange = 0.1;  // the Torch script's --uniform

// A named slice of the flat buffer, for messages and tests.
struct ParamBlock {
  std::string name;
  std::size_t offset, size;
};

// The number of elements of the flat buffer for a configuration, padding
// included, worked out without allocating it: what Parameters(config).size()
// will be, so that a checkpoint's claim can be checked before memory is
// spent on it.
std::size_t parameter_count(const ModelConfig& config);

class Parameters {
 public:
  explicit Parameters(const ModelConfig& config);
  // The same layout and values; no weight panels.
  Parameters(const Parameters& other);
  Parameters& operator=(const Parameters&) = delete;
  std::size_t size() const { return flat_.size(); }
  real* data() { return flat_.data(); }
  const real* data() const { return flat_.data(); }
  RamParams& views() { return views_; }
  const RamParams& views() const { return views_; }
  // Every layer, in the order of the flat buffer (parameters.cpp): the one
  // list of them, which the layout, the weight panels and the tests walk.
  const std::array<LayerSpec, kLayerCount>& layers() const { return layers_; }
  const std::vector<ParamBlock>& blocks() const { return blocks_; }
  // Torch's initialisation: every weight and bias uniform in [-range,
  // range] (the Torch script's --uniform 0.1). InitKind::ours then starts
  // the forget-gate biases of the LSTM core and the LSTM locator at 1;
  // InitKind::torch leaves them uniform too, as the Torch code does.
  void init_uniform(uint64_t seed, double range = kInitRange, InitKind kind = InitKind::ours);
  const ModelConfig& config() const { return config_; }
  void zero() { flat_.zero(); }
  // Copies W into column panels for every layer with out >=
  // WeightPanels::kForwardMinOut and W^T for every layer with out >=
  // WeightPanels::kBackwardMinOut (kernels/panels.h), and points the views'
  // W_panels and Wt_panels at them. The copies are right only until the
  // weights change: BatchGradient::compute makes them before a batch and
  // drops them after it, the evaluator makes its own. Without them (a fresh
  // or copied Parameters, or after drop_panels) the products read W as
  // stored; the forward gives the same bits either way, the backward the
  // same sums up to rounding.
  void refresh_panels() {
    lay_out_panels();
    fill_panels(0, 1);
  }
  // refresh_panels in two steps, so that threads can share the copying:
  // lay_out_panels sizes the buffer and points the views at it, then
  // fill_panels(part, parts) for every part in [0, parts), on any threads at
  // once, copies every parts-th strip from the part-th on.
  void lay_out_panels();
  void fill_panels(int part, int parts) { panels_.fill(part, parts); }
  void drop_panels();

 private:
  ModelConfig config_;
  Tensor flat_;
  RamParams views_;
  std::array<LayerSpec, kLayerCount> layers_;
  std::vector<ParamBlock> blocks_;
  WeightPanels panels_;  // the W_panels and Wt_panels copies, when laid out
};
