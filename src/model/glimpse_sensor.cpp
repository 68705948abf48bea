// glimpse_sensor.cpp: the retina rho(x_t, l_{t-1}) (RAM section 3.1).
//
// "Given the coordinates of the glimpse and an input image, the sensor
// extracts a retina-like representation rho(x_t, l_{t-1}) centered at l_{t-1}
// that contains multiple resolution patches." Patch s (s = 0..K-1) is
// P * scale^s pixels wide, centred on the location, and is averaged down to
// P x P, so the outer patches see more of the image at lower resolution.
// Pixels outside the image read as zero (the Torch SpatialGlimpse pads too).
//
// Coordinates: l = (x, y) in [-1, 1]^2, x to the right, y down, (0, 0) the
// image centre; a location maps to the pixel centre
//   c = (width - 1) / 2 + x * unit_pixels,  likewise for rows.
// The patch of side n starts at the pixel round(c - (n - 1) / 2), so for even
// n it is as centred on c as pixels allow.
//
// Not differentiable in l, and not meant to be: l is trained by REINFORCE.
#include <algorithm>
#include <cmath>

#include "model/glimpse_sensor.h"
#include "model/linear.h"

namespace {

// Pixel bytes to [0, 1].
struct ByteScale {
  real v[256];
  ByteScale() {
    for (int i = 0; i < 256; ++i) v[i] = static_cast<real>(i / 255.0);
  }
};
const ByteScale kByteToUnit;

}  // namespace

PatchBox glimpse_patch_box(const ModelConfig& config, double x, double y, int s) {
  int side = config.patch;
  for (int k = 0; k < s; ++k) side *= config.glimpse_scale;
  const double cx = (config.width - 1) / 2.0 + x * config.unit_pixels;
  const double cy = (config.height - 1) / 2.0 + y * config.unit_pixels;
  return {static_cast<int>(std::floor(cx - (side - 1) / 2.0 + 0.5)),
          static_cast<int>(std::floor(cy - (side - 1) / 2.0 + 0.5)), side};
}

// rho [B, G] with G = K * C * P * P, laid out [K, C, P, P] per image.
void glimpse_sensor(const ModelConfig& config, const Step& now) {
  const int C = config.channels, Hi = config.height, Wi = config.width;
  const int P = config.patch, K = config.scales;
  const int G = config.glimpse_features();
  const real* l = now.l;
  for (int b = 0; b < now.B; ++b) {
    const uint8_t* image = now.x[b];  // [C, Hi, Wi]
    real* rho_b = now.rho + static_cast<std::size_t>(b) * G;
    int pool = 1;  // pixels per retina cell along one side: scale^s
    for (int s = 0; s < K; ++s, pool *= config.glimpse_scale) {
      const PatchBox box = glimpse_patch_box(config, l[2 * b + 0], l[2 * b + 1], s);
      const int x0 = box.x0, y0 = box.y0;
      const real cell_area = static_cast<real>(pool * pool);
      for (int c = 0; c < C; ++c) {
        const uint8_t* plane = image + static_cast<std::size_t>(c) * Hi * Wi;
        real* out = rho_b + static_cast<std::size_t>(s * C + c) * P * P;  // [P, P]
        for (int py = 0; py < P; ++py) {
          // The cell's rows and columns cut to the image: outside pixels
          // count as zero, so they are simply not added.
          const int y_begin = std::max(y0 + py * pool, 0), y_end = std::min(y0 + (py + 1) * pool, Hi);
          for (int px = 0; px < P; ++px) {
            const int x_begin = std::max(x0 + px * pool, 0), x_end = std::min(x0 + (px + 1) * pool, Wi);
            real sum = 0;  // the average of the pool x pool cell
            for (int y = y_begin; y < y_end; ++y) {
              const uint8_t* row = plane + static_cast<std::size_t>(y) * Wi;
              for (int x = x_begin; x < x_end; ++x) sum += kByteToUnit.v[row[x]];
            }
            out[py * P + px] = sum / cell_area;
          }
        }
      }
    }
  }
}
