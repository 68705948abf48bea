// test_glimpse_sensor.cpp: the retina reads the pixels it should (RAM section
// 3.1): where a location puts the patch, the averaging of the wider patches,
// the zero padding outside the image, and the channel layout; the summed-area
// tables give the same bits as the pixels.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "model/ram.h"

namespace {

// The step of one image at the location l, the retina written to rho.
Step one_image(const uint8_t* const* images, real* l, real* rho) {
  Step now;
  now.B = 1;
  now.x = images;
  now.l = l;
  now.rho = rho;
  return now;
}

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
    glimpse_sensor(config, one_image(images, l, rho.data()));
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

TEST_CASE("glimpse sensor: the summed-area tables give the bits of the pixels, on awkward sizes") {
  // Every coarse cell read both ways (from the pixels, and in four reads from
  // the image's table), and checked against the mean of its bytes added up
  // here in double: images from 1 x 1 to 100 x 100, 1 and 3 channels, odd
  // patches, scales of 2 and 3, and locations whose patches run partly or
  // wholly off the image. The tables hold sums modulo 2^16: the patterned
  // images' totals pass 2^16 many times over, and white images fill the
  // largest cells (8 x 8 and 9 x 9 pixels) up to 255 * 81.
  struct Shape {
    int height, width;
  };
  int coarse_cells = 0;
  for (const Shape shape : {Shape{1, 1}, Shape{5, 7}, Shape{33, 17}, Shape{100, 100}})
    for (int channels : {1, 3})
      for (int patch : {1, 3, 12})
        for (int glimpse_scale : {2, 3})
          for (bool white : {false, true}) {
            ModelConfig config;
            config.height = shape.height;
            config.width = shape.width;
            config.channels = channels;
            config.patch = patch;
            config.scales = glimpse_scale == 2 ? 4 : 3;  // the largest pools 8 and 9
            config.glimpse_scale = glimpse_scale;
            config.unit_pixels = 0.75 * std::max(shape.height, shape.width);  // l = 1 is past the edge
            CAPTURE(shape.height);
            CAPTURE(shape.width);
            CAPTURE(channels);
            CAPTURE(patch);
            CAPTURE(glimpse_scale);
            CAPTURE(white);
            std::vector<uint8_t> image(static_cast<std::size_t>(channels) * shape.height * shape.width);
            for (std::size_t i = 0; i < image.size(); ++i) image[i] = white ? 255 : static_cast<uint8_t>((i * 37 + i / 5) % 256);
            const uint8_t* images[1] = {image.data()};
            std::vector<GlimpseTableSum> table(glimpse_table_size(config));
            glimpse_tables(config, 1, images, table.data());
            for (real x : {real(-1), real(-0.31), real(0), real(0.55), real(1)})
              for (real y : {real(-1), real(0.2), real(1)}) {
                CAPTURE(x);
                CAPTURE(y);
                real l[2] = {x, y};
                std::vector<real> direct(config.glimpse_features()), tabled(config.glimpse_features());
                Step now = one_image(images, l, direct.data());
                glimpse_sensor(config, now);
                now.x_tables = table.data();
                now.rho = tabled.data();
                glimpse_sensor(config, now);
                CHECK(std::memcmp(direct.data(), tabled.data(), direct.size() * sizeof(real)) == 0);
                // Each cell against its bytes: the mean S / (255 pool^2), rounded once.
                int wrong = 0, pool = 1;
                for (int s = 0; s < config.scales; ++s, pool *= glimpse_scale) {
                  const PatchBox box = glimpse_patch_box(config, x, y, s);
                  for (int c = 0; c < channels; ++c)
                    for (int py = 0; py < patch; ++py)
                      for (int px = 0; px < patch; ++px) {
                        double S = 0;
                        for (int dy = 0; dy < pool; ++dy)
                          for (int dx = 0; dx < pool; ++dx) {
                            const int yy = box.y0 + py * pool + dy, xx = box.x0 + px * pool + dx;
                            if (yy >= 0 && yy < shape.height && xx >= 0 && xx < shape.width)
                              S += image[(static_cast<std::size_t>(c) * shape.height + yy) * shape.width + xx];
                          }
                        const real expected = static_cast<real>(S / (255.0 * pool * pool));
                        wrong += tabled[((static_cast<std::size_t>(s) * channels + c) * patch + py) * patch + px] != expected;
                        coarse_cells += s > 0;
                      }
                }
                CHECK(wrong == 0);
              }
          }
  CHECK(coarse_cells > 0);
}

TEST_CASE("glimpse sensor: a cell's mean by the reciprocal has the bits of the division") {
  // Every sum S a cell of these pools can hold, against S / (255 pool^2)
  // divided in double and rounded once: the powers of 2 and 3 the sensor's
  // scales make, up to the 256 where the reciprocal stops, and one past it.
  long long cells = 0, wrong = 0;
  for (int pool : {1, 2, 3, 4, 8, 9, 16, 27, 64, 81, 256, 1024}) {
    const RetinaCellMean mean(pool);
    const double divisor = 255.0 * pool * pool;
    const uint32_t top = static_cast<uint32_t>(divisor), step = pool > 256 ? 4099 : 1;
    for (uint32_t S = 0; S <= top; S += step, ++cells) wrong += mean(S) != static_cast<real>(S / divisor);
  }
  CHECK(cells > 19000000);
  CHECK(wrong == 0);
}

TEST_CASE("glimpse sensor: an episode makes the tables when they pay") {
  ModelConfig config;  // 28 x 28, one scale: the pixels alone
  CHECK_FALSE(glimpse_tables_pay(config));
  config.scales = 3;  // 7 glimpses of 16 x 16 and 28 x 28 cut: 7,280 pixels against 4,425
  CHECK(glimpse_tables_pay(config));
  config.height = config.width = 100;  // cluttered MNIST: 12 x 12 patches, 4 scales, 8 glimpses
  config.patch = 12;
  config.scales = 4;
  config.glimpses = 8;
  CHECK(glimpse_tables_pay(config));
  CHECK(Episode(config, 4).image_tables.size() == 4 * glimpse_table_size(config));
  config.scales = 6;  // cells of 32 x 32 pixels: sums past 2^16, which the tables do not hold
  CHECK_FALSE(glimpse_tables_pay(config));
  config.height = config.width = 16;  // the same cells cut to the image: 256 pixels, sums below 2^16
  config.patch = 3;
  CHECK(glimpse_tables_pay(config));
  config.patch = 12;
  config.scales = 4;
  config.height = config.width = 400;  // 313 KB a table: too large to keep
  CHECK_FALSE(glimpse_tables_pay(config));
  CHECK(Episode(config, 4).image_tables.empty());
}
