// translated_mnist.cpp: translated and cluttered MNIST (translated_mnist.h).
#include "datasets/translated_mnist.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "kernels/random.h"

namespace {

// Pastes the h x w block of `source` (row stride source_width) whose
// top-left pixel is (sx, sy) at (dx, dy) of the canvas, by the maximum.
void paste_max(const uint8_t* source, int source_width, int sx, int sy, int w, int h, uint8_t* canvas, int side,
               int dx, int dy) {
  for (int y = 0; y < h; ++y) {
    const uint8_t* from = source + static_cast<std::size_t>(sy + y) * source_width + sx;
    uint8_t* to = canvas + static_cast<std::size_t>(dy + y) * side + dx;
    for (int x = 0; x < w; ++x) to[x] = std::max(to[x], from[x]);
  }
}

}  // namespace

Dataset place_digits(const Dataset& digits, const PlacementConfig& config, uint64_t seed) {
  const int side = config.canvas, piece = config.clutter_size;
  if (digits.channels != 1) throw std::invalid_argument("translated MNIST: the digits must have one channel");
  if (side < digits.height || side < digits.width)
    throw std::invalid_argument("--canvas " + std::to_string(side) + " is smaller than the " +
                                std::to_string(digits.width) + "x" + std::to_string(digits.height) + " digits");
  if (config.clutter > 0 && (piece < 1 || piece > digits.height || piece > digits.width))
    throw std::invalid_argument("--clutter-size " + std::to_string(piece) + " must be 1.." +
                                std::to_string(std::min(digits.height, digits.width)));
  if (config.clutter > 0 && digits.count < 2)
    throw std::invalid_argument("cluttered MNIST: clutter needs at least two digits to cut from");
  Dataset out;
  out.count = digits.count;
  out.channels = 1;
  out.height = out.width = side;
  out.classes = digits.classes;
  out.labels = digits.labels;
  out.pixels.assign(static_cast<std::size_t>(out.count) * side * side, 0);
  for (int i = 0; i < digits.count; ++i) {
    Rng rng(mix_key(seed, static_cast<uint64_t>(i)));
    uint8_t* canvas = out.pixels.data() + static_cast<std::size_t>(i) * side * side;
    for (int k = 0; k < config.clutter; ++k) {
      // Another digit than this one: draw from the other count - 1.
      int other = rng.below(digits.count - 1);
      other += other >= i;
      const int sx = rng.below(digits.width - piece + 1), sy = rng.below(digits.height - piece + 1);
      const int dx = rng.below(side - piece + 1), dy = rng.below(side - piece + 1);
      paste_max(digits.image(other), digits.width, sx, sy, piece, piece, canvas, side, dx, dy);
    }
    const int dx = rng.below(side - digits.width + 1), dy = rng.below(side - digits.height + 1);
    paste_max(digits.image(i), digits.width, 0, 0, digits.width, digits.height, canvas, side, dx, dy);
  }
  return out;
}
