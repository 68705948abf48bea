// test_shifted_images.cpp: --shift, the training images moved by a few
// pixels anew each epoch (src/datasets/shifted_images.cpp): each image is
// its original moved by one (dx, dy) within the bound, with 0 where nothing
// moved in, on every channel alike; the moves cover the whole range; the
// same key gives the same images; validation and test are never moved.
#include <doctest/doctest.h>

#include <set>
#include <stdexcept>
#include <utility>

#include "datasets/shifted_images.h"

namespace {

// `count` images of C x 12 x 10 whose pixels are all different and nonzero,
// so that a move can be told from the pixels alone.
Dataset patterned(int count, int channels) {
  Dataset d{count, channels, /*height=*/12, /*width=*/10, /*classes=*/10, {}, {}};
  for (int i = 0; i < count; ++i) {
    for (int p = 0; p < channels * 12 * 10; ++p) d.pixels.push_back(static_cast<uint8_t>(1 + (p * 7 + i) % 251));
    d.labels.push_back(static_cast<uint8_t>(i % 10));
  }
  return d;
}

// Pixel (c, y, x) of image i, or 0 outside the frame.
int pixel(const Dataset& d, int i, int c, int y, int x) {
  if (y < 0 || y >= d.height || x < 0 || x >= d.width) return 0;
  return d.image(i)[(c * d.height + y) * d.width + x];
}

// The moves (dx, dy) in -n..n for which image i of `moved` is image i of
// `original` moved by (dx, dy): out(y, x) = in(y - dy, x - dx), 0 outside.
std::vector<std::pair<int, int>> moves_that_fit(const Dataset& original, const Dataset& moved, int i, int n) {
  std::vector<std::pair<int, int>> fits;
  for (int dy = -n; dy <= n; ++dy)
    for (int dx = -n; dx <= n; ++dx) {
      bool all = true;
      for (int c = 0; c < original.channels && all; ++c)
        for (int y = 0; y < original.height && all; ++y)
          for (int x = 0; x < original.width && all; ++x)
            all = pixel(moved, i, c, y, x) == pixel(original, i, c, y - dy, x - dx);
      if (all) fits.emplace_back(dx, dy);
    }
  return fits;
}

}  // namespace

TEST_CASE("--shift: each image moved by one (dx, dy) within the bound, 0 where nothing moved in") {
  for (int channels : {1, 3}) {
    const Dataset images = patterned(200, channels);
    const Dataset moved = shift_images(images, 3, 11);
    CHECK(moved.count == images.count);
    CHECK(moved.channels == channels);
    CHECK(moved.height == 12);
    CHECK(moved.width == 10);
    CHECK(moved.labels == images.labels);
    std::set<int> dxs, dys;
    int still = 0;
    for (int i = 0; i < images.count; ++i) {
      CAPTURE(channels);
      CAPTURE(i);
      const auto fits = moves_that_fit(images, moved, i, 3);
      REQUIRE(fits.size() == 1);  // all channels moved alike, by exactly one move
      dxs.insert(fits[0].first);
      dys.insert(fits[0].second);
      still += fits[0] == std::make_pair(0, 0);
    }
    // Every move of -3..3 on each axis occurs; 200 images at 1/49 each
    // would stand still about 4 times, not all 200.
    CHECK(dxs == std::set<int>{-3, -2, -1, 0, 1, 2, 3});
    CHECK(dys == std::set<int>{-3, -2, -1, 0, 1, 2, 3});
    CHECK(still < 20);
  }
}

TEST_CASE("--shift: the same key gives the same images, another key others; 0 moves nothing") {
  const Dataset images = patterned(50, 1);
  CHECK(shift_images(images, 2, 5).pixels == shift_images(images, 2, 5).pixels);
  CHECK(shift_images(images, 2, 5).pixels != shift_images(images, 2, 6).pixels);
  CHECK(shift_images(images, 0, 5).pixels == images.pixels);
}

TEST_CASE("--shift: a move as large as the image is refused, naming the flag and the bound") {
  const Dataset images = patterned(3, 1);  // 10 wide, 12 high
  CHECK_NOTHROW(shift_images(images, 9, 1));
  CHECK_THROWS_WITH_AS(shift_images(images, 10, 1), "--shift 10 must be 0..9 for 10x12 images", std::invalid_argument);
  CHECK_THROWS_AS(shift_images(images, -1, 1), std::invalid_argument);
}

TEST_CASE("--shift: only the training split moves, anew each epoch, the same for the same seed") {
  DataSplits data;
  data.train = patterned(60, 1);
  data.valid = patterned(20, 1);
  data.test = patterned(30, 1);
  const DataSplits before = data;
  DataSplits again = data;
  shift_training_images(data, 2, 7);
  shift_training_images(again, 2, 7);
  REQUIRE(data.training_epoch);
  CHECK(data.valid.pixels == before.valid.pixels);
  CHECK(data.test.pixels == before.test.pixels);
  CHECK(data.train.labels == before.train.labels);
  CHECK(data.train.pixels != before.train.pixels);
  CHECK(data.train.pixels == data.training_epoch(0).pixels);  // train is epoch 0's
  CHECK(data.training_epoch(1).pixels != data.training_epoch(0).pixels);
  CHECK(data.training_epoch(1).pixels == again.training_epoch(1).pixels);
  // Each epoch moves the images as they were read, not the last epoch's.
  const Dataset epoch3 = data.training_epoch(3);
  for (int i = 0; i < epoch3.count; ++i) CHECK(moves_that_fit(before.train, epoch3, i, 2).size() == 1);

  // A data set drawn anew each epoch (translated MNIST) is moved after it is drawn.
  DataSplits drawn = before;
  drawn.training_epoch = [base = before.train](int epoch) { return shift_images(base, 1, 100 + epoch); };
  drawn.train = drawn.training_epoch(0);
  const Dataset drawn_epoch2 = drawn.training_epoch(2);
  shift_training_images(drawn, 2, 7);
  const Dataset both = drawn.training_epoch(2);
  for (int i = 0; i < both.count; ++i) CHECK(moves_that_fit(drawn_epoch2, both, i, 2).size() == 1);

  DataSplits unmoved = before;
  shift_training_images(unmoved, 0, 7);
  CHECK_FALSE(unmoved.training_epoch);
  CHECK(unmoved.train.pixels == before.train.pixels);
}
