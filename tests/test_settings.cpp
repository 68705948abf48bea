// test_settings.cpp: the settings table (train/settings.h) and what is made
// from it: the parser takes every flag's range and refuses what is outside
// it by name, the defaults are TrainConfig's and those that follow other
// settings follow them as before, command.txt's settings line parses back to
// the same settings, every saved setting survives a checkpoint (format 4),
// files of format 1 to 3 still load, and --resume and experiments' reuse
// read the table's traits.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "checkpoint_bytes.h"
#include "test_files.h"
#include "train/checkpoint.h"
#include "train/settings.h"

namespace {

template <class T>
bool holds(const Setting& s) {
  return std::holds_alternative<FieldOf<T>>(s.field);
}
bool whole_number(const Setting& s) { return holds<int>(s) || holds<uint64_t>(s); }

// `ram train` WORDS... as the command line reads it (the table's flags and
// --out), or the UsageError it throws.
TrainConfig parse(const std::vector<std::string>& words) {
  std::vector<const char*> argv;
  for (const std::string& w : words) argv.push_back(w.c_str());
  std::set<std::string> valued = setting_flags();
  valued.insert("--out");
  const Flags f(static_cast<int>(argv.size()), argv.data(), 0, valued, setting_switches());
  TrainConfig c = settings_from_flags(f);
  c.out_dir = f.text("--out", "");
  return c;
}
std::string parse_error(const std::vector<std::string>& words) {
  return error_of([&] { parse(words); });
}

std::string exact(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

// A value of the setting other than its value in c, within what it accepts.
std::string other_value(const Setting& s, const TrainConfig& c) {
  const std::string now = setting_text(s, c);
  const Accepts& a = s.accepts;
  if (!a.choices.empty()) {
    // The next name in the list ("rnn, lstm": rnn -> lstm -> rnn).
    std::string list = a.choices + ", ";
    const std::size_t at = list.find(now + ", ");
    REQUIRE(at != std::string::npos);
    std::size_t next = at + now.size() + 2;
    if (next >= list.size()) next = 0;
    return list.substr(next, list.find(", ", next) - next);
  }
  if (holds<bool>(s)) return now == "1" ? "0" : "1";
  // A text a check of its own refuses as a path (the data fingerprint: 16
  // hex digits), or a path.
  if (holds<std::string>(s) && a.refuse) return now == "0123456789abcdef" ? "fedcba9876543210" : "0123456789abcdef";
  if (holds<std::string>(s)) return now + "/other dir's";
  if (whole_number(s)) {
    const long v = std::stol(now);
    return std::to_string(v + 1 <= static_cast<long>(a.hi) ? v + 1 : static_cast<long>(a.lo));
  }
  const double v = std::stod(now);
  return exact(v < a.hi ? (v + a.hi) / 2 : (v + a.lo) / 2);
}

// Every setting with a flag changed from its default, as `ram train` words.
std::vector<std::string> every_flag_changed(const TrainConfig& defaults) {
  std::vector<std::string> words;
  for (const Setting& s : settings_table()) {
    if (!s.flag) continue;
    const std::string value = other_value(s, defaults);
    if (!s.value) {
      if (value == "1") words.push_back(s.flag);
    } else {
      words.push_back(s.flag);
      words.push_back(value);
    }
  }
  return words;
}

// The words a line splits into when the shell reads it (sh itself prints
// them, one a line).
std::vector<std::string> shell_words(const std::string& line) {
  TempDir dir;
  const std::string script = dir.file("words.sh");
  {
    std::ofstream out(script);
    out << "printf '%s\\n' " << line << "\n";
  }
  std::FILE* pipe = popen(("sh " + script).c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char chunk[4096];
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) output.append(chunk, n);
  REQUIRE(pclose(pipe) == 0);
  std::vector<std::string> words;
  std::istringstream in(output);
  for (std::string word; std::getline(in, word);) words.push_back(word);
  return words;
}

// Every flag's setting agrees between a and b.
void check_same_flags(const TrainConfig& a, const TrainConfig& b) {
  for (const Setting& s : settings_table()) {
    if (!s.flag) continue;
    CAPTURE(s.flag);
    CHECK(setting_text(s, a) == setting_text(s, b));
  }
  CHECK(a.out_dir == b.out_dir);
}

std::vector<float> counting(std::size_t n, float scale) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = scale * static_cast<float>(i % 97);
  return v;
}

}  // namespace

