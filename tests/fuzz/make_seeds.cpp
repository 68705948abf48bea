// make_seeds.cpp: writes the fuzz targets' starting inputs, small real files
// of each kind the loaders read, into DIR/<target>/ (`make fuzz` runs it):
//   idx           IDX image and label files, plain and gzip-compressed;
//   gzip          gzip files of each DEFLATE block type;
//   cifar_binary  CIFAR-10 binary records;
//   image         32x32 JPEGs (libjpeg-turbo's and stb_image_write's,
//                 subsampled and not, with restart intervals, grey, and
//                 hand-built ones with and without restart intervals) and
//                 PNGs (RGB, grey, palette with every row filter, Adam7,
//                 zlib-compressed by stb_image_write and stored).
// Usage: make_seeds DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

#include "gzip_samples.h"
#include "image_files.h"
#include "image_samples.h"
#include "test_files.h"

namespace {

std::string out_dir;

void seed(const std::string& target, const std::string& name, const std::vector<uint8_t>& bytes) {
  std::filesystem::create_directories(out_dir + "/" + target);
  write_file(out_dir + "/" + target + "/" + name, bytes);
}

void append(void* out, void* data, int size) {
  auto* bytes = static_cast<std::vector<uint8_t>*>(out);
  bytes->insert(bytes->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

// A 32x32 picture with edges and gradients, [H, W, C].
std::vector<uint8_t> picture(int channels) {
  std::vector<uint8_t> hwc(32 * 32 * channels);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x)
      for (int c = 0; c < channels; ++c)
        hwc[(y * 32 + x) * channels + c] = uint8_t((x > 12 && y < 20) ? 220 - 3 * y : 7 * x + 40 * c);
  return hwc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  out_dir = argv[1];

  seed("idx", "images", idx_bytes(kImagesMagic, {3, 2, 4}, numbered_images(6)));
  seed("idx", "labels", idx_bytes(kLabelsMagic, {12}, numbered_labels(12)));
  seed("idx", "labels.gz", kDynamicGzip);

  seed("gzip", "dynamic.gz", kDynamicGzip);
  seed("gzip", "fixed.gz", kFixedGzip);
  seed("gzip", "stored.gz", kStoredGzip);

  std::vector<uint8_t> record = {3};
  for (int i = 0; i < 3 * 32 * 32; ++i) record.push_back(uint8_t(i * 5));
  seed("cifar_binary", "one_record.bin", record);

  for (int quality : {50, 95}) {
    std::vector<uint8_t> jpeg;
    stbi_write_jpg_to_func(append, &jpeg, 32, 32, 3, picture(3).data(), quality);
    seed("image", "stb_q" + std::to_string(quality) + ".jpg", jpeg);
  }
  seed("image", "cjpeg_colour.jpg", kCjpegColour);
  seed("image", "cjpeg_restart.jpg", kCjpegRestart);
  seed("image", "cjpeg_grey.jpg", kCjpegGrey);
  seed("image", "flat.jpg", tiny_jpeg(32, 32).bytes());
  seed("image", "flat_restart.jpg", tiny_jpeg(32, 32, true).bytes());
  for (int channels : {1, 3, 4}) {
    std::vector<uint8_t> png;
    stbi_write_png_to_func(append, &png, 32, 32, channels, picture(channels).data(), 32 * channels);
    seed("image", "stb_" + std::to_string(channels) + "ch.png", png);
  }
  seed("image", "stored_rgb.png", rgb_png(32, 32, picture(3)));
  // Palette: 4-bit indices, rows cycling through the five filter types.
  std::vector<uint8_t> raw;
  for (int y = 0; y < 32; ++y) {
    raw.push_back(uint8_t(y % 5));
    for (int x = 0; x < 16; ++x) raw.push_back(uint8_t(x * 17 + y));
  }
  std::vector<uint8_t> palette;
  for (int i = 0; i < 16; ++i) palette.insert(palette.end(), {uint8_t(16 * i), uint8_t(255 - 16 * i), uint8_t(i * i)});
  seed("image", "palette.png",
       png_file({png_ihdr(32, 32, 4, 3), png_chunk("PLTE", palette), png_chunk("IDAT", zlib_stored(raw)),
                 png_chunk("IEND", {})}));
  // Adam7 grey: passes of 4x4, 4x4, 8x4, 8x8, 16x8, 16x16, 32x16 pixels.
  std::vector<uint8_t> interlaced;
  const int pass_width[7] = {4, 4, 8, 8, 16, 16, 32}, pass_height[7] = {4, 4, 4, 8, 8, 16, 16};
  for (int p = 0; p < 7; ++p)
    for (int y = 0; y < pass_height[p]; ++y) {
      interlaced.push_back(0);
      for (int x = 0; x < pass_width[p]; ++x) interlaced.push_back(uint8_t(p * 30 + x));
    }
  seed("image", "adam7.png",
       png_file({png_ihdr(32, 32, 8, 0, 1), png_chunk("IDAT", zlib_stored(interlaced)), png_chunk("IEND", {})}));
  return 0;
}
