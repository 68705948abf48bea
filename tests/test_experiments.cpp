// test_experiments.cpp: the pictures and the experiments behind them: the
// font draws the glyphs it was given, plot ticks are round numbers, a plot
// shows its series' colours, the per-glimpse measures agree with the
// evaluator, every experiment's quick mode (1 epoch, 1 seed) writes its CSV
// and PNG, reusing finished runs and refusing runs made otherwise, and
// ram-tables lists the RAM tables' runs and tabulates what is finished.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

#include "kernels/thread_pool.h"
#include "test_files.h"
#include "tools/canvas.h"
#include "tools/experiment_runs.h"
#include "tools/experiments.h"
#include "tools/ram_tables.h"
#include "tools/plot.h"
#include "tools/report.h"
#include "train/checkpoint.h"
#include "train/settings.h"

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

// The test error of the epoch with the lowest validation error: the row of
// metrics.csv (test_error is its 8th column) of last.bin's best epoch.
double test_error_at_best(const std::string& run_dir) {
  const int best = load_checkpoint(run_dir + "/last.bin").state.best_epoch;
  std::stringstream row(lines_of(run_dir + "/metrics.csv").at(best));
  std::string cell;
  for (int column = 0; column < 8; ++column) std::getline(row, cell, ',');
  return std::stod(cell);
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

TEST_CASE("plot: columns of CSV files as lines, and the files' faults named") {
  TempDir dir;
  std::ofstream(dir.file("a.csv")) << "epoch,test_error,seconds\n1,0.5,30\n2,0.25,90\n";
  std::ofstream(dir.file("b.csv")) << "epoch,seconds,test_error\n1,60,0.125\n";
  CsvPlotRequest r;
  r.curves = {{dir.file("a.csv"), "first"}, {dir.file("b.csv"), "second"}};
  r.percent = true;
  Plot p = csv_plot(r);
  REQUIRE(p.series.size() == 2);
  CHECK(p.series[0].label == "first");
  CHECK(p.series[0].x == std::vector<double>{1, 2});
  CHECK(p.series[0].y == std::vector<double>{50, 25});
  CHECK(p.series[1].y == std::vector<double>{12.5});  // the column found by its name, wherever it stands
  CHECK(p.title == "test_error against epoch");
  r.x = "minutes";  // the seconds column over 60
  r.percent = false;
  p = csv_plot(r);
  CHECK(p.series[0].x == std::vector<double>{0.5, 1.5});
  CHECK(p.series[0].y == std::vector<double>{0.5, 0.25});
  r.y = "valid_error";
  CHECK_THROWS_WITH_AS(csv_plot(r), doctest::Contains("a.csv: no column 'valid_error'"), std::runtime_error);
  r.y = "test_error";
  std::ofstream(dir.file("b.csv")) << "epoch,seconds,test_error\n1,60,nan?\n";
  CHECK_THROWS_WITH_AS(csv_plot(r), doctest::Contains("b.csv: column 'test_error' holds 'nan?'"), std::runtime_error);
  std::ofstream(dir.file("b.csv")) << "epoch,seconds,test_error\n1,60\n";
  CHECK_THROWS_WITH_AS(csv_plot(r), doctest::Contains("b.csv: line 2 has 2 cells, the header 3"), std::runtime_error);
  r.curves.push_back({dir.file("none.csv"), "none"});
  r.curves.erase(r.curves.begin() + 1);
  CHECK_THROWS_WITH_AS(csv_plot(r), doctest::Contains("none.csv: cannot open"), std::runtime_error);
}

TEST_CASE("test_accuracy: a run's accuracy per epoch, and a damaged metrics.csv named") {
  TempDir run;
  std::ofstream(run.file("metrics.csv")) << "epoch,test_error\n1,0.25\n2,0.125\n";
  CHECK(test_accuracy(run.path(), 2) == std::vector<double>{0.75, 0.875});
  CHECK(test_accuracy(run.path(), 1) == std::vector<double>{0.75});
  CHECK_THROWS_WITH_AS(test_accuracy(run.path(), 3), doctest::Contains("metrics.csv: 2 epochs, expected 3"),
                       std::runtime_error);
  std::ofstream(run.file("metrics.csv")) << "epoch,test_error\n1,0.25\n2,1.5\n";
  CHECK_THROWS_WITH_AS(test_accuracy(run.path(), 2),
                       doctest::Contains("metrics.csv: line 3 has a test error outside [0, 1]"), std::runtime_error);
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
  const Evaluation eval = evaluate(params, c.model, data.test, pool, 1);
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
                 "mnist-lstm-core-e1-s1/metrics.csv: line 3 has 3 cells, the header 9"));
  ExperimentConfig unknown = quick("fig9", data_dir.path(), out.path());
  CHECK_THROWS_WITH_AS(run_experiment(unknown), doctest::Contains("unknown experiment 'fig9'"), std::invalid_argument);
}