TEST_CASE("settings: the table's defaults are TrainConfig's; no flags give them") {
  const TrainConfig defaults;
  const TrainConfig parsed = parse({});
  for (const Setting& s : settings_table()) {
    CAPTURE(s.name());
    if (s.derive) continue;
    TrainConfig from_table = defaults;
    REQUIRE(set_setting(s, from_table, s.fallback) == "");
    CHECK(setting_text(s, from_table) == setting_text(s, defaults));
    CHECK(setting_text(s, parsed) == setting_text(s, defaults));
  }
  // Flags and tags are unique; a switch is off by default.
  std::set<std::string> flags, tags;
  for (const Setting& s : settings_table()) {
    CAPTURE(s.name());
    if (s.flag) CHECK(flags.insert(s.flag).second);
    if (s.tag) CHECK(tags.insert(s.tag).second);
    if (s.flag && !s.value) CHECK(std::string(s.fallback) == "0");
  }
}

TEST_CASE("settings: defaults that follow other settings follow them as the command line always did") {
  const TrainConfig adam = parse({});
  CHECK(adam.optimizer.kind == OptimizerKind::adam);
  CHECK(adam.optimizer.lr == 0.001);
  CHECK(parse({"--optimizer", "sgd"}).optimizer.lr == 0.01);
  CHECK(parse({"--optimizer", "sgd", "--lr", "0.3"}).optimizer.lr == 0.3);
  CHECK(adam.optimizer.dampening == 0.9);
  CHECK(parse({"--momentum", "0.5"}).optimizer.dampening == 0.5);
  CHECK(parse({"--momentum", "0.5", "--dampening", "0"}).optimizer.dampening == 0);
  CHECK(adam.optimizer.decay_epochs == 100);
  CHECK(parse({"--epochs", "7"}).optimizer.decay_epochs == 7);
  CHECK(parse({"--epochs", "7", "--decay-epochs", "3"}).optimizer.decay_epochs == 3);
  CHECK(adam.reward.coef == 1);
  CHECK(parse({"--reward", "change"}).reward.coef == 1);
  CHECK(parse({"--reward", "lowstd"}).reward.coef == 0.01);
  CHECK(parse({"--reward", "lowstd", "--reward-coef", "2"}).reward.coef == 2);
  CHECK(adam.data_dir == default_data_dir("mnist"));
  CHECK(parse({"--dataset", "cifar10"}).data_dir == default_data_dir("cifar10"));
  CHECK(parse({"--dataset", "cifar10", "--data", "elsewhere"}).data_dir == "elsewhere");
  CHECK(adam.threads == default_threads());
  CHECK(parse({"--threads", "3"}).threads == 3);
}

