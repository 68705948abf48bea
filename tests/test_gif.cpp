// test_gif.cpp: the GIF writer (src/tools/gif.cpp), read back by stb_image's
// GIF decoder, compiled here on its own (static, so it stays apart from the
// JPEG/PNG decoder the program links).
#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>

#include "kernels/random.h"
#include "tools/gif.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_GIF
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

TEST_CASE("gif: every palette colour maps to itself, and a colour to its nearest entry") {
  for (int i = 0; i < kGifPaletteSize; ++i) {
    CAPTURE(i);
    CHECK(gif_palette_index(gif_palette_color(i)) == i);
  }
  // Exhaustive on a grid of colours: no entry is nearer than the chosen one.
  for (int r = 0; r < 256; r += 17)
    for (int g = 0; g < 256; g += 23)
      for (int b = 0; b < 256; b += 29) {
        const Color c{uint8_t(r), uint8_t(g), uint8_t(b)};
        const Color chosen = gif_palette_color(gif_palette_index(c));
        auto d = [&](Color p) { return (p.r - r) * (p.r - r) + (p.g - g) * (p.g - g) + (p.b - b) * (p.b - b); };
        int best = 1 << 30;
        for (int i = 0; i < kGifPaletteSize; ++i) best = std::min(best, d(gif_palette_color(i)));
        CAPTURE(r);
        CAPTURE(g);
        CAPTURE(b);
        CHECK(d(chosen) == best);
      }
}

TEST_CASE("gif: frames decode back to their palette colours, with their delays") {
  // Noise makes the LZW table fill and clear many times over (several
  // thousand codes a frame); the flat frame makes long runs.
  const int width = 173, height = 121;
  std::vector<Canvas> frames;
  Rng rng(8);
  Canvas noise(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      noise.set(x, y, {uint8_t(rng.below(256)), uint8_t(rng.below(256)), uint8_t(rng.below(256))});
  frames.push_back(noise);
  Canvas flat(width, height, {30, 60, 200});
  flat.line(0, 0, width - 1, height - 1, {255, 0, 0}, 3);
  frames.push_back(flat);
  Canvas grey(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) grey.set(x, y, {uint8_t(x + y), uint8_t(x + y), uint8_t(x + y)});
  frames.push_back(grey);
  const std::vector<int> delays = {50, 120, 7};
  const std::string bytes = encode_gif(frames, delays);

  int* delays_ms = nullptr;
  int w = 0, h = 0, count = 0, channels = 0;
  stbi_uc* pixels = stbi_load_gif_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                              static_cast<int>(bytes.size()), &delays_ms, &w, &h, &count,
                                              &channels, 3);
  REQUIRE(pixels != nullptr);
  CHECK(w == width);
  CHECK(h == height);
  REQUIRE(count == 3);
  int wrong = 0;
  for (int f = 0; f < count; ++f) {
    CHECK(delays_ms[f] == 10 * delays[f]);
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        const Color want = gif_palette_color(gif_palette_index(frames[f].get(x, y)));
        const stbi_uc* got = pixels + ((static_cast<std::size_t>(f) * height + y) * width + x) * 3;
        wrong += got[0] != want.r || got[1] != want.g || got[2] != want.b;
      }
  }
  CHECK(wrong == 0);
  stbi_image_free(pixels);
  STBI_FREE(delays_ms);
}

TEST_CASE("gif: frames of another size and missing delays are refused") {
  CHECK_THROWS_AS(encode_gif({Canvas(4, 4), Canvas(5, 4)}, {1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(encode_gif({Canvas(4, 4)}, {}), std::invalid_argument);
  CHECK_THROWS_AS(encode_gif({}, {}), std::invalid_argument);
}