TEST_CASE("ram-tables: its runs are the RAM tables' settings, as `ram train` reads them") {
  ExperimentConfig e;
  e.name = "ram-tables";
  e.out_dir = "sweep";
  const char* none[] = {"ram"};
  e.base = settings_from_flags(Flags(1, none, 1, {}, {}));
  const std::vector<TrainConfig> runs = ram_tables_runs(e);
  // 16 rows; the 5 headline rows (28x28 with 7 glimpses, every 8-glimpse row,
  // the random control included) with 3 seeds.
  REQUIRE(runs.size() == 16 + 5 * 2);
  std::set<std::string> names;
  for (const TrainConfig& c : runs) names.insert(c.out_dir);
  CHECK(names.size() == runs.size());
  // Each is the run these words make (docs/results/ram-tables.md lists them
  // all), so that a run trained from the words is reused.
  const std::map<std::string, std::string> commands = {
      {"mnist28-g2-s1", "--dataset mnist --glimpses 2 --seed 1"},
      {"mnist28-g7-s3", "--dataset mnist --glimpses 7 --seed 3"},
      {"translated60-g8-s2",
       "--dataset translated-mnist --canvas 60 --patch 12 --scales 3 --unit-pixels 30 --glimpses 8 --seed 2"},
      {"cluttered60-g4-s1",
       "--dataset cluttered-mnist --canvas 60 --patch 12 --scales 3 --unit-pixels 30 --glimpses 4 --seed 1"},
      {"cluttered60-random-g8-s3", "--dataset cluttered-mnist --canvas 60 --patch 12 --scales 3 --unit-pixels 30 "
                                   "--glimpses 8 --seed 3 --locations random"},
      {"cluttered100-g6-s1",
       "--dataset cluttered-mnist --canvas 100 --patch 12 --scales 4 --unit-pixels 50 --glimpses 6 --seed 1"},
  };
  for (const auto& [name, words] : commands) {
    CAPTURE(name);
    const std::string line = "--out sweep/runs/" + name +
                             " --data data/mnist --threads 2 --lr 0.0005 --epochs 300 --max-minutes 15 " + words;
    std::vector<std::string> argv_words = {"ram"};
    std::istringstream split(line);
    for (std::string word; split >> word;) argv_words.push_back(word);
    std::vector<const char*> argv;
    for (const std::string& w : argv_words) argv.push_back(w.c_str());
    std::set<std::string> valued = setting_flags();
    valued.insert("--out");
    const Flags f(static_cast<int>(argv.size()), argv.data(), 1, valued, setting_switches());
    const TrainConfig wanted = settings_from_flags(f);
    const auto run = std::find_if(runs.begin(), runs.end(),
                                  [&](const TrainConfig& c) { return c.out_dir == "sweep/runs/" + name; });
    REQUIRE(run != runs.end());
    CHECK(identity_difference(*run, wanted) == "");
    CHECK(run->epochs == 300);
    CHECK(run->max_minutes == 15);
  }
  // The cluttered tables' clutter follows the canvas: 4 pieces on 60x60, 8 on 100x100.
  for (const TrainConfig& c : runs)
    if (c.dataset == "cluttered-mnist") CHECK(c.placement.clutter == (c.placement.canvas == 100 ? 8 : 4));
  // --seeds 4 raises every row to 4; the rows' settings are the experiment's to set.
  e.seeds = 4;
  CHECK(ram_tables_runs(e).size() == 16 * 4);
  e.given = {"--patch"};
  CHECK_THROWS_WITH_AS(ram_tables_runs(e), doctest::Contains("--patch: set by ram-tables"), std::invalid_argument);
}