TEST_CASE("settings: every flag refuses what is outside its range or choices, naming the flag") {
  int refused = 0;
  for (const Setting& s : settings_table()) {
    if (!s.flag) continue;
    CAPTURE(s.flag);
    const std::string flag = s.flag, named = flag + ": ";
    if (!s.value) {
      // A switch takes no value: a word after it is a stray argument.
      CHECK(setting_text(s, parse({flag})) == "1");
      CHECK(contains(parse_error({flag, "1"}), "unexpected argument '1'"));
      continue;
    }
    CHECK(parse_error({flag}) == named + "needs a value");
    const Accepts& a = s.accepts;
    if (!a.choices.empty()) {
      const std::string e = parse_error({flag, "bogus"});
      CHECK(e.rfind(named, 0) == 0);
      CHECK(contains(e, "'bogus'"));
      CHECK(contains(e, a.choices));
      ++refused;
    } else if (whole_number(s)) {
      const long lo = static_cast<long>(a.lo), hi = static_cast<long>(a.hi);
      const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
      CHECK(parse_error({flag, std::to_string(lo - 1)}) == named + std::to_string(lo - 1) + " is outside " + range);
      CHECK(parse_error({flag, std::to_string(hi + 1)}) == named + std::to_string(hi + 1) + " is outside " + range);
      CHECK(parse_error({flag, "2.5"}) == named + "'2.5' is not a whole number");
      // Both ends are accepted.
      CHECK(setting_text(s, parse({flag, std::to_string(lo)})) == std::to_string(lo));
      CHECK(setting_text(s, parse({flag, std::to_string(hi)})) == std::to_string(hi));
      ++refused;
    } else if (holds<double>(s)) {
      const std::string below = exact(a.lo - 1), above = exact(a.hi * 2 + 1);
      CHECK(parse_error({flag, below}).rfind(named + below + " is outside [", 0) == 0);
      CHECK(parse_error({flag, above}).rfind(named + above + " is outside [", 0) == 0);
      CHECK(parse_error({flag, "x1"}) == named + "'x1' is not a number");
      CHECK(parse_error({flag, "nan"}) == named + "'nan' is not a number");
      CHECK(parse_error({flag, exact(a.lo)}) == "");
      CHECK(parse_error({flag, exact(a.hi)}) == "");
      ++refused;
    } else {
      CHECK(holds<std::string>(s));  // a directory: anything goes
    }
  }
  CHECK(refused >= 20);
  CHECK(parse_error({"--dataset", "svhn"}) == "--dataset: unknown data set 'svhn' (known: mnist, fashion-mnist, cifar10, translated-mnist, cluttered-mnist)");
  CHECK(parse_error({"--core", "tree"}) == "--core: 'tree' is not one of rnn, lstm, gru");
  CHECK(parse_error({"--unit-pixels", "0"}) == "--unit-pixels: 0 is outside [0.001, 1000]");
  CHECK(parse_error({"--bogus"}) == "unknown flag --bogus");
}

TEST_CASE("settings: the help lists every flag with what it accepts and its default") {
  const std::string help = settings_help();
  std::istringstream in(help);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::size_t k = 0;
  for (const Setting& s : settings_table()) {
    if (!s.flag) continue;
    CAPTURE(s.flag);
    REQUIRE(k < lines.size());
    const std::string& line = lines[k++];
    CHECK(line.rfind("  " + std::string(s.flag) + (s.value ? std::string(" ") + s.value : "") + " ", 0) == 0);
    CHECK(contains(line, s.help));
    CHECK(contains(line, "[" + std::string(s.value ? s.fallback : "off") + "]"));
    if (!s.accepts.choices.empty()) CHECK(contains(line, ": " + s.accepts.choices));
    if (whole_number(s))
      CHECK(contains(line, ", " + std::to_string(static_cast<long>(s.accepts.lo)) + ".." +
                               std::to_string(static_cast<long>(s.accepts.hi))));
    if (holds<double>(s)) CHECK(contains(line, ", ["));
  }
  // Then --preset, and one line per preset naming what it sets.
  REQUIRE(k + 1 + presets().size() == lines.size());
  CHECK(lines[k].rfind("  --preset NAME ", 0) == 0);
  CHECK(contains(lines[k + 1], "torch (the Torch code's setup, as the seed ran it): --optimizer sgd --lr 0.01 "));
  CHECK(contains(lines[k + 1], " --reinforce-into-core --clip-norm 0 "));
  CHECK(contains(help, "  --glimpses T "));
  CHECK(contains(help, "glimpses per image, 1..64"));
  CHECK(contains(help, "[adam 0.001, sgd 0.01]"));
}

