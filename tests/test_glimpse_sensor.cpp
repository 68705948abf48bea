// test_glimpse_sensor.cpp: the retina reads the pixels it should (RAM section
// 3.1): where a location puts the patch, the averaging of the wider patches,
// the zero padding outside the image, and the channel layout.
#include <doctest/doctest.h>

#include <vector>

#include "model/ram.h"

namespace {

// A 28x28 image whose pixel (y, x) holds (7 * y + 3 * x) % 256, so every
// pixel read can be predicted.
std::vector<uint8_t> ramp_image(int channels) {
  std::vector<uint8_t> image(static_cast<std::size_t>(channels) * 28 * 28);
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) image[(c * 28 + y) * 28 + x] = static_cast<uint8_t>((7 * y + 3 * x + 50 * c) % 256);
  return image;
}

double pixel(const std::vector<uint8_t>& image, int c, int y, int x) {
  if (y < 0 || y >= 28 || x < 0 || x >= 28) return 0;
  return image[(c * 28 + y) * 28 + x] / 255.0;
}

}  // namespace

TEST_CASE("glimpse sensor: patches, scales, padding and channels") {
  ModelConfig config;  // 28x28, P = 8, unit_pixels = 13
  config.channels = 3;
  config.scales = 2;
  const std::vector<uint8_t> image = ramp_image(3);
  const uint8_t* images[1] = {image.data()};
  // (0, 0): centre 13.5, the 8-pixel patch starts at 10 and the 16-pixel one
  // at 6. (1, -1): centre x = 26.5, y = 0.5: patches start at x 23 / 19 and
  // y -3 / -7, partly outside the image. (0.7/13, 0.2): centre x = 14.2,
  // y = 16.1, so the patch starts at round(14.2 - 3.5) = 11 (not 10) and
  // round(16.1 - 3.5) = 13; the wide one at round(14.2 - 7.5) = 7, 9.
  struct Case {
    real x, y;
    int x0, y0, x0_wide, y0_wide;
  };
  for (const Case& k : {Case{0, 0, 10, 10, 6, 6}, Case{1, -1, 23, -3, 19, -7},
                        Case{real(0.7 / 13), real(0.2), 11, 13, 7, 9}}) {
    CAPTURE(k.x);
    CAPTURE(k.y);
    real l[2] = {k.x, k.y};
    std::vector<real> rho(config.glimpse_features());
    Step now;
    now.B = 1;
    now.x = images;
    now.l = l;
    now.rho = rho.data();
    glimpse_sensor(config, now);
    for (int c = 0; c < 3; ++c) {
      for (int py = 0; py < 8; ++py) {
        for (int px = 0; px < 8; ++px) {
          CAPTURE(c);
          CAPTURE(py);
          CAPTURE(px);
          // Scale 0: the pixel itself. Layout [K, C, P, P].
          CHECK(rho[(0 * 3 + c) * 64 + py * 8 + px] ==
                doctest::Approx(pixel(image, c, k.y0 + py, k.x0 + px)).epsilon(1e-6));
          // Scale 1: the mean of a 2x2 cell of the 16-pixel patch.
          double mean = 0;
          for (int dy = 0; dy < 2; ++dy)
            for (int dx = 0; dx < 2; ++dx) mean += pixel(image, c, k.y0_wide + 2 * py + dy, k.x0_wide + 2 * px + dx) / 4;
          CHECK(rho[(1 * 3 + c) * 64 + py * 8 + px] == doctest::Approx(mean).epsilon(1e-6));
        }
      }
    }
  }
}
