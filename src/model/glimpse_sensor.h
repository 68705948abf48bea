// glimpse_sensor.h: the glimpse sensor rho (RAM section 3.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include "kernels/tensor.h"
#include "model/model.h"
#include "model/step.h"

// Glimpse sensor rho(x_t, l_{t-1}) (glimpse_sensor.cpp; RAM section 3.1).
// No backward: the sensor is not differentiable in l and the paper does not
// ask it to be; the locations are trained by REINFORCE alone.

// The square patch s (0..K-1) of a glimpse at location (x, y): its top-left
// pixel and its side P * glimpse_scale^s, in image pixels (it may reach
// past the image's edge).
struct PatchBox {
  int x0, y0, side;
};
PatchBox glimpse_patch_box(const ModelConfig& config, double x, double y, int s);
// The mean of a retina cell of pool x pool pixels whose bytes sum to S:
// S / (255 pool^2), rounded once to real. In float, for pools up to 256, the
// product of S with the divisor's reciprocal (in double) gives the same bits
// as the division (glimpse_sensor.cpp has the proof), where a division
// costs several multiplications.
class RetinaCellMean {
 public:
  explicit RetinaCellMean(int pool);
  real operator()(uint32_t S) const {
    return static_cast<real>(by_reciprocal_ ? S * reciprocal_ : S / divisor_);
  }

 private:
  double divisor_, reciprocal_;
  bool by_reciprocal_;
};
// now.rho [B, G] from the images now.x (each [C, height, width] bytes) at
// the locations now.l [B, 2]; the coarse scales read now.x_tables when it is
// set, and the pixels themselves when not: the same numbers, bit for bit.
void glimpse_sensor(const ModelConfig& config, const Step& now);

// Summed-area tables of the images, so that a coarse scale's cell costs four
// reads whatever its size. Each image's table is [C, height + 1, width + 1]
// GlimpseTableSum (glimpse_table_size elements): entry (c, y, x) sums the
// bytes of channel c in rows < y and columns < x, modulo 2^16. An episode
// makes them once for its B images and all T glimpses.
//
// Why 16 bits are enough: a cell's sum S is a difference of four entries,
// and taken modulo 2^16 it is S itself whenever S < 2^16, which holds for
// every cell of at most 257 pixels (255 * 257 = 65535): pools up to 16 x 16,
// the coarsest of 5 scales of 2 (4 scales of 2 make cells of 8 x 8). Half
// the bytes of 32-bit sums, to write once per episode and to read at every
// glimpse.
using GlimpseTableSum = uint16_t;
std::size_t glimpse_table_size(const ModelConfig& config);
// Whether the tables pay: more than one scale, no cell of more than 257
// pixels inside the image (above), the pixels the coarse cells of an episode
// would read outnumber the tables' additions and reads, and a table stays
// below 256 KB (a 360 x 360 grey image).
bool glimpse_tables_pay(const ModelConfig& config);
// tables [B, glimpse_table_size] from the images x[0..B-1].
void glimpse_tables(const ModelConfig& config, int B, const uint8_t* const* x, GlimpseTableSum* tables);
