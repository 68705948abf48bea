// ram_tables.cpp: the RAM paper's tables (Mnih, Heess, Graves, Kavukcuoglu,
// "Recurrent Models of Visual Attention", 2014, tables 1 and 2): test error
// against the number of glimpses on 28x28 MNIST, 60x60 translated and
// cluttered MNIST (with the 8-random-glimpses control) and 100x100 cluttered
// MNIST, beside ours. Every run trains for the same time budget and is
// scored as `ram train` scores it: the test error of the epoch with the
// lowest validation error.
//
// Every run lives in DIR/runs/<table>-<row>-s<seed>; a finished run is
// reused and an interrupted one resumes (experiment_runs.h).
#include "tools/ram_tables.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tools/experiment_runs.h"
#include "tools/plot.h"
#include "tools/report.h"
#include "train/atomic_file.h"
#include "train/settings.h"

namespace fs = std::filesystem;

namespace {

// One table of the paper: a data set and the sensor the paper used on it.
struct PaperTable {
  const char* name;     // in run names and CSV rows
  const char* title;    // in headings and plots
  const char* dataset;  // --dataset
  int canvas;           // --canvas of translated and cluttered MNIST; 0: 28x28 MNIST
  int patch, scales;    // the retina: P x P, K scales
  // Pixels from the centre to a location of 1: canvas / 2, so that (-1, -1)
  // is the image's corner as in the RAM paper; 28x28 keeps the Torch code's 13.
  double unit_pixels;
  const char* source;   // the version of the paper whose numbers the table quotes
};

const PaperTable kMnist28{"mnist28", "28x28 MNIST", "mnist", 0, 8, 1, 13, "RAM paper, NIPS 2014"};
const PaperTable kTranslated60{"translated60", "60x60 translated MNIST", "translated-mnist", 60, 12, 3, 30,
                               "RAM paper, NIPS 2014"};
const PaperTable kCluttered60{"cluttered60", "60x60 cluttered MNIST", "cluttered-mnist", 60, 12, 3, 30,
                              "RAM paper, NIPS 2014"};
const PaperTable kCluttered100{"cluttered100", "100x100 cluttered MNIST", "cluttered-mnist", 100, 12, 4, 50,
                               "RAM paper, arXiv 1406.6247"};
const PaperTable* const kPaperTables[] = {&kMnist28, &kTranslated60, &kCluttered60, &kCluttered100};

// One row of a table: a glimpse count, or the random-glimpse control.
struct PaperRow {
  const PaperTable* table;
  const char* name;    // in run names and CSV rows: g7, random-g8
  int glimpses;
  double paper_error;  // the paper's test error, a fraction
  bool headline;       // the table's headline row: 3 seeds, other rows 1
  bool random;         // --locations random
};

const std::vector<PaperRow>& paper_rows() {
  static const std::vector<PaperRow> rows = {
      {&kMnist28, "g2", 2, 0.0379, false, false},        {&kMnist28, "g3", 3, 0.0151, false, false},
      {&kMnist28, "g4", 4, 0.0154, false, false},        {&kMnist28, "g5", 5, 0.0134, false, false},
      {&kMnist28, "g6", 6, 0.0112, false, false},        {&kMnist28, "g7", 7, 0.0107, true, false},
      {&kTranslated60, "g4", 4, 0.0154, false, false},   {&kTranslated60, "g6", 6, 0.0122, false, false},
      {&kTranslated60, "g8", 8, 0.0120, true, false},    {&kCluttered60, "g4", 4, 0.0496, false, false},
      {&kCluttered60, "g6", 6, 0.0408, false, false},    {&kCluttered60, "g8", 8, 0.0404, true, false},
      {&kCluttered60, "random-g8", 8, 0.144, true, true}, {&kCluttered100, "g4", 4, 0.1495, false, false},
      {&kCluttered100, "g6", 6, 0.1158, false, false},   {&kCluttered100, "g8", 8, 0.1083, true, false},
  };
  return rows;
}

// The experiment's own defaults: Adam at half its usual rate (which trains
// 28x28 MNIST steadily, docs/results/mnist-60min.md), decaying over 300
// epochs, each run cut off at 15 minutes.
constexpr double kTablesLr = 0.0005;
constexpr int kTablesEpochs = 300;
constexpr double kTablesMinutes = 15;

int row_seeds(const PaperRow& row, int asked) { return std::max(row.headline ? 3 : 1, asked); }

// The settings of one run: what the runs share, then the row's data set,
// sensor and glimpse count, then the defaults that follow them.
TrainConfig table_run_config(const ExperimentConfig& e, const PaperRow& row, int seed) {
  const PaperTable& t = *row.table;
  TrainConfig c = e.base;
  std::set<std::string> given = e.given;
  for (const Setting& s : settings_table())
    if (s.flag && (s.traits & kPerRun)) given.erase(s.flag);
  c.dataset = t.dataset;
  // Translated and cluttered MNIST are made from MNIST's files: their own
  // directory when given, else MNIST's.
  for (const std::string name : {t.dataset, "mnist"}) {
    const auto dir = e.data_dirs.find(name);
    if (dir == e.data_dirs.end()) continue;
    c.data_dir = dir->second;
    given.insert("--data");
    break;
  }
  if (t.canvas) c.placement.canvas = t.canvas;
  c.model.glimpses = row.glimpses;
  c.model.patch = t.patch;
  c.model.scales = t.scales;
  c.model.unit_pixels = t.unit_pixels;
  c.model.locations = row.random ? LocationSource::random : LocationSource::policy;
  if (!given.count("--lr") && c.optimizer.kind == OptimizerKind::adam) {
    c.optimizer.lr = kTablesLr;
    given.insert("--lr");
  }
  c.epochs = e.epochs > 0 ? e.epochs : kTablesEpochs;
  c.seed = static_cast<uint64_t>(seed);
  c.max_minutes = e.minutes > 0 ? e.minutes : kTablesMinutes;
  derive_defaults(c, given);
  c.out_dir = e.out_dir + "/runs/" + t.name + "-" + row.name + "-s" + std::to_string(seed);
  return c;
}

struct TableRun {
  const PaperRow* row;
  int seed;
  TrainConfig config;
};

// Every run, seed by seed (so that an interrupted experiment has whole seeds
// done), table by table within a seed.
std::vector<TableRun> table_runs(const ExperimentConfig& e) {
  for (const char* flag : {"--glimpses", "--patch", "--scales", "--unit-pixels"})
    if (e.given.count(flag))
      throw std::invalid_argument(std::string(flag) + ": set by ram-tables for each of its rows (the paper's sensor)");
  if (!e.datasets.empty()) throw std::invalid_argument("--datasets: ram-tables' tables choose their data sets");
  int most = 1;
  for (const PaperRow& row : paper_rows()) most = std::max(most, row_seeds(row, e.seeds));
  std::vector<TableRun> runs;
  for (int seed = 1; seed <= most; ++seed)
    for (const PaperRow& row : paper_rows())
      if (seed <= row_seeds(row, e.seeds)) runs.push_back({&row, seed, table_run_config(e, row, seed)});
  return runs;
}

// What a run gave, or why it gave nothing yet.
struct RunOutcome {
  bool finished = false;
  std::string status;      // "missing" or "unfinished ..." when not finished
  double test_error = 0;   // at the best validation epoch
  int epochs = 0, best_epoch = 0;
  double minutes = 0;      // wall time: training and per-epoch evaluation
};

RunOutcome collect_run(const TrainConfig& c) {
  RunOutcome o;
  if (!fs::exists(c.out_dir + "/last.bin")) {
    o.status = "missing";
    return o;
  }
  const Checkpoint saved = load_same_run(c);
  o.epochs = saved.state.epochs_done;
  o.best_epoch = saved.state.best_epoch;
  o.minutes = saved.state.seconds / 60;
  o.finished = run_finished(saved, c);
  if (!o.finished) {
    char s[96];
    std::snprintf(s, sizeof s, "unfinished (epoch %d, %.1f of %g minutes)", o.epochs, o.minutes, c.max_minutes);
    o.status = s;
    return o;
  }
  o.test_error = 1 - test_accuracy(c.out_dir, o.best_epoch)[o.best_epoch - 1];
  return o;
}

// DIR/ram-tables-runs/RUN.csv: a finished run's metrics.csv, every epoch,
// copied beside the tables so that they can be kept with the page (the runs'
// directories hold checkpoints too large to keep).
void copy_run_metrics(const std::string& dir, const TrainConfig& c) {
  const std::string from = c.out_dir + "/metrics.csv";
  std::ifstream in(from, std::ios::binary);
  if (!in) throw std::runtime_error(from + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  fs::create_directories(dir + "/ram-tables-runs");
  write_file_atomically(dir + "/ram-tables-runs/" + fs::path(c.out_dir).filename().string() + ".csv", text.str());
}

// A row's runs, seed s at index s - 1.
struct RowOutcome {
  const PaperRow* row;
  std::vector<const TableRun*> runs;
  std::vector<RunOutcome> outcomes;
  std::vector<double> errors() const {
    std::vector<double> v;
    for (const RunOutcome& o : outcomes)
      if (o.finished) v.push_back(o.test_error);
    return v;
  }
};

std::string number_cell(const char* format, double v) {
  char s[32];
  std::snprintf(s, sizeof s, format, v);
  return s;
}

// DIR/ram-tables.csv: a line per row: the paper's error, our mean, min and
// max over the finished seeds, their difference from the paper's, then per
// seed its test error, epochs run, best epoch and wall minutes (empty where
// the run is not finished).
void write_tables_csv(const std::string& path, const std::vector<RowOutcome>& rows, int seeds) {
  std::ostringstream out;
  out << "table,row,glimpses,paper_error,runs,mean,min,max,gap";
  for (const char* group : {"seed_", "epochs_", "best_epoch_", "minutes_"})
    for (int s = 1; s <= seeds; ++s) out << "," << group << s;
  out << "\n";
  for (const RowOutcome& r : rows) {
    const std::vector<double> e = r.errors();
    out << r.row->table->name << "," << r.row->name << "," << r.row->glimpses << ","
        << number_cell("%.6g", r.row->paper_error) << "," << e.size();
    if (e.empty()) {
      out << ",,,,";
    } else {
      double mean = 0;
      for (double v : e) mean += v / e.size();
      for (double v : {mean, *std::min_element(e.begin(), e.end()), *std::max_element(e.begin(), e.end()),
                       mean - r.row->paper_error})
        out << "," << number_cell("%.6g", v);
    }
    for (int group = 0; group < 4; ++group)
      for (int s = 0; s < seeds; ++s) {
        out << ",";
        if (s >= static_cast<int>(r.outcomes.size()) || !r.outcomes[s].finished) continue;
        const RunOutcome& o = r.outcomes[s];
        out << (group == 0   ? number_cell("%.6g", o.test_error)
                : group == 1 ? std::to_string(o.epochs)
                : group == 2 ? std::to_string(o.best_epoch)
                             : number_cell("%.2f", o.minutes));
      }
    out << "\n";
  }
  write_file_atomically(path, out.str());
}

// DIR/ram-tables-TABLE.png: test error (%) per glimpse count, ours (mean,
// band: range over seeds) and the paper's; the random-glimpse control as
// points of its own.
void draw_table(const std::string& path, const PaperTable& t, const std::vector<RowOutcome>& rows,
                const std::string& subtitle) {
  PlotSeries ours{"ours", {}, {}, {}, {}}, paper{"RAM paper", {}, {}, {}, {}};
  PlotSeries ours_random{"ours, random glimpses", {}, {}, {}, {}},
      paper_random{"RAM paper, random glimpses", {}, {}, {}, {}};
  for (const RowOutcome& r : rows) {
    if (r.row->table != &t) continue;
    PlotSeries& mine = r.row->random ? ours_random : ours;
    PlotSeries& theirs = r.row->random ? paper_random : paper;
    theirs.x.push_back(r.row->glimpses);
    theirs.y.push_back(100 * r.row->paper_error);
    const std::vector<double> e = r.errors();
    if (e.empty()) continue;
    double mean = 0;
    for (double v : e) mean += 100 * v / e.size();
    mine.x.push_back(r.row->glimpses);
    mine.y.push_back(mean);
    mine.low.push_back(100 * *std::min_element(e.begin(), e.end()));
    mine.high.push_back(100 * *std::max_element(e.begin(), e.end()));
  }
  // A band only where some point has more than one seed to spread over.
  for (PlotSeries* s : {&ours, &ours_random})
    if (std::equal(s->low.begin(), s->low.end(), s->high.begin())) s->low.clear(), s->high.clear();
  Plot plot;
  plot.title = std::string(t.title) + ": test error by number of glimpses";
  plot.subtitle = subtitle;
  plot.x_label = "glimpses";
  plot.y_label = "test error, %";
  plot.y_lo = 0;
  // Ours beside the paper's whenever the paper has the row, so that the
  // colours mean the same in every plot.
  for (auto [mine, theirs] : {std::pair<PlotSeries*, PlotSeries*>{&ours, &paper}, {&ours_random, &paper_random}}) {
    if (theirs->x.empty()) continue;
    if (mine->x.empty()) mine->label += " (no run finished)";
    for (const PlotSeries* s : {mine, theirs}) {
      plot.series.push_back(*s);
      for (double v : s->high.empty() ? s->y : s->high) plot.y_hi = std::max(plot.y_hi, 1.1 * v);
    }
  }
  draw_plot(plot).save_png(path);
}

// `ram train` and the settings a run must be given: those whose value is
// not their default, derived or not (--decay-epochs is left out when it is
// --epochs), then --out.
std::string train_command(const TrainConfig& c) {
  static const TrainConfig defaults = settings_from_flags(Flags(0, nullptr, 0, {}, {}));
  std::string line = "ram train";
  for (const Setting& s : settings_table()) {
    if (!s.flag) continue;
    const std::string value = setting_text(s, c);
    std::string fallback = setting_text(s, defaults);
    if (s.derive) {
      TrainConfig derived = c;
      s.derive(derived);
      fallback = setting_text(s, derived);
    }
    if (value == fallback) continue;
    line += " " + std::string(s.flag) + (s.value ? " " + value : "");
  }
  return line + " --out " + c.out_dir;
}

// A number of the page, from the CSV: a `ram report` marker whose value
// report_page fills in.
std::string from_csv(const PaperRow& row, const std::string& value, const char* format) {
  return "<!--csv ram-tables.csv table=" + std::string(row.table->name) + ",row=" + row.name + " " + value + " " +
         format + "--><!--/csv-->";
}

// DIR/ram-tables.md: the setup, a table per paper table with its plot, and
// every run with its command; every number of a run from the CSV, through
// `ram report` markers.
void write_tables_page(const std::string& dir, const std::vector<RowOutcome>& rows, const TrainConfig& shared,
                       int seeds_most) {
  std::ostringstream md;
  const OptimizerConfig& o = shared.optimizer;
  md << "# The RAM paper's tables, measured\n\n"
     << "Test error against the number of glimpses, as the RAM paper reports it (Mnih, Heess, Graves,\n"
     << "Kavukcuoglu, \"Recurrent Models of Visual Attention\", 2014) and as `ram` trains it here in\n"
     << shared.max_minutes << " minutes per run. Written by `ram experiment ram-tables` with ram-tables.csv\n"
     << "and one plot per table; every number of ours sits between `ram report` markers, which\n"
     << "`ram report --check` compares with the CSV.\n\n"
     << "## Setup\n\n"
     << "| | the RAM paper | ours |\n|---|---|---|\n"
     << "| training | SGD with momentum; the learning rate and the policy's variance chosen by random search; "
        "no time budget stated | "
     << (o.kind == OptimizerKind::adam ? "Adam" : "SGD") << ", learning rate " << o.lr
     << " decaying linearly to " << o.min_lr << " over " << o.decay_epochs << " epochs, batch " << shared.batch
     << ", sigma " << shared.model.sigma << ", " << core_name(shared.model.core) << " core, REINFORCE "
     << (shared.loss.reinforce_into_core ? "into the core (Torch)" : "stopped at the core") << "; each run stops "
     << "after the epoch that passes " << shared.max_minutes << " minutes (or after " << shared.epochs
     << " epochs) |\n"
     << "| score | test error, early stopping on validation (Torch code) | test error of the epoch with the lowest "
        "validation error (what `ram train` prints) |\n"
     << "| seeds | one number per row (how many runs, not stated) | 3 for each table's headline row (7 glimpses on 28x28, 8 elsewhere), "
     << "1 for the others" << (seeds_most > 3 ? " (raised by --seeds)" : "") << "; mean, and the range over seeds |\n"
     << "| random glimpses | 8 glimpses at random places, the policy unused | `--locations random`: each glimpse "
        "uniform in [-1, 1]^2, no REINFORCE or baseline term; evaluated at random places fixed by the seed |\n\n"
     << "| table | data | retina | pixels from the centre to location 1 | the paper's numbers |\n"
     << "|---|---|---|---|---|\n";
  for (const PaperTable* t : kPaperTables) {
    const TrainConfig& c = [&]() -> const TrainConfig& {
      for (const RowOutcome& r : rows)
        if (r.row->table == t) return r.runs.front()->config;
      throw std::logic_error("ram-tables: a table without rows");
    }();
    md << "| " << t->name << " | `--dataset " << t->dataset;
    if (t->canvas) md << " --canvas " << t->canvas << " --clutter " << c.placement.clutter;
    md << "` | " << t->patch << "x" << t->patch << ", " << t->scales << " scale" << (t->scales > 1 ? "s" : "")
       << " | " << t->unit_pixels << " | " << t->source << " |\n";
  }
  md << "\nThe paper's NIPS and arXiv versions differ: the arXiv version gives 6.27 / 1.73 / 1.29 % for 2 / 4 / 6 "
        "glimpses on 28x28 MNIST.\n";

  for (const PaperTable* t : kPaperTables) {
    md << "\n## " << t->title << ", " << t->patch << "x" << t->patch << " retina, " << t->scales << " scale"
       << (t->scales > 1 ? "s" : "") << "\n\n"
       << "![" << t->name << "](ram-tables-" << t->name << ".png)\n\n"
       << "| glimpses | RAM paper, % | ours, %: mean | min | max | seeds finished | ours - paper, points |\n"
       << "|---|---|---|---|---|---|---|\n";
    for (const RowOutcome& r : rows) {
      if (r.row->table != t) continue;
      const PaperRow& row = *r.row;
      md << "| " << (row.random ? "8 random" : std::to_string(row.glimpses)) << " | "
         << from_csv(row, "paper_error", "pct:%.2f") << " | ";
      if (r.errors().empty()) {
        md << "not finished | | | 0 of " << r.outcomes.size() << " | |\n";
        continue;
      }
      md << from_csv(row, "mean", "pct:%.2f") << " | " << from_csv(row, "min", "pct:%.2f") << " | "
         << from_csv(row, "max", "pct:%.2f") << " | " << from_csv(row, "runs", "%.0f") << " of " << r.outcomes.size()
         << " | " << from_csv(row, "gap", "pct:%+.2f") << " |\n";
    }
  }

  md << "\n## Runs\n\n"
     << "Each run's directory holds its command.txt (the command that trained it and every setting), "
        "metrics.csv (every epoch) and its checkpoints; the metrics of every finished run are copied to "
        "ram-tables-runs/RUN.csv (the run's name links to it).\n\n"
     << "| run | test error, % | epochs | best epoch | minutes | command |\n|---|---|---|---|---|---|\n";
  for (const RowOutcome& r : rows)
    for (std::size_t k = 0; k < r.runs.size(); ++k) {
      const TableRun& run = *r.runs[k];
      const RunOutcome& o = r.outcomes[k];
      const std::string seed = std::to_string(run.seed);
      const std::string name = fs::path(run.config.out_dir).filename().string();
      if (o.finished)
        md << "| [" << name << "](ram-tables-runs/" << name << ".csv) | ";
      else
        md << "| " << name << " | ";
      if (o.finished)
        md << from_csv(*r.row, "seed_" + seed, "pct:%.2f") << " | " << from_csv(*r.row, "epochs_" + seed, "%.0f")
           << " | " << from_csv(*r.row, "best_epoch_" + seed, "%.0f") << " | "
           << from_csv(*r.row, "minutes_" + seed, "%.1f");
      else
        md << o.status << " | | |";
      md << " | `" << train_command(run.config) << "` |\n";
    }
  const std::string path = dir + "/ram-tables.md";
  std::vector<ReportIssue> issues;
  const std::string page = report_page(dir, path, md.str(), issues);
  for (const ReportIssue& issue : issues)
    if (!issue.rewritable) throw std::logic_error("ram-tables.md: line " + std::to_string(issue.line) + ": " + issue.message);
  write_file_atomically(path, page);
}

}  // namespace

void ram_tables_experiment(const ExperimentConfig& e) {
  const std::vector<TableRun> runs = table_runs(e);
  if (e.print_commands) {
    std::vector<Run> listed;
    for (const TableRun& run : runs) listed.push_back({run.config, run.config.out_dir});
    print_run_commands(e, listed);
    return;
  }
  std::vector<RowOutcome> rows;
  for (const PaperRow& row : paper_rows()) rows.push_back({&row, {}, {}});
  const int total = static_cast<int>(runs.size());
  int index = 0, missing = 0;
  for (const TableRun& run : runs) {
    RowOutcome& r = rows[run.row - paper_rows().data()];
    const std::string what = std::string("ram-tables ") + run.row->table->name + " " + run.row->name + " seed " +
                             std::to_string(run.seed);
    ++index;
    if (!e.collect_only) ensure_run(Run{run.config, what}, index, total);
    r.runs.push_back(&run);
    r.outcomes.push_back(collect_run(run.config));
    if (r.outcomes.back().finished) copy_run_metrics(e.out_dir, run.config);
    if (!r.outcomes.back().finished) {
      ++missing;
      std::printf("[%d/%d] %s: %s: %s\n", index, total, what.c_str(), run.config.out_dir.c_str(),
                  r.outcomes.back().status.c_str());
    }
  }
  int seeds_most = 0;
  for (const RowOutcome& r : rows) seeds_most = std::max(seeds_most, static_cast<int>(r.runs.size()));
  const TrainConfig& shared = runs.front().config;
  write_tables_csv(e.out_dir + "/ram-tables.csv", rows, seeds_most);
  char subtitle[160];
  std::snprintf(subtitle, sizeof subtitle, "ours: %s lr %g, batch %d, %g minutes per run (mean, band: range over seeds)",
                shared.optimizer.kind == OptimizerKind::adam ? "Adam" : "SGD", shared.optimizer.lr, shared.batch,
                shared.max_minutes);
  for (const PaperTable* t : kPaperTables) draw_table(e.out_dir + "/ram-tables-" + t->name + ".png", *t, rows, subtitle);
  write_tables_page(e.out_dir, rows, shared, seeds_most);
  std::printf("wrote %s/ram-tables.csv, ram-tables.md and a PNG per table\n", e.out_dir.c_str());
  for (const RowOutcome& r : rows) {
    const std::vector<double> v = r.errors();
    std::printf("ram-tables %s %s: paper %.2f %%, ours ", r.row->table->name, r.row->name, 100 * r.row->paper_error);
    if (v.empty()) {
      std::printf("not finished\n");
      continue;
    }
    double mean = 0;
    for (double x : v) mean += x / v.size();
    std::printf("%.2f %% (%zu of %zu seeds)\n", 100 * mean, v.size(), r.outcomes.size());
  }
  if (missing) std::printf("ram-tables: %d of %d runs not finished\n", missing, total);
}

std::vector<TrainConfig> ram_tables_runs(const ExperimentConfig& config) {
  std::vector<TrainConfig> configs;
  for (const TableRun& run : table_runs(config)) configs.push_back(run.config);
  return configs;
}
