// glimpse_sensor.h: the glimpse sensor rho (RAM section 3.1).
#pragma once

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
// now.rho [B, G] from the images now.x (each [C, height, width] bytes) at
// the locations now.l [B, 2].
void glimpse_sensor(const ModelConfig& config, const Step& now);
