// shifted_images.cpp: the training images moved by up to N pixels a
// side, anew each epoch (shifted_images.h). Ours, not the paper's setup.
#include "datasets/shifted_images.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "kernels/random.h"

namespace {
// Keeps the epochs' moves apart from every other draw of the seed.
constexpr uint64_t kKeyShift = 0x7368696674;  // "shift"

// out(x, y) = in(x - dx, y - dy) where that lies in the frame, else 0; for
// each of the C planes.
void move_image(const uint8_t* in, int channels, int height, int width, int dx, int dy, uint8_t* out) {
  std::fill(out, out + static_cast<std::size_t>(channels) * height * width, uint8_t(0));
  const int x0 = std::max(0, dx), x1 = std::min(width, width + dx);  // columns of out that in reaches
  const int y0 = std::max(0, dy), y1 = std::min(height, height + dy);
  for (int c = 0; c < channels; ++c) {
    const uint8_t* plane = in + static_cast<std::size_t>(c) * height * width;
    uint8_t* moved = out + static_cast<std::size_t>(c) * height * width;
    for (int y = y0; y < y1; ++y)
      std::copy(plane + static_cast<std::size_t>(y - dy) * width + (x0 - dx),
                plane + static_cast<std::size_t>(y - dy) * width + (x1 - dx),
                moved + static_cast<std::size_t>(y) * width + x0);
  }
}
}  // namespace

Dataset shift_images(const Dataset& images, int shift, uint64_t key) {
  if (shift < 0 || shift >= images.height || shift >= images.width)
    throw std::invalid_argument("--shift " + std::to_string(shift) + " must be 0.." +
                                std::to_string(std::min(images.height, images.width) - 1) + " for " +
                                std::to_string(images.width) + "x" + std::to_string(images.height) + " images");
  Dataset out = images;
  if (shift == 0) return out;
  const std::size_t size = static_cast<std::size_t>(images.image_size());
  for (int i = 0; i < images.count; ++i) {
    Rng rng(mix_key(key, static_cast<uint64_t>(i)));
    const int dx = rng.below(2 * shift + 1) - shift, dy = rng.below(2 * shift + 1) - shift;
    move_image(images.image(i), images.channels, images.height, images.width, dx, dy, out.pixels.data() + i * size);
  }
  return out;
}

void shift_training_images(DataSplits& data, int shift, uint64_t seed) {
  if (shift == 0) return;
  // The images each epoch starts from: drawn anew (translated, cluttered
  // MNIST) or the same every epoch.
  std::function<Dataset(int)> unshifted = data.training_epoch;
  if (!unshifted) unshifted = [train = data.train](int) { return train; };
  auto key = [seed](int epoch) { return mix_key(seed, kKeyShift, static_cast<uint64_t>(epoch)); };
  data.training_epoch = [unshifted = std::move(unshifted), shift, key](int epoch) {
    return shift_images(unshifted(epoch), shift, key(epoch));
  };
  // data.train already holds epoch 0's unmoved images: move them, rather
  // than drawing the epoch again.
  data.train = shift_images(data.train, shift, key(0));
}