TEST_CASE("settings: --preset torch sets the Torch code's setup; a flag after it wins, one before it is refused") {
  const TrainConfig t = parse({"--preset", "torch"});
  CHECK(t.optimizer.kind == OptimizerKind::sgd);
  CHECK(t.optimizer.lr == 0.01);
  CHECK(t.optimizer.min_lr == 1e-5);
  CHECK(t.optimizer.decay_epochs == 800);
  CHECK(t.optimizer.momentum == 0.9);
  CHECK(t.optimizer.dampening == 0.9);
  CHECK(t.batch == 20);
  CHECK(t.model.glimpses == 7);
  CHECK(t.model.patch == 8);
  CHECK(t.model.scales == 1);
  CHECK(t.model.glimpse_scale == 2);
  CHECK(t.model.sigma == 0.22);
  CHECK(t.model.unit_pixels == 13);
  CHECK(t.init == InitKind::torch);
  CHECK(t.model.baseline == BaselineKind::constant);
  CHECK(t.loss.reinforce_into_core);
  CHECK(t.clip_norm == 0);
  CHECK(t.reward.output == RewardOutput::logits);
  // Everything else keeps its default, and the derived ones follow the preset
  // (--epochs does not move its 800 epochs of decay).
  CHECK(t.epochs == 100);
  CHECK(t.model.core == CoreKind::rnn);
  CHECK(parse({"--preset", "torch", "--epochs", "3"}).optimizer.decay_epochs == 800);
  // After it: the flag wins, the rest of the preset stays.
  const TrainConfig after = parse({"--preset", "torch", "--lr", "0.05", "--batch", "32", "--baseline", "state"});
  CHECK(after.optimizer.lr == 0.05);
  CHECK(after.batch == 32);
  CHECK(after.model.baseline == BaselineKind::state);
  CHECK(after.optimizer.kind == OptimizerKind::sgd);
  CHECK(after.init == InitKind::torch);
  // Before it: refused when the preset sets it; a flag it leaves alone may stand anywhere.
  CHECK(parse_error({"--lr", "0.05", "--preset", "torch"}) ==
        "--lr: given before --preset torch, which sets it; give it after --preset to override the preset");
  CHECK(parse({"--epochs", "4", "--preset", "torch"}).epochs == 4);
  CHECK(parse_error({"--preset", "pytorch"}) == "--preset: 'pytorch' is not one of torch");
  // Its settings count as given: the derived defaults leave them alone.
  std::vector<const char*> argv = {"--preset", "torch"};
  const Flags f(2, argv.data(), 0, setting_flags(), setting_switches());
  const std::set<std::string> given = given_settings(f);
  for (const char* flag : {"--lr", "--decay-epochs", "--dampening", "--baseline", "--reinforce-into-core"}) {
    CAPTURE(flag);
    CHECK(given.count(flag) == 1);
  }
  // Its settings line (command.txt) makes the same run without it.
  check_same_flags(parse(shell_words(settings_command_line(after))), after);
}

TEST_CASE("settings: the settings line of command.txt parses back to the same settings") {
  std::vector<std::string> words = every_flag_changed(parse({}));
  words.push_back("--out");
  words.push_back("runs/a b's");
  const TrainConfig asked = parse(words);
  // Every flag really was changed from its default.
  const TrainConfig defaults = parse({});
  for (const Setting& s : settings_table()) {
    if (!s.flag) continue;
    CAPTURE(s.flag);
    CHECK(setting_text(s, asked) != setting_text(s, defaults));
  }
  const std::string line = settings_command_line(asked);
  CHECK(contains(line, "--data '"));  // the directory with a space and a quote is quoted
  check_same_flags(parse(shell_words(line)), asked);
  // The defaults, too: a switch that is off is left out.
  CHECK_FALSE(contains(settings_command_line(defaults), "--reinforce-into-core"));
  check_same_flags(parse(shell_words(settings_command_line(defaults))), defaults);
}

