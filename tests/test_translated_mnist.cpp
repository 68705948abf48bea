// test_translated_mnist.cpp: the RAM paper's translated and cluttered MNIST
// (src/datasets/translated_mnist.cpp, catalog.cpp): canvas sizes, the digit
// whole inside its canvas, clutter cut from other digits of the same split,
// the same seed giving the same images, and the 50k/10k/10k split kept.
#include <doctest/doctest.h>

#include <set>

#include "datasets/catalog.h"
#include "test_files.h"

namespace {

// `count` 28x28 digits, digit i a solid square of value 10 + i, label i % 10.
Dataset solid_digits(int count) {
  Dataset d;
  d.count = count;
  d.channels = 1;
  d.height = d.width = 28;
  d.classes = 10;
  for (int i = 0; i < count; ++i) {
    d.pixels.insert(d.pixels.end(), 28 * 28, static_cast<uint8_t>(10 + i));
    d.labels.push_back(static_cast<uint8_t>(i % 10));
  }
  return d;
}

// The top-left corner of the 28x28 block of value v in image i, or (-1, -1).
std::pair<int, int> find_block(const Dataset& d, int i, uint8_t v) {
  const uint8_t* p = d.image(i);
  for (int y = 0; y + 28 <= d.height; ++y)
    for (int x = 0; x + 28 <= d.width; ++x) {
      bool all = true;
      for (int r = 0; r < 28 && all; ++r)
        for (int c = 0; c < 28 && all; ++c) all = p[(y + r) * d.width + x + c] == v;
      if (all) return {x, y};
    }
  return {-1, -1};
}

}  // namespace

TEST_CASE("translated MNIST: each digit whole on a blank canvas, at positions spread over it") {
  const Dataset digits = solid_digits(40);
  PlacementConfig p;
  p.canvas = 60;
  const Dataset placed = place_digits(digits, p, 3);
  CHECK(placed.count == 40);
  CHECK(placed.width == 60);
  CHECK(placed.height == 60);
  CHECK(placed.labels == digits.labels);
  std::set<int> xs, ys;
  for (int i = 0; i < placed.count; ++i) {
    const auto [x, y] = find_block(placed, i, static_cast<uint8_t>(10 + i));
    CAPTURE(i);
    REQUIRE(x >= 0);
    xs.insert(x);
    ys.insert(y);
    // Nothing but the digit: 28 * 28 pixels lit.
    int lit = 0;
    for (int k = 0; k < 60 * 60; ++k) lit += placed.image(i)[k] != 0;
    CHECK(lit == 28 * 28);
  }
  // 33 possible offsets per axis: 40 draws land on many of them.
  CHECK(xs.size() > 15);
  CHECK(ys.size() > 15);
  CHECK(*xs.rbegin() <= 32);
}

TEST_CASE("cluttered MNIST: pieces cut from other digits, the digit on top, reproducible by seed") {
  const Dataset digits = solid_digits(30);
  PlacementConfig p;
  p.canvas = 100;
  p.clutter = 8;
  p.clutter_size = 8;
  const Dataset placed = place_digits(digits, p, 5);
  CHECK(placed.width == 100);
  int pieces_seen = 0;
  for (int i = 0; i < placed.count; ++i) {
    const uint8_t own = static_cast<uint8_t>(10 + i);
    const uint8_t* image = placed.image(i);
    // Under the digit a brighter piece may show; outside it only pieces of
    // other digits, at most 8 of 8x8 pixels.
    int lit = 0, own_lit = 0;
    for (int k = 0; k < 100 * 100; ++k) {
      if (image[k] == 0) continue;
      ++lit;
      own_lit += image[k] == own;
    }
    // The digit is whole: every pixel of its block at least its value; the
    // largest digit (drawn brightest) shows as an exact block.
    if (i == placed.count - 1) REQUIRE(find_block(placed, i, own).first >= 0);
    const int outside = lit - 28 * 28;
    CAPTURE(i);
    CHECK(outside <= 8 * 8 * 8);
    CHECK(own_lit <= 28 * 28);  // no piece of its own
    pieces_seen += outside > 0;
  }
  CHECK(pieces_seen > 20);
  // The same seed gives the same images, another seed others.
  CHECK(place_digits(digits, p, 5).pixels == placed.pixels);
  CHECK(place_digits(digits, p, 6).pixels != placed.pixels);
}

TEST_CASE("cluttered MNIST: bad placements are refused by flag") {
  const Dataset digits = solid_digits(3);
  PlacementConfig p;
  p.canvas = 20;
  CHECK_THROWS_WITH_AS(place_digits(digits, p, 1), doctest::Contains("--canvas 20"), std::invalid_argument);
  p.canvas = 60;
  p.clutter = 1;
  p.clutter_size = 29;
  CHECK_THROWS_WITH_AS(place_digits(digits, p, 1), doctest::Contains("--clutter-size 29"), std::invalid_argument);
}

TEST_CASE("placed MNIST data sets: the split kept, each split's clutter from its own digits, training redrawn") {
  // Training-file digits are all 200, test-file digits all 7: no 200 may
  // appear in the test split, no 7 in the training or validation splits.
  TempDir dir;
  const int train_count = 10040, test_count = 30;
  write_file(dir.file("train-images-idx3-ubyte"),
             idx_bytes(kImagesMagic, {uint32_t(train_count), 28, 28},
                       std::vector<uint8_t>(static_cast<std::size_t>(train_count) * 28 * 28, 200)));
  write_file(dir.file("train-labels-idx1-ubyte"),
             idx_bytes(kLabelsMagic, {uint32_t(train_count)}, numbered_labels(train_count)));
  write_file(dir.file("t10k-images-idx3-ubyte"),
             idx_bytes(kImagesMagic, {uint32_t(test_count), 28, 28},
                       std::vector<uint8_t>(static_cast<std::size_t>(test_count) * 28 * 28, 7)));
  write_file(dir.file("t10k-labels-idx1-ubyte"), idx_bytes(kLabelsMagic, {uint32_t(test_count)}, numbered_labels(test_count)));
  const PlacementConfig placement = default_placement("cluttered-mnist");
  CHECK(placement.clutter == 4);
  CHECK(default_placement("cluttered-mnist", 100).clutter == 8);
  CHECK(default_placement("translated-mnist").clutter == 0);
  const DataSplits s = load_dataset("cluttered-mnist", dir.path(), 9, placement);
  CHECK(s.train.count == 40);
  CHECK(s.valid.count == 10000);
  CHECK(s.test.count == 30);
  CHECK(s.test.width == 60);
  auto has = [](const Dataset& d, uint8_t v) {
    for (uint8_t p : d.pixels)
      if (p == v) return true;
    return false;
  };
  CHECK_FALSE(has(s.test, 200));
  CHECK_FALSE(has(s.valid, 7));
  CHECK_FALSE(has(s.train, 7));
  // The training images of every epoch are drawn anew; valid and test are fixed.
  REQUIRE(s.training_epoch);
  CHECK(s.training_epoch(0).pixels == s.train.pixels);
  CHECK(s.training_epoch(1).pixels != s.train.pixels);
  const DataSplits again = load_dataset("cluttered-mnist", dir.path(), 9, placement);
  CHECK(again.test.pixels == s.test.pixels);
  CHECK(again.valid.pixels == s.valid.pixels);
}