TEST_CASE("ram-tables: --collect-only tabulates the finished runs, names the others, and the page checks") {
  TempDir data_dir;
  write_fake_mnist(data_dir, 10050, 40, 10050);
  TempDir out;
  ExperimentConfig e = quick("ram-tables", data_dir.path(), out.path());
  e.datasets.clear();
  e.epochs = 2;
  e.minutes = 1000;
  e.collect_only = true;
  // Three of the 28x28 runs: g2 and g7 seed 1 finished, g7 seed 2 one epoch short.
  for (TrainConfig c : ram_tables_runs(e)) {
    const std::string name = std::filesystem::path(c.out_dir).filename().string();
    if (name == "mnist28-g7-s2") c.epochs = 1;
    if (name == "mnist28-g2-s1" || name == "mnist28-g7-s1" || name == "mnist28-g7-s2") train(c, false, "test");
  }
  run_experiment(e);
  // Nothing trained: only the three runs are there.
  int runs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(out.file("runs"))) runs += entry.is_directory();
  CHECK(runs == 3);

  const std::vector<std::string> csv = lines_of(out.file("ram-tables.csv"));
  REQUIRE(csv.size() == 1 + 16);
  CHECK(csv[0] ==
        "table,row,glimpses,paper_error,runs,mean,min,max,gap,seed_1,seed_2,seed_3,epochs_1,epochs_2,epochs_3,"
        "best_epoch_1,best_epoch_2,best_epoch_3,minutes_1,minutes_2,minutes_3");
  // The test error of the best validation epoch, from the run's metrics.csv.
  const double g2 = test_error_at_best(out.file("runs/mnist28-g2-s1"));
  std::ostringstream g2_line;
  g2_line << "mnist28,g2,2,0.0379,1," << g2 << "," << g2 << "," << g2 << "," << g2 - 0.0379 << "," << g2 << ",,,2,,,";
  CHECK(csv[1].rfind(g2_line.str(), 0) == 0);
  CHECK(csv[6].rfind("mnist28,g7,7,0.0107,1,", 0) == 0);  // seed 2 is not finished
  CHECK(csv[2] == "mnist28,g3,3,0.0151,0,,,,,,,,,,,,,,,,");
  CHECK(csv[13].rfind("cluttered60,random-g8,8,0.144,0,", 0) == 0);
  // The page: the unfinished and missing runs named, every number as the CSV gives it.
  const std::vector<std::string> page = lines_of(out.file("ram-tables.md"));
  const auto has = [&](const std::string& text) {
    return std::any_of(page.begin(), page.end(), [&](const std::string& l) { return contains(l, text); });
  };
  CHECK(has("| mnist28-g7-s2 | unfinished (epoch 1, "));
  // A finished run's metrics are copied beside the page, which links them.
  CHECK(has("| [mnist28-g2-s1](ram-tables-runs/mnist28-g2-s1.csv) | "));
  CHECK(lines_of(out.file("ram-tables-runs/mnist28-g2-s1.csv")) == lines_of(out.file("runs/mnist28-g2-s1/metrics.csv")));
  CHECK(!std::filesystem::exists(out.file("ram-tables-runs/mnist28-g7-s2.csv")));
  CHECK(has("| cluttered100-g8-s3 | missing |"));
  CHECK(has("--dataset cluttered-mnist --canvas 100 --clutter 8"));
  CHECK(run_report(out.path(), {out.file("ram-tables.md")}, false).empty());
  for (const char* table : {"mnist28", "translated60", "cluttered60", "cluttered100"}) {
    CAPTURE(table);
    CHECK(png_size(out.file(std::string("ram-tables-") + table + ".png")).first > 600);
  }
  // A run made otherwise is refused, naming it and the setting.
  ExperimentConfig other = e;
  other.base.optimizer.lr = 0.002;
  other.given = {"--lr"};
  const std::string refused = error_of([&] { run_experiment(other); });
  CHECK(contains(refused, "mnist28-g2-s1: holds a run with other settings"));
  CHECK(contains(refused, "--lr 0.0005 there, 0.002 asked"));
  // A run stopped by its time limit is finished: mnist28-g3-s1, trained with
  // a budget of 6e-8 seconds, stops after its first epoch however fast the
  // machine is; it counts under that budget, not under the 1000 minutes of
  // the others.
  ExperimentConfig short_budget = e;
  short_budget.minutes = 1e-9;
  for (TrainConfig c : ram_tables_runs(short_budget))
    if (std::filesystem::path(c.out_dir).filename() == "mnist28-g3-s1") train(c, false, "test");
  run_experiment(e);
  CHECK(lines_of(out.file("ram-tables.csv"))[2].rfind("mnist28,g3,3,0.0151,0,", 0) == 0);
  run_experiment(short_budget);
  CHECK(lines_of(out.file("ram-tables.csv"))[2].rfind("mnist28,g3,3,0.0151,1,", 0) == 0);
  // Only ram-tables collects, or takes a budget in minutes.
  ExperimentConfig fig2 = quick("fig2", data_dir.path(), out.path());
  fig2.collect_only = true;
  CHECK_THROWS_WITH_AS(run_experiment(fig2), doctest::Contains("--collect-only: only ram-tables"), std::invalid_argument);
}