TEST_CASE("checkpoint: every saved setting survives a save and a load; the others are --resume's") {
  TrainConfig c;
  for (const Setting& s : settings_table()) {
    CAPTURE(s.name());
    const TrainConfig before = c;
    REQUIRE(set_setting(s, c, other_value(s, before)) == "");
    CHECK(setting_text(s, c) != setting_text(s, before));
  }
  c.model.validate();
  Parameters params(c.model);
  params.init_uniform(3);
  Optimizer optimizer(c.optimizer, params.size());
  TrainingState state{2, 0.5, 1, 10};
  TempDir dir;
  const std::string path = dir.file("last.bin");
  save_checkpoint(path, c, params, &state, &optimizer);
  const Checkpoint ck = load_checkpoint(path);
  std::vector<std::string> not_saved;
  for (const Setting& s : settings_table()) {
    CAPTURE(s.name());
    if (s.tag)
      CHECK(setting_text(s, ck.config) == setting_text(s, c));
    else
      not_saved.push_back(s.name());
    // What a checkpoint does not hold, a resumed run must take from the command line.
    if (!s.tag) CHECK((s.traits & kResumable) != 0);
  }
  CHECK(not_saved == std::vector<std::string>{"--threads", "--max-minutes", "--patience"});
  // model.bin (no training state) holds the settings too.
  save_checkpoint(dir.file("model.bin"), c, params, nullptr, nullptr);
  const Checkpoint best = load_checkpoint(dir.file("model.bin"));
  CHECK_FALSE(best.has_training_state);
  for (const Setting& s : settings_table())
    if (s.tag) CHECK(setting_text(s, best.config) == setting_text(s, c));
}

TEST_CASE("checkpoint: format 4 records: a missing setting keeps its default, a bad one is named") {
  // Saved with the values their defaults would derive, which differ from
  // TrainConfig's own.
  TrainConfig c;
  c.model.glimpses = 3;
  c.model.sigma = 0.1;
  c.optimizer = OptimizerConfig{OptimizerKind::sgd, 0.01};
  c.optimizer.momentum = c.optimizer.dampening = 0.5;
  c.reward = RewardConfig{RewardKind::lowstd, 0.01};
  c.dataset = "cifar10";
  c.data_dir = "data/cifar10-jpg";
  Parameters params(c.model);
  params.init_uniform(4);
  TempDir dir;
  const std::string path = dir.file("model.bin");
  save_checkpoint(path, c, params, nullptr, nullptr);
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Rewrites one record's text, keeping its length.
  const auto with = [&](const std::string& from, const std::string& to) {
    REQUIRE(from.size() == to.size());
    std::vector<uint8_t> b = bytes;
    const auto at = std::search(b.begin(), b.end(), from.begin(), from.end());
    REQUIRE(at != b.end());
    std::copy(to.begin(), to.end(), at);
    const std::string bad = dir.file("bad.bin");
    write_file(bad, b);
    return bad;
  };
  CHECK(contains(error_of([&] { load_checkpoint(with("glimpses=3", "glimpses=0")); }),
                 "bad.bin: setting 'glimpses': 0 is outside 1..64"));
  CHECK(contains(error_of([&] { load_checkpoint(with("core=rnn", "core=cnn")); }),
                 "setting 'core': 'cnn' is not one of rnn, lstm"));
  CHECK(contains(error_of([&] { load_checkpoint(with("patch=", "pitch=")); }), "unknown setting 'pitch'"));
  CHECK(contains(error_of([&] { load_checkpoint(with("glimpses=3", "scales=001")); }), "setting 'scales' appears twice"));
  // A record the file lacks takes its default, derived from the others
  // where it follows them: the learning rate and the damping from the
  // optimizer, the coefficient from the reward, the directory from the data set.
  const auto without = [&](const std::string& record) {
    std::vector<uint8_t> b = bytes;
    const auto at = std::search(b.begin(), b.end(), record.begin(), record.end());
    REQUIRE(at != b.end());
    // Cut out the length-prefixed record and count one record less.
    const std::size_t start = static_cast<std::size_t>(at - b.begin()) - 4;
    uint32_t length = 0, count = 0;
    std::memcpy(&length, &b[start], 4);
    b.erase(b.begin() + static_cast<std::ptrdiff_t>(start), b.begin() + static_cast<std::ptrdiff_t>(start + 4 + length));
    std::memcpy(&count, &b[12], 4);
    --count;
    std::memcpy(&b[12], &count, 4);
    write_file(dir.file("lacking.bin"), b);
    return load_checkpoint(dir.file("lacking.bin")).config;
  };
  CHECK(without("lr=").optimizer.lr == 0.01);
  CHECK(without("dampening=").optimizer.dampening == 0.5);
  CHECK(without("reward_coef=").reward.coef == 0.01);
  CHECK(without("data_dir=").data_dir == "data/cifar10-jpg");
  CHECK(without("glimpses=").model.glimpses == 7);
  CHECK(without("sigma=").model.sigma == 0.22);
  // A setting newer than the file: what runs did before it existed.
  CHECK(without("reward_output=").reward.output == RewardOutput::logprobs);
  CHECK(without("baseline=").model.baseline == BaselineKind::state);
  CHECK(without("init=").init == InitKind::ours);
  CHECK(without("glimpses=").optimizer.lr == 0.01);  // the others as saved
}

