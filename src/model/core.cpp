// core.cpp: the choice of the core network f_h (RAM section 3.1: a rectifier
// RNN; seed section 2.3: an LSTM; Cho et al. 2014: a GRU), as one table.
//
// A core is a forward and a backward step with the signature of every
// episode component, (config, params, prev, now), plus what it keeps per
// step. The gated cores keep dL/dz_t of every step and, once the loop is
// done, make dL/dg_t (core_input_gradients) and sum their weight gradients
// (core_weight_gradients) over all T steps at once; the plain RNN does both
// at every step. Adding a core is one row here (docs/extending.md).
#include "model/core.h"

#include <stdexcept>

#include "model/core_gru.h"
#include "model/core_lstm.h"
#include "model/core_rnn.h"
#include "model/linear.h"
#include "model/ram.h"

namespace {

using CoreForward = void (*)(const ModelConfig&, const RamParams&, const Step&, const Step&);
using CoreBackward = void (*)(const ModelConfig&, const RamParams&, const RamParams&, const Step&, const Step&,
                              const StepGrads&);

struct Core {
  CoreKind kind;
  const char* name;
  int weight_blocks;  // [., H] column blocks of W_in and of W_rec
  CoreShape shape;
  int rec_column;     // where the columns of dz that W_rec produced start, / H
  CoreForward forward;
  CoreBackward backward;
};

const Core kCores[] = {
    // kind          name    blocks  gates, cell, dz   rec
    {CoreKind::rnn,  "RNN",  1,      {0, false, 0},  0,   core_rnn_forward,  core_rnn_backward},
    {CoreKind::lstm, "LSTM", 4,      {4, true, 4},   0,   core_lstm_forward, core_lstm_backward},
    {CoreKind::gru,  "GRU",  3,      {4, false, 4},  1,   core_gru_forward,  core_gru_backward},
};

const Core& core(CoreKind kind) {
  for (const Core& c : kCores)
    if (c.kind == kind) return c;
  throw std::invalid_argument("core: unknown kind " + std::to_string(static_cast<int>(kind)));
}

}  // namespace

int core_weight_blocks(CoreKind kind) { return core(kind).weight_blocks; }

const char* core_name(CoreKind kind) { return core(kind).name; }

CoreShape core_shape(CoreKind kind) { return core(kind).shape; }

void core_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now) {
  core(config.core).forward(config, p, prev, now);
}

void core_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& prev,
                   const Step& now, const StepGrads& d) {
  core(config.core).backward(config, p, grad, prev, now, d);
}

// Forward was z_t = g_t W_in + b (columns 0.. of dz), so dg_t = dz_t W_in^T.
// No step's dg_t feeds the recurrence (the glimpse network's backward pass
// stops at rho_t and l_t), so the products wait for the loop's end, and when
// the batch fills the episode they are one product over T * B rows. Each row
// of a product has the same bits in any block of rows (gemm_tiles.h), so this
// changes no number; W_in serves T times the rows in one product.
void core_input_gradients(const ModelConfig& config, const RamParams& p, const Episode& ep) {
  const Core& c = core(config.core);
  if (c.shape.dz == 0) return;  // written at every step
  const int T = config.glimpses, B = ep.B, cap = ep.capacity;
  const int Ng = p.core_in.in, ldz = c.shape.dz * config.hidden;
  if (B == cap) {
    linear_backward_input(T * cap, ep.dz.data(), ldz, p.core_in, ep.grads(0).dg, Ng, false);
    return;
  }
  for (int s = 0; s < T; ++s) {
    const StepGrads d = ep.grads(s);
    linear_backward_input(B, d.dz, ldz, p.core_in, d.dg, Ng, false);
  }
}

// Forward was z_t = g_t W_in + b (columns 0.. of dz) and h_{t-1} W_rec
// (columns rec_column * H..), so
//   dW_in += sum_t g_t^T dz_t,   db += sum_t sum_rows dz_t,   dW_rec += sum_{t>1} h_{t-1}^T dz_t.
// When the batch fills the episode's rows (B == cap, as in training), step
// s's rows start at s * cap with no gap, so each sum over steps is one
// product over T * B rows: a product with K = T * B runs faster than T
// products with K = B. The recurrent weights pair h_{t-1} (steps 0..T-2)
// with dz_t (steps 1..T-1).
void core_weight_gradients(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Episode& ep) {
  const Core& c = core(config.core);
  if (c.shape.dz == 0) return;  // added at every step
  const int T = config.glimpses, B = ep.B, cap = ep.capacity, H = config.hidden;
  const int Ng = p.core_in.in, ldz = c.shape.dz * H, rec = c.rec_column * H;
  if (B == cap) {
    linear_backward(T * cap, ep.g.data(), Ng, ep.dz.data(), ldz, p.core_in, grad.core_in, nullptr, 0, false);
    if (T > 1)
      linear_backward((T - 1) * cap, ep.h.data(), H, ep.grads(1).dz + rec, ldz, p.core_rec, grad.core_rec, nullptr,
                      0, false);
    return;
  }
  for (int s = 0; s < T; ++s) {
    const Step prev = ep.step(s - 1), now = ep.step(s);
    const real* dz = ep.grads(s).dz;
    linear_backward(B, now.g, Ng, dz, ldz, p.core_in, grad.core_in, nullptr, 0, false);
    if (prev.h) linear_backward(B, prev.h, H, dz + rec, ldz, p.core_rec, grad.core_rec, nullptr, 0, false);
  }
}
