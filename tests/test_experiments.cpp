// test_experiments.cpp: the pictures and the experiments behind them: the
// font draws the glyphs it was given, plot ticks are round numbers, a plot
// shows its series' colours, the per-glimpse measures agree with the
// evaluator, and every experiment's quick mode (1 epoch, 1 seed) writes its
// CSV and PNG, reusing finished runs and refusing runs made otherwise.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

#include "kernels/thread_pool.h"
#include "test_files.h"
#include "tools/canvas.h"
#include "tools/experiments.h"
#include "tools/plot.h"
#include "train/checkpoint.h"

namespace {

bool is_ink(const Canvas& c, int x, int y) {
  const Color p = c.get(x, y);
  return p.r == 0 && p.g == 0 && p.b == 0;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The small model of the training tests, on fake MNIST of 2x2 images.
ExperimentConfig quick(const std::string& name, const std::string& data_dir, const std::string& out_dir) {
  ExperimentConfig e;
  e.name = name;
  e.out_dir = out_dir;
  e.epochs = 1;
  e.seeds = 1;
  e.images = 30;
  e.datasets = {"mnist"};
  e.data_dirs["mnist"] = data_dir;
  TrainConfig& c = e.base;
  c.model.glimpses = 3;
  c.model.what_hidden = c.model.where_hidden = 16;
  c.model.glimpse_hidden = c.model.hidden = 32;
  c.batch = 10;
  c.threads = 2;
  return e;
}

// Width and height of a PNG file, or 0 x 0 when it does not read.
std::pair<int, int> png_size(const std::string& path) {
  int w = 0, h = 0, n = 0;
  unsigned char* pixels = stbi_load(path.c_str(), &w, &h, &n, 3);
  if (!pixels) return {0, 0};
  stbi_image_free(pixels);
  return {w, h};
}

}  // namespace

TEST_CASE("canvas: the font draws its glyphs pixel for pixel, g hangs below the line") {
  Canvas c(40, 20);
  c.text(1, 1, "1", {0, 0, 0});
  // '1' = 04 0C 04 04 04 04 0E: row 0 has its ink in column 2 only, row 6 in columns 1..3.
  for (int col = 0; col < 5; ++col) {
    CAPTURE(col);
    CHECK(is_ink(c, 1 + col, 1) == (col == 2));
    CHECK(is_ink(c, 1 + col, 2) == (col == 1 || col == 2));
    CHECK(is_ink(c, 1 + col, 7) == (col >= 1 && col <= 3));
  }
  CHECK(text_width("1") == 5);
  CHECK(text_width("12", 2) == 22);
  // 'g' starts two rows lower: its top row (0F) is at y = 1 + 2.
  c.text(10, 1, "g", {0, 0, 0});
  CHECK_FALSE(is_ink(c, 11, 1));
  CHECK(is_ink(c, 11, 3));
  CHECK(is_ink(c, 12, 9));  // the descender's last row, 0E: columns 1..3
  CHECK_FALSE(is_ink(c, 14, 9));
  // Nothing is drawn outside the canvas, and nothing crashes there.
  c.line(-50, -50, 100, 100, {255, 0, 0}, 3);
  c.text(35, 15, "wide", {0, 0, 0}, 3);
}

TEST_CASE("plot: ticks are round numbers covering the range") {
  const std::vector<double> t = nice_ticks(0, 1, 5);
  REQUIRE(t.size() == 6);
  CHECK(t.front() == doctest::Approx(0.0));
  CHECK(t[1] == doctest::Approx(0.2));
  CHECK(t.back() == doctest::Approx(1.0));
  const std::vector<double> u = nice_ticks(3, 47, 10);  // step 5: 5, 10, ..., 45
  CHECK(u.front() == doctest::Approx(5));
  CHECK(u[1] - u[0] == doctest::Approx(5));
  CHECK(u.back() == doctest::Approx(45));
  const std::vector<double> v = nice_ticks(0.0012, 0.0049, 4);  // step 0.001
  CHECK(v.front() == doctest::Approx(0.002));
  CHECK(v.back() == doctest::Approx(0.004));
}

TEST_CASE("plot: each series shows in its palette colour; bad series are refused") {
  Plot p;
  p.title = "t";
  p.series.push_back({"first", {1, 2, 3}, {0.1, 0.5, 0.9}, {}, {}});
  p.series.push_back({"second", {1, 2, 3}, {0.9, 0.5, 0.1}, {0.8, 0.4, 0.0}, {1.0, 0.6, 0.2}});
  const Canvas c = draw_plot(p);
  int seen[2] = {0, 0};
  for (int y = 0; y < c.height(); ++y)
    for (int x = 0; x < c.width(); ++x)
      for (int k = 0; k < 2; ++k) {
        const Color q = c.get(x, y), want = palette(k);
        seen[k] += q.r == want.r && q.g == want.g && q.b == want.b;
      }
  CHECK(seen[0] > 100);
  CHECK(seen[1] > 100);
  p.series[1].low.pop_back();
  CHECK_THROWS_WITH_AS(draw_plot(p), doctest::Contains("'second' has mismatched sizes"), std::invalid_argument);
  p.series[1].low.push_back(NAN);
  CHECK_THROWS_WITH_AS(draw_plot(p), doctest::Contains("'second' holds a non-finite value"), std::invalid_argument);
}

TEST_CASE("glimpse_curves: the NLL after the last glimpse is the evaluator's; random places differ") {
  TempDir data_dir;
  write_fake_mnist(data_dir, 10050, 40, 10050);
  TempDir out;
  ExperimentConfig e = quick("fig3", data_dir.path(), out.path());
  TrainConfig c = e.base;
  c.dataset = "mnist";
  c.data_dir = data_dir.path();
  DataSplits data = load_dataset("mnist", c.data_dir, 1, c.placement, c.model);
  Parameters params(c.model);
  params.init_uniform(3);
  ThreadPool pool(2);
  const Evaluation eval = evaluate(params, c.model, data.test, pool);
  const GlimpseCurves at_mean = glimpse_curves(params, c.model, data.test, 1000, Locations::mean, 7);
  REQUIRE(at_mean.nll.size() == 3);
  CHECK(at_mean.nll[2] == doctest::Approx(eval.nll).epsilon(1e-5));
  for (double v : at_mean.change) CHECK(v > 0);
  const GlimpseCurves random1 = glimpse_curves(params, c.model, data.test, 1000, Locations::given, 7);
  const GlimpseCurves random2 = glimpse_curves(params, c.model, data.test, 1000, Locations::given, 7);
  const GlimpseCurves random3 = glimpse_curves(params, c.model, data.test, 1000, Locations::given, 8);
  CHECK(random1.nll == random2.nll);  // fixed by the seed
  CHECK(random1.nll != random3.nll);
  CHECK(random1.nll != at_mean.nll);
  CHECK(at_mean.reference.empty());
  // Read as logits, the change is another number, the NLL the same; against
  // a reference, image j meets row j mod rows: a reference of one row equal
  // to O_0 = b_a (every image's output before any glimpse) makes the first
  // glimpse's distance its change.
  Tensor z_ref({1, c.model.classes});
  std::copy(params.views().action.b, params.views().action.b + c.model.classes, z_ref.data());
  const GlimpseCurves logits =
      glimpse_curves(params, c.model, data.test, 1000, Locations::mean, 7, RewardOutput::logits, &z_ref);
  CHECK(logits.change != at_mean.change);
  for (int t = 0; t < 3; ++t) CHECK(logits.nll[t] == doctest::Approx(at_mean.nll[t]).epsilon(1e-5));
  REQUIRE(logits.reference.size() == 3);
  CHECK(logits.reference[0] == doctest::Approx(logits.change[0]).epsilon(1e-6));
  CHECK(logits.reference[1] != doctest::Approx(logits.change[1]).epsilon(1e-3));
}

TEST_CASE("experiments: every quick mode writes its CSV and PNG; runs are shared and checked") {
  TempDir data_dir;
  write_fake_mnist(data_dir, 10050, 40, 10050);
  TempDir out;
  for (const char* name : {"fig4", "collapse", "fig2", "fig3"}) {
    CAPTURE(name);
    run_experiment(quick(name, data_dir.path(), out.path()));
  }
  // fig4: three variants, one epoch each; the header names the seeds.
  const std::vector<std::string> fig4 = lines_of(out.file("fig4-mnist.csv"));
  REQUIRE(fig4.size() == 4);
  CHECK(fig4[0] == "series,x,mean,min,max,seed_1");
  CHECK(fig4[1].rfind("linear,1,", 0) == 0);
  CHECK(fig4[2].rfind("lstm-locator,1,", 0) == 0);
  CHECK(fig4[3].rfind("lstm-core,1,", 0) == 0);
  const std::vector<std::string> collapse = lines_of(out.file("collapse.csv"));
  REQUIRE(collapse.size() == 5);  // classify, both change rewards, lowstd
  CHECK(collapse[3].rfind("change-code,1,", 0) == 0);
  CHECK(lines_of(out.file("fig2.csv")).size() == 1 + 3 * 3);  // three models, T = 3 glimpses
  CHECK(lines_of(out.file("fig2-reference.csv")).size() == 1 + 3 * 3);
  CHECK(lines_of(out.file("fig3.csv")).size() == 1 + 4 * 3);  // four series
  for (const char* png : {"fig4-mnist.png", "collapse.png", "fig2.png", "fig2-reference.png", "fig3.png"}) {
    CAPTURE(png);
    CHECK(png_size(out.file(png)).first > 600);
  }
  // The runs: fig4's linear run served collapse, fig2 and fig3 as well.
  int runs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(out.file("runs"))) runs += entry.is_directory();
  CHECK(runs == 6);  // linear, lstm-locator, lstm-core, change, change-code, lowstd
  // Each run derived the defaults that follow its own settings: the decay
  // length is the run's epochs, the lowstd reward's coefficient the seed's.
  CHECK(load_checkpoint(out.file("runs/mnist-linear-e1-s1/last.bin")).config.optimizer.decay_epochs == 1);
  CHECK(load_checkpoint(out.file("runs/mnist-lowstd-e1-s1/last.bin")).config.reward.coef == 0.01);
  CHECK(load_checkpoint(out.file("runs/mnist-change-e1-s1/last.bin")).config.reward.coef == 1);
  // A run made with other settings is refused, naming the run and the setting.
  ExperimentConfig other = quick("fig2", data_dir.path(), out.path());
  other.base.optimizer.lr = 0.5;
  other.given = {"--lr"};
  const std::string refused = error_of([&] { run_experiment(other); });
  CHECK(contains(refused, "mnist-linear-e1-s1: holds a run with other settings"));
  CHECK(contains(refused, "--lr 0.001 there, 0.5 asked"));
  // A damaged metrics.csv is named, with the line.
  {
    std::ofstream damaged(out.file("runs/mnist-lstm-core-e1-s1/metrics.csv"), std::ios::app);
    damaged << "2,0.001,oops\n";
  }
  CHECK(contains(error_of([&] { run_experiment(quick("fig4", data_dir.path(), out.path())); }),
                 "mnist-lstm-core-e1-s1/metrics.csv: line 3 has no test error in [0, 1]"));
  ExperimentConfig unknown = quick("fig9", data_dir.path(), out.path());
  CHECK_THROWS_WITH_AS(run_experiment(unknown), doctest::Contains("unknown experiment 'fig9'"), std::invalid_argument);
}
