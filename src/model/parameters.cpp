// parameters.cpp: every weight of the model in one flat buffer.
//
// The layout is fixed by the configuration alone, so a gradient buffer built
// from the same configuration lines up element for element with the weights,
// and a checkpoint is the flat array written out in order.
#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

#include "kernels/gemm.h"
#include "kernels/random.h"
#include "model/linear.h"
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

Parameters::Parameters(const ModelConfig& config) : config_(config) {
  lay_out(config);
}

Parameters::Parameters(const Parameters& other) : config_(other.config_), blocks_(other.blocks_) {
  flat_.reshape({static_cast<int>(other.size())});
  std::memcpy(flat_.data(), other.data(), other.size() * sizeof(real));
  // Re-point every view at this buffer, at the offsets of the other one.
  auto rebase = [&](const LinearParams& src, LinearParams& dst) {
    dst = src;
    dst.W_panels = dst.Wt_panels = nullptr;  // the other's copies are not ours
    if (!src.W) return;  // a layer this configuration does not have
    dst.W = flat_.data() + (src.W - other.data());
    dst.b = src.b ? flat_.data() + (src.b - other.data()) : nullptr;
  };
  const RamParams& o = other.views_;
  rebase(o.what, views_.what);
  rebase(o.where, views_.where);
  rebase(o.join, views_.join);
  rebase(o.core_in, views_.core_in);
  rebase(o.core_rec, views_.core_rec);
  rebase(o.locator, views_.locator);
  rebase(o.locator_rec, views_.locator_rec);
  rebase(o.action, views_.action);
  rebase(o.baseline, views_.baseline);
}

void Parameters::lay_out(const ModelConfig& c) {
  c.validate();
  struct Spec {
    LinearParams* view;
    const char* name;
    int in, out;
    bool bias;
  };
  const int H = c.hidden;
  const int gates = core_weight_blocks(c.core) * H;  // the core's gate blocks (core.cpp)
  const bool lstm_locator = c.locator == LocatorKind::lstm;
  std::vector<Spec> specs = {
      {&views_.what, "glimpse.what", c.glimpse_features(), c.what_hidden, true},
      {&views_.where, "glimpse.where", 2, c.where_hidden, true},
      {&views_.join, "glimpse.join", c.what_hidden + c.where_hidden, c.glimpse_hidden, true},
      {&views_.core_in, "core.in", c.glimpse_hidden, gates, true},
      {&views_.core_rec, "core.rec", H, gates, false},
      {&views_.locator, "locator", H, lstm_locator ? 8 : 2, true},
      {&views_.action, "action", H, c.classes, true},
      {&views_.baseline, "baseline", H, 1, true},
  };
  if (lstm_locator) specs.push_back({&views_.locator_rec, "locator.rec", 2, 8, false});
  // Each block starts on a 64-byte boundary so the GEMM kernels see aligned rows.
  const std::size_t align = kAlignBytes / sizeof(real);
  auto round_up = [&](std::size_t n) { return (n + align - 1) / align * align; };
  std::size_t total = 0;
  for (const Spec& s : specs) {
    total += round_up(static_cast<std::size_t>(s.in) * s.out);
    if (s.bias) total += round_up(s.out);
  }
  flat_.reshape({static_cast<int>(total)});
  flat_.zero();
  std::size_t offset = 0;
  for (const Spec& s : specs) {
    LinearParams& v = *s.view;
    v.in = s.in;
    v.out = s.out;
    std::size_t wsize = static_cast<std::size_t>(s.in) * s.out;
    v.W = flat_.data() + offset;
    blocks_.push_back({std::string(s.name) + ".W", offset, wsize});
    offset += round_up(wsize);
    v.b = nullptr;
    if (s.bias) {
      v.b = flat_.data() + offset;
      blocks_.push_back({std::string(s.name) + ".b", offset, static_cast<std::size_t>(s.out)});
      offset += round_up(s.out);
    }
  }
}

namespace {
// Every layer's view, in layout order. An array, not a vector: the panel
// functions run once per batch and allocate nothing.
std::array<LinearParams*, 9> all_layers(RamParams& v) {
  return {&v.what, &v.where, &v.join, &v.core_in, &v.core_rec, &v.locator, &v.locator_rec, &v.action, &v.baseline};
}
}  // namespace

void Parameters::lay_out_panels() {
  const std::array<LinearParams*, 9> layers = all_layers(views_);
  std::size_t total = 0;
  for (const LinearParams* p : layers) {
    if (!p->W) continue;
    const std::size_t size = static_cast<std::size_t>(p->in) * p->out;
    total += (p->out >= kForwardPanelMinOut ? size : 0) + (p->out >= kBackwardPanelMinOut ? size : 0);
  }
  if (panels_.size() != total) panels_.reshape({static_cast<int>(total)});
  real* next = panels_.data();
  for (LinearParams* p : layers) {
    if (!p->W) continue;
    const std::size_t size = static_cast<std::size_t>(p->in) * p->out;
    p->W_panels = p->out >= kForwardPanelMinOut ? next : nullptr;
    next += p->W_panels ? size : 0;
    p->Wt_panels = p->out >= kBackwardPanelMinOut ? next : nullptr;
    next += p->Wt_panels ? size : 0;
  }
}

void Parameters::fill_panels(int part, int parts) {
  int strip = 0;       // counts the strips of all copies, in layer order
  real* next = panels_.data();  // walks the layout of lay_out_panels
  for (const LinearParams* p : all_layers(views_)) {
    // op(B) = W [in, out] into W_panels: strip j0 is W's columns j0 ..;
    // op(B) = W^T [out, in] into Wt_panels: strip j0 is W's rows j0 ...
    for (const Trans form : {Trans::no, Trans::yes}) {
      if (!(form == Trans::no ? p->W_panels : p->Wt_panels)) continue;
      real* panels = next;
      next += static_cast<std::size_t>(p->in) * p->out;
      const int K = form == Trans::no ? p->in : p->out, N = form == Trans::no ? p->out : p->in;
      for (int j0 = 0; j0 < N; j0 += kPanelColumns, ++strip) {
        if (strip % parts != part) continue;
        const real* source = form == Trans::no ? p->W + j0 : p->W + static_cast<std::size_t>(j0) * p->out;
        pack_column_panels(form, K, std::min(kPanelColumns, N - j0), source, p->out,
                           panels + static_cast<std::size_t>(j0) * K);
      }
    }
  }
}

void Parameters::drop_panels() {
  for (LinearParams* p : all_layers(views_)) p->W_panels = p->Wt_panels = nullptr;
}

void Parameters::init_uniform(uint64_t seed, double range) {
  Rng rng(mix_key(seed, 0x1417));
  flat_.zero();  // the padding between blocks stays zero
  for (const ParamBlock& block : blocks_)
    for (std::size_t i = 0; i < block.size; ++i)
      flat_[block.offset + i] = static_cast<real>(rng.uniform(-range, range));
  // Forget gate (block 1 of i, f, o, u) open at the start: Jozefowicz,
  // Zaremba, Sutskever 2015.
  if (config_.core == CoreKind::lstm)
    for (int j = 0; j < config_.hidden; ++j) views_.core_in.b[config_.hidden + j] = 1;
  if (config_.locator == LocatorKind::lstm)
    for (int j = 0; j < 2; ++j) views_.locator.b[2 + j] = 1;
}
