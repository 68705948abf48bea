// test_show.cpp: `ram show` draws a grid for a trained checkpoint, one frame
// per glimpse with --animate, and refuses what it cannot do by name.
#include <doctest/doctest.h>

#include <filesystem>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

#include "test_files.h"
#include "tools/show.h"
#include "train/train.h"

TEST_CASE("show: a grid PNG and one frame per glimpse; bad requests are refused") {
  TempDir data_dir, run;
  write_fake_mnist(data_dir, 10050, 20, 10050);
  TrainConfig c;
  c.data_dir = data_dir.path();
  c.out_dir = run.path();
  c.model.glimpses = 3;
  c.model.what_hidden = c.model.where_hidden = 16;
  c.model.glimpse_hidden = c.model.hidden = 32;
  c.batch = 10;
  c.epochs = 1;
  c.threads = 1;
  train(c, false, "test");

  ShowConfig s;
  s.checkpoint = run.file("model.bin");
  s.count = 5;
  s.out = run.file("grid.png");
  s.animate_dir = run.file("frames");
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
  // Sampled locations and fresh weights draw as well.
  s.sample = s.untrained = true;
  s.animate_dir.clear();
  run_show(s);

  s.out.clear();
  CHECK_THROWS_WITH_AS(run_show(s), doctest::Contains("give --out FILE.png, --animate DIR"), std::invalid_argument);
  s.out = run.file("grid.png");
  s.checkpoint = run.file("missing.bin");
  CHECK(contains(error_of([&] { run_show(s); }), "missing.bin: cannot open"));
}
