// test_show.cpp: `ram show` draws a grid for a trained checkpoint, one frame
// per glimpse with --animate and --gif, looks at random places for a model
// trained with them, and refuses what it cannot do by name.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

#include "test_files.h"
#include "tools/show.h"
#include "train/train.h"

namespace {

// The frames of a GIF file and each one's delay in hundredths of a second,
// read by walking its blocks (GIF89a: header, screen descriptor, global
// colour table, then extensions, image descriptors and the trailer). Throws
// where the file breaks the format.
std::vector<int> gif_frame_delays(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t at = 0;
  const auto byte = [&]() -> int {
    if (at >= bytes.size()) throw std::runtime_error(path + ": ends inside a block");
    return static_cast<uint8_t>(bytes[at++]);
  };
  const auto skip_sub_blocks = [&] {
    for (int size = byte(); size != 0; size = byte()) at += size;
  };
  if (bytes.compare(0, 6, "GIF89a") != 0) throw std::runtime_error(path + ": not a GIF89a file");
  at = 10;
  const int flags = byte();
  at += 2;
  if (flags & 0x80) at += 3 * (2 << (flags & 7));  // the global colour table
  std::vector<int> delays;
  int delay = -1;  // from the graphic control extension before an image
  for (;;) {
    const int block = byte();
    if (block == 0x3B) return delays;  // trailer
    if (block == 0x21) {               // extension: label, then sub-blocks
      const int label = byte();
      if (label == 0xF9) {  // graphic control: size 4, flags, delay (little endian), transparent index
        at += 2;
        delay = byte();
        delay |= byte() << 8;
        at += 1;
      }
      skip_sub_blocks();
    } else if (block == 0x2C) {  // image descriptor: position, size, flags
      at += 8;
      const int image_flags = byte();
      if (image_flags & 0x80) at += 3 * (2 << (image_flags & 7));
      byte();  // LZW minimum code size
      skip_sub_blocks();
      delays.push_back(delay);
      delay = -1;
    } else {
      throw std::runtime_error(path + ": unknown block " + std::to_string(block));
    }
  }
}

// A small model's settings for one epoch on the fake MNIST in data_dir,
// written to run: the checkpoint `show` draws from.
TrainConfig small_run(const TempDir& data_dir, const TempDir& run) {
  TrainConfig c;
  c.data_dir = data_dir.path();
  c.out_dir = run.path();
  c.model.what_hidden = c.model.where_hidden = 16;
  c.model.glimpse_hidden = c.model.hidden = 32;
  c.batch = 10;
  c.epochs = 1;
  c.threads = 1;
  return c;
}

}  // namespace

TEST_CASE("show: a grid PNG and one frame per glimpse; bad requests are refused") {
  TempDir data_dir, run;
  write_fake_mnist(data_dir, 10050, 20, 10050);
  TrainConfig c = small_run(data_dir, run);
  c.model.glimpses = 3;
  train(c, false, "test");

  ShowConfig s;
  s.checkpoint = run.file("model.bin");
  s.count = 5;
  s.out = run.file("grid.png");
  s.animate_dir = run.file("frames");
  s.gif = run.file("glimpses.gif");
  run_show(s);
  int w = 0, h = 0, n = 0;
  unsigned char* grid = stbi_load(s.out.c_str(), &w, &h, &n, 3);
  REQUIRE(grid != nullptr);
  stbi_image_free(grid);
  // Five panels in three columns, two rows; each panel at least the image
  // enlarged to 224 pixels.
  CHECK(w >= 3 * 224);
  CHECK(h >= 2 * 224);
  for (int t = 1; t <= 3; ++t) {
    CAPTURE(t);
    CHECK(std::filesystem::exists(run.file("frames/glimpse_0" + std::to_string(t) + ".png")));
  }
  CHECK_FALSE(std::filesystem::exists(run.file("frames/glimpse_04.png")));
  // The GIF: one frame per glimpse, the last one held longer.
  CHECK(gif_frame_delays(s.gif) == std::vector<int>{80, 80, 300});
  // Sampled locations and fresh weights draw as well.
  s.sample = s.untrained = true;
  s.animate_dir.clear();
  run_show(s);

  s.out.clear();
  s.gif.clear();
  CHECK_THROWS_WITH_AS(run_show(s), doctest::Contains("give --out FILE.png, --animate DIR, --gif FILE.gif"),
                       std::invalid_argument);
  s.out = run.file("grid.png");
  s.checkpoint = run.file("missing.bin");
  CHECK(contains(error_of([&] { run_show(s); }), "missing.bin: cannot open"));
}

TEST_CASE("show: a cluttered-MNIST model that looks at random places") {
  TempDir data_dir, run;
  write_fake_mnist(data_dir, 10050, 20, 10050);
  TrainConfig c = small_run(data_dir, run);
  c.dataset = "cluttered-mnist";
  c.placement.canvas = 30;
  c.placement.clutter = 3;
  c.placement.clutter_size = 2;
  c.model.glimpses = 2;
  c.model.patch = 4;
  c.model.scales = 2;
  c.model.unit_pixels = 15;
  c.model.locations = LocationSource::random;
  train(c, false, "test");

  ShowConfig s;
  s.checkpoint = run.file("model.bin");
  s.count = 2;
  s.gif = run.file("glimpses.gif");
  run_show(s);
  CHECK(gif_frame_delays(s.gif) == std::vector<int>{80, 300});
  s.sample = true;
  CHECK_THROWS_WITH_AS(run_show(s), doctest::Contains("looks at random places (--locations random)"),
                       std::invalid_argument);
}