TEST_CASE("checkpoint: files of format versions 1 to 3 still load, field for field") {
  TrainConfig c;
  c.dataset = "cifar10";
  c.data_dir = "some/dir";
  c.seed = 99;
  ModelConfig& m = c.model;
  m.channels = 3;
  m.height = m.width = 32;
  m.glimpses = 4;
  m.patch = 6;
  m.scales = 2;
  m.glimpse_scale = 3;
  m.what_hidden = 12;
  m.where_hidden = 14;
  m.glimpse_hidden = 20;
  m.hidden = 24;
  m.core = CoreKind::lstm;
  m.locator = LocatorKind::lstm;
  m.unit_pixels = 11.5;
  m.sigma = 0.3;
  c.optimizer = OptimizerConfig{OptimizerKind::adam, 0.002, 2e-5, 40, 0.8, 0.7, 0.85, 0.995, 1e-7};
  c.loss.nll = 1.5;
  c.loss.reinforce = 0.25;
  c.loss.baseline = 2;
  c.loss.reinforce_into_core = true;
  c.batch = 17;
  c.epochs = 9;
  c.shards = 3;
  c.reward = RewardConfig{RewardKind::change, 0.75};
  c.clip_norm = 2.5;
  const std::size_t count = Parameters(m).size();
  const std::vector<float> params = counting(count, 0.001f), first = counting(count, 0.01f),
                           second = counting(count, 0.02f);
  const TrainingState state{5, 0.125, 4, 321.5};
  TempDir dir;
  for (uint32_t version : {1u, 2u, 3u}) {
    CAPTURE(version);
    const std::string path = dir.file("v" + std::to_string(version) + ".bin");
    write_file(path, old_checkpoint(version, c, params, state, 1234, first, second));
    const Checkpoint ck = load_checkpoint(path);
    // Version 1 paid the classification reward; versions 1 and 2 clipped nothing.
    TrainConfig expected = c;
    if (version < 2) expected.reward = RewardConfig{};
    if (version < 3) expected.clip_norm = 0;
    expected.reward.output = RewardOutput::logprobs;  // the seed's rewards read log-probabilities then
    for (const Setting& s : settings_table()) {
      CAPTURE(s.name());
      if (s.tag) CHECK(setting_text(s, ck.config) == setting_text(s, expected));
    }
    CHECK(ck.params == params);
    CHECK(ck.has_training_state);
    CHECK(ck.state.epochs_done == 5);
    CHECK(ck.state.best_valid_error == 0.125);
    CHECK(ck.state.best_epoch == 4);
    CHECK(ck.state.seconds == 321.5);
    CHECK(ck.optimizer_steps == 1234);
    CHECK(ck.optimizer_first == first);
    CHECK(ck.optimizer_second == second);
  }
  // A version 3 file written again is format 4, with the same settings.
  const Checkpoint v3 = load_checkpoint(dir.file("v3.bin"));
  Parameters restored(v3.config.model);
  restore_parameters(v3, restored);
  Optimizer optimizer(v3.config.optimizer, restored.size());
  restore_optimizer(v3, optimizer);
  save_checkpoint(dir.file("v4.bin"), v3.config, restored, &v3.state, &optimizer);
  const Checkpoint v4 = load_checkpoint(dir.file("v4.bin"));
  TrainConfig expected = c;
  expected.reward.output = RewardOutput::logprobs;
  for (const Setting& s : settings_table())
    if (s.tag) CHECK(setting_text(s, v4.config) == setting_text(s, expected));
  CHECK(v4.params == params);
  CHECK(v4.optimizer_second == second);
}

