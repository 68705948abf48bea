// location_network.h: the location network f_l, the mean of the location
// policy, and drawing l_t from it (RAM section 3.1; seed section 2.3).
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/parameters.h"
#include "model/step.h"

// Location network f_l and drawing the location (location_network.cpp; RAM
// section 3.1). The policy's gradient, seed equation 1, is reinforce.h's.
//   mu_t = hardtanh(h_{t-1} W_loc + b)   (the seed's LSTM locator: an LSTM for the affine map)
//   l_raw ~ N(mu_t, sigma^2 I),  l_t = clamp(l_raw, -1, 1)

// Where the sensor looks: at the policy's mean (evaluation), at a sample
// drawn from the policy (training), or at locations given in Step::noise
// (the random-glimpse baseline of the seed's fig. 3: the location network
// still runs, its output is unused).
enum class Locations { mean, sample, given };

// The policy's draws of one image for its T glimpses, from the image's own
// random stream (an Rng key), so that a seed fixes them whatever the batch
// and thread layout: for Locations::sample 2 standard normals per glimpse,
// for Locations::given 2 coordinates uniform in [-1, 1], for Locations::mean
// none. Glimpse s's pair goes to noise[s * stride], noise[s * stride + 1].
void location_draws(Locations where, uint64_t stream, int T, real* noise, std::size_t stride);
// Reads prev.h (nullptr at t = 1, where h_0 = 0), and for the LSTM locator
// its own state prev.mu_pre, prev.loc_c. Writes now.mu_pre, now.mu, now.l_raw
// and now.l (and now.loc_gates, now.loc_c), drawing as `where` says from
// now.noise.
void location_network_forward(const ModelConfig& config, const RamParams& p, const Step& prev, const Step& now,
                              Locations where);
// The locator's own layers, backward. d.dmu [B, 2] arrives holding dL/dmu_t
// (reinforce.cpp) and is overwritten with dL/dmu_pre_t. Adds into the
// locator's parameters, and into dh_prev [B, H] unless it is nullptr. The
// LSTM locator also carries its own recurrence: d.dloc_h, d.dloc_c hold what
// its later steps sent back; it writes d.dloc_h_prev, d.dloc_c_prev (nullptr
// at t = 1) and uses d.dloc_z as scratch.
void location_network_backward(const ModelConfig& config, const RamParams& p, const RamParams& grad, const Step& prev,
                               const Step& now, const StepGrads& d, real* dh_prev);
