// core.h: the core network f_h, whichever kind the configuration names (RAM
// section 3.1; seed section 2.3). The one place that chooses between the cores.
#pragma once

#include "model/parameters.h"
#include "model/step.h"

struct Episode;

// h_t = f_h(h_{t-1}, g_t) (core.cpp): reads now.g and prev's state (nullptr
// views at t = 1), writes now.h and the core's own per-step buffers.
void core_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now);
// d.dh holds dL/dh_t. Adds into d.dh_prev (nullptr at t = 1); d.dh may be
// overwritten. A core that keeps d.dz leaves d.dg and its weights' share to
// core_input_gradients and core_weight_gradients; the others write d.dg.
void core_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& prev,
                   const Step& now, const StepGrads& d);
// After the backward loop over all T steps: dL/dg_t of every step, for the
// cores that keep d.dz, in one product when the batch fills the episode.
// Nothing for a core that wrote d.dg at its step.
void core_input_gradients(const ModelConfig& config, const RamParams& p, const Episode& ep);
// After the backward loop over all T steps: the weights' share of the cores
// that keep d.dz, summed over the steps in one product when the batch fills
// the episode. Nothing for a core that added it at every step.
void core_weight_gradients(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Episode& ep);

// What a core keeps per step, in columns per hidden unit (Episode sizes its
// buffers from it).
struct CoreShape {
  int gates;  // Step::gates [B, gates * H]
  bool cell;  // Step::c [B, H] and StepGrads::dc
  int dz;     // StepGrads::dz [B, dz * H], kept for all T steps; 0: none
};
CoreShape core_shape(CoreKind kind);