TEST_CASE("settings: --resume keeps the saved settings but those it may change") {
  TrainConfig saved = parse({"--lr", "0.004", "--epochs", "5", "--data", "old/dir", "--threads", "1"});
  saved.model.hidden = 40;
  saved.max_minutes = 9;
  std::vector<const char*> argv = {"--out", "run", "--resume", "--epochs", "8", "--threads", "3"};
  std::set<std::string> valued = setting_flags(), switches = setting_switches();
  valued.insert("--out");
  switches.insert("--resume");
  const Flags f(static_cast<int>(argv.size()), argv.data(), 0, valued, switches);
  TrainConfig asked = settings_from_flags(f);
  asked.out_dir = "run";
  const TrainConfig c = resumed_settings(saved, asked, f, "run/last.bin");
  CHECK(c.epochs == 8);                   // given
  CHECK(c.threads == 3);                  // given
  CHECK(c.data_dir == "old/dir");         // saved, not given
  CHECK(c.max_minutes == 0);              // not saved: the command line's
  CHECK(c.optimizer.lr == 0.004);         // saved
  CHECK(c.optimizer.decay_epochs == 5);   // saved, though --epochs changed
  CHECK(c.model.hidden == 40);            // saved
  CHECK(c.out_dir == "run");
  argv.push_back("--sigma");
  argv.push_back("0.1");
  const Flags more(static_cast<int>(argv.size()), argv.data(), 0, valued, switches);
  CHECK(error_of([&] { resumed_settings(saved, settings_from_flags(more), more, "run/last.bin"); }) ==
        "--sigma: cannot be changed when resuming; the run's settings come from run/last.bin (only --data, "
        "--epochs, --threads, --max-minutes and --patience may be given)");
  std::vector<const char*> preset = {"--out", "run", "--resume", "--preset", "torch"};
  const Flags with_preset(static_cast<int>(preset.size()), preset.data(), 0, valued, switches);
  CHECK(error_of([&] { resumed_settings(saved, settings_from_flags(with_preset), with_preset, "run/last.bin"); }) ==
        "--preset: cannot be given when resuming; the run's settings come from run/last.bin");
}

TEST_CASE("settings: a run's identity: what must agree for an experiment to reuse it") {
  const TrainConfig a = parse({});
  CHECK(identity_difference(a, a) == "");
  // The length, the place of the data, threads and the time limit are not the run's identity.
  CHECK(identity_difference(a, parse({"--epochs", "3", "--decay-epochs", "100", "--data", "x", "--threads", "1",
                                      "--max-minutes", "2"})) == "");
  CHECK(identity_difference(a, parse({"--lr", "0.5"})) == "--lr 0.001 there, 0.5 asked");
  TrainConfig wider = a;
  wider.model.hidden = 300;
  CHECK(identity_difference(a, wider) == "--hidden 256 there, 300 asked");
  // A setting without a flag is named by its name in the checkpoint.
  TrainConfig slower = a;
  slower.optimizer.beta2 = 0.99;
  CHECK(identity_difference(a, slower) == "beta2 0.999 there, 0.99 asked");
  // Every identity setting counts, where it applies to the run: the reward's
  // output only for the seed's rewards.
  const TrainConfig change = parse({"--reward", "change"});
  for (const Setting& s : settings_table()) {
    if (!(s.traits & kIdentity)) continue;
    CAPTURE(s.name());
    const TrainConfig& base = s.applies && !s.applies(a) ? change : a;
    TrainConfig other = base;
    REQUIRE(set_setting(s, other, other_value(s, base)) == "");
    CHECK(contains(identity_difference(base, other), s.name() + " "));
  }
  CHECK(identity_difference(a, parse({"--reward-output", "logprobs"})) == "");
  CHECK(identity_difference(change, parse({"--reward", "change", "--reward-output", "logprobs"})) ==
        "--reward-output logits there, logprobs asked");
}
