// settings.cpp: the table of a training run's settings, and what is made
// from it (settings.h). docs/defaults.md says where each default comes from.
#include "train/settings.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <type_traits>
#include <utility>

namespace {

// ---------------------------------------------------------------------------
// Defaults that follow other settings.

void lr_for_optimizer(TrainConfig& c) { c.optimizer.lr = c.optimizer.kind == OptimizerKind::adam ? 0.001 : 0.01; }
// Torch's dpnn damps the momentum by the momentum factor itself.
void damp_by_momentum(TrainConfig& c) { c.optimizer.dampening = c.optimizer.momentum; }
void decay_over_run(TrainConfig& c) { c.optimizer.decay_epochs = c.epochs; }
// Seed eq. 2 has no coefficient (1); the seed's code weights lowstd by 0.01
// and its change reward by 1 (`nn.ChangeReward(agent,1)`).
void coef_for_reward(TrainConfig& c) { c.reward.coef = c.reward.kind == RewardKind::lowstd ? 0.01 : 1.0; }
void data_of_dataset(TrainConfig& c) { c.data_dir = default_data_dir(c.dataset); }
// cluttered-mnist: 4 pieces on 60x60 (RAM paper), 8 from 100x100 on.
void clutter_of_dataset(TrainConfig& c) { c.placement.clutter = default_placement(c.dataset, c.placement.canvas).clutter; }
void threads_of_machine(TrainConfig& c) { c.threads = default_threads(); }

// The classification reward reads no O_t.
bool seed_reward(const TrainConfig& c) { return c.reward.kind != RewardKind::classify; }

std::string unknown_dataset(const std::string& name) {
  return is_known_dataset(name) ? "" : "unknown data set '" + name + "' (known: " + known_datasets() + ")";
}

// 16 hex digits (train.h, data_fingerprint), or "" in a checkpoint written
// before checkpoints had it.
std::string not_a_fingerprint(const std::string& text) {
  const bool hex = std::all_of(text.begin(), text.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); });
  return (text.empty() || text.size() == 16) && hex ? "" : "'" + text + "' is not 16 hex digits";
}

Accepts range(double lo, double hi) { return {lo, hi, "", nullptr}; }
Accepts one_of(const char* names) { return {0, 0, names, nullptr}; }
Accepts dataset_names() { return {0, 0, known_datasets(), unknown_dataset}; }
Accepts fingerprints() { return {0, 0, "", not_a_fingerprint}; }
const Accepts kText{}, kSwitch{};

}  // namespace

// ---------------------------------------------------------------------------
// The table. Columns: flag, value name, checkpoint tag, field, default,
// accepted values, help, traits, and the function of a derived default,
// whether the setting applies to a run, and its value in a checkpoint that
// lacks it (--reward-output: the runs before it read log-probabilities).

// FIELD(model.glimpses): the function that returns c.model.glimpses.
#define FIELD(path) [](TrainConfig& c) -> auto& { return c.path; }

const std::vector<Setting>& settings_table() {
  constexpr unsigned R = kResumable, P = kPerRun, I = kIdentity;
  static const std::vector<Setting> table = {
      {"--dataset", "NAME", "dataset", FIELD(dataset), "mnist", dataset_names(), "the data set", P | I},
      {"--data", "DIR", "data_dir", FIELD(data_dir), "per data set", kText, "its files (docs/data.md)", R | P, data_of_dataset},
      {"--canvas", "N", "canvas", FIELD(placement.canvas), "60", range(28, 1000), "canvas side (translated-, cluttered-mnist)", P | I},
      {"--clutter", "N", "clutter", FIELD(placement.clutter), "cluttered-mnist 4 (8 from canvas 100), else 0", range(0, 1000), "pieces of clutter per image", P | I, clutter_of_dataset},
      {"--clutter-size", "N", "clutter_size", FIELD(placement.clutter_size), "8", range(1, 28), "side of a clutter piece, pixels", I},
      {"--core", "NAME", "core", FIELD(model.core), "rnn", one_of("rnn, lstm, gru"), "recurrent core", P | I},
      {"--locator", "NAME", "locator", FIELD(model.locator), "linear", one_of("linear, lstm"), "location network", P | I},
      {"--locations", "NAME", "locations", FIELD(model.locations), "policy", one_of("policy, random"), "where the glimpses go (random: uniform, no policy)", P | I},
      {"--baseline", "NAME", "baseline", FIELD(model.baseline), "state", one_of("state, constant"), "REINFORCE baseline (docs/baseline.md)", I},
      {"--glimpses", "T", "glimpses", FIELD(model.glimpses), "7", range(1, 64), "glimpses per image", I},
      {"--patch", "P", "patch", FIELD(model.patch), "8", range(1, 64), "retina patch side, pixels", I},
      {"--scales", "K", "scales", FIELD(model.scales), "1", range(1, 6), "patches per glimpse", I},
      {"--glimpse-scale", "S", "glimpse_scale", FIELD(model.glimpse_scale), "2", range(1, 4), "width ratio of successive patches", I},
      {"--unit-pixels", "U", "unit_pixels", FIELD(model.unit_pixels), "13", range(1e-3, 1000), "pixels from the centre to location 1", I},
      {"--sigma", "SD", "sigma", FIELD(model.sigma), "0.22", range(1e-4, 2), "std. deviation of the location policy", I},
      {"--what-hidden", "N", "what_hidden", FIELD(model.what_hidden), "128", range(1, 8192), "width of h_g, the patches' features", I},
      {"--where-hidden", "N", "where_hidden", FIELD(model.where_hidden), "128", range(1, 8192), "width of h_l, the location's features", I},
      {"--glimpse-hidden", "N", "glimpse_hidden", FIELD(model.glimpse_hidden), "256", range(1, 8192), "width of g_t, the glimpse vector", I},
      {"--hidden", "N", "hidden", FIELD(model.hidden), "256", range(1, 8192), "width H of the core's state h_t", I},
      {"--optimizer", "NAME", "optimizer", FIELD(optimizer.kind), "adam", one_of("sgd, adam"), "update rule", I},
      {"--lr", "LR", "lr", FIELD(optimizer.lr), "adam 0.001, sgd 0.01", range(1e-9, 10), "learning rate", I, lr_for_optimizer},
      {"--min-lr", "LR", "min_lr", FIELD(optimizer.min_lr), "1e-05", range(0, 10), "floor of the linear decay", I},
      {"--decay-epochs", "N", "decay_epochs", FIELD(optimizer.decay_epochs), "= --epochs", range(0, 1e7), "epochs over which lr decays to min-lr", I, decay_over_run},
      {"--momentum", "M", "momentum", FIELD(optimizer.momentum), "0.9", range(0, 0.9999), "SGD momentum M", I},
      {"--dampening", "D", "dampening", FIELD(optimizer.dampening), "= --momentum", range(0, 1), "SGD damping: v = M v + (1 - D) g", I, damp_by_momentum},
      {"--batch", "B", "batch", FIELD(batch), "32", range(1, 65536), "images per update", I},
      {"--epochs", "N", "epochs", FIELD(epochs), "100", range(1, 1000000), "passes over the training split", R | P},
      {"--seed", "S", "seed", FIELD(seed), "1", range(0, 4611686018427387904.0), "seed of every random draw", P | I},
      {"--init", "NAME", "init", FIELD(init), "ours", one_of("ours, torch"), "initial weights (torch: no forget bias 1)", I},
      {"--threads", "N", nullptr, FIELD(threads), "cores", range(1, 256), "worker threads (same results for any N)", R, threads_of_machine},
      {"--shards", "N", "shards", FIELD(shards), "2", range(1, 256), "fixed cut of each batch for parallel work", I},
      {"--reward", "NAME", "reward", FIELD(reward.kind), "classify", one_of("classify, change, lowstd, change-code"), "the reward (docs/rewards.md)", P | I},
      {"--reward-coef", "C", "reward_coef", FIELD(reward.coef), "lowstd 0.01, else 1", range(-1e6, 1e6), "weight of the seed's reward", P | I, coef_for_reward},
      {"--reward-output", "NAME", "reward_output", FIELD(reward.output), "logits", one_of("logits, logprobs"), "O_t of the seed's rewards", I, nullptr, seed_reward, "logprobs"},
      {"--reinforce-into-core", nullptr, "reinforce_into_core", FIELD(loss.reinforce_into_core), "0", kSwitch, "REINFORCE also trains the core (Torch)", I},
      {"--shift", "N", "shift", FIELD(shift), "0", range(0, 4095), "move training images by up to N pixels, anew each epoch (ours)", I},
      {"--clip-norm", "C", "clip_norm", FIELD(clip_norm), "0", range(0, 1e9), "gradient norm ceiling (0: none)", I},
      {"--max-minutes", "M", nullptr, FIELD(max_minutes), "0", range(0, 1e7), "time limit, minutes (0: none)", R | P},
      {"--patience", "N", nullptr, FIELD(patience), "0", range(0, 1e7), "stop after N epochs without a better valid error (0: never)", R | P},
      // Without a flag. The image shape and the class count come from the data set.
      {nullptr, nullptr, "channels", FIELD(model.channels), "1", range(1, 4), "image channels C", 0},
      {nullptr, nullptr, "height", FIELD(model.height), "28", range(1, 4096), "image rows", 0},
      {nullptr, nullptr, "width", FIELD(model.width), "28", range(1, 4096), "image columns", 0},
      {nullptr, nullptr, "classes", FIELD(model.classes), "10", range(2, 1000), "classes A", 0},
      {nullptr, nullptr, "data_fingerprint", FIELD(data_fingerprint), "", fingerprints(), "the images trained on", 0},
      {nullptr, nullptr, "beta1", FIELD(optimizer.beta1), "0.9", range(0, 1), "Adam beta1", I},
      {nullptr, nullptr, "beta2", FIELD(optimizer.beta2), "0.999", range(0, 1), "Adam beta2", I},
      {nullptr, nullptr, "eps", FIELD(optimizer.eps), "1e-08", range(0, 1), "Adam epsilon", I},
      {nullptr, nullptr, "loss.nll", FIELD(loss.nll), "1", range(0, 1e6), "weight of the classification loss", I},
      {nullptr, nullptr, "loss.reinforce", FIELD(loss.reinforce), "1", range(0, 1e6), "weight of REINFORCE", I},
      {nullptr, nullptr, "loss.baseline", FIELD(loss.baseline), "1", range(0, 1e6), "weight of the baseline regression", I},
  };
  return table;
}

#undef FIELD

// N. Leonard's Torch script (recurrent-visual-attention.lua) as the seed's
// code ran it, docs/defaults.md#the-torch-preset: its options --learningRate
// 0.01, --minLR 1e-5, --saturateEpoch 800, --momentum 0.9 (dpnn damps by
// it), --batchSize 20, --rho 7, --glimpsePatchSize 8, --glimpseDepth 1,
// --glimpseScale 2, --locatorStd 0.11 (doubled: ReinforceNormal(2 *
// locatorStd)), --unitPixels 13, --uniform 0.1 on every parameter,
// --cutoffNorm -1 (off); its baseline nn.Constant(1) + nn.Add(1); its
// REINFORCE gradient through the locator into the rnn; the seed's rewards
// read its classifier's Linear output.
const std::vector<Preset>& presets() {
  static const std::vector<Preset> list = {
      {"torch", "the Torch code's setup, as the seed ran it",
       {{"--optimizer", "sgd"}, {"--lr", "0.01"}, {"--min-lr", "1e-05"}, {"--decay-epochs", "800"},
        {"--momentum", "0.9"}, {"--dampening", "0.9"}, {"--batch", "20"}, {"--glimpses", "7"}, {"--patch", "8"},
        {"--scales", "1"}, {"--glimpse-scale", "2"}, {"--sigma", "0.22"}, {"--unit-pixels", "13"},
        {"--init", "torch"}, {"--baseline", "constant"}, {"--reinforce-into-core", "1"}, {"--clip-norm", "0"},
        {"--reward-output", "logits"}}},
  };
  return list;
}

const Setting* find_setting(const std::string& flag) {
  for (const Setting& s : settings_table())
    if (s.flag && flag == s.flag) return &s;
  return nullptr;
}

const Setting* find_tag(const std::string& tag) {
  for (const Setting& s : settings_table())
    if (s.tag && tag == s.tag) return &s;
  return nullptr;
}

// ---------------------------------------------------------------------------
// Values and text.

namespace {

// "rnn, lstm" -> {"rnn", "lstm"}.
std::vector<std::string> split_choices(const std::string& choices) {
  std::vector<std::string> names;
  for (std::size_t begin = 0; begin < choices.size();) {
    const std::size_t comma = choices.find(", ", begin);
    const std::size_t end = comma == std::string::npos ? choices.size() : comma;
    names.push_back(choices.substr(begin, end - begin));
    begin = comma == std::string::npos ? end : comma + 2;
  }
  return names;
}

// The shortest %g text that reads back to the same double ("1000", not
// "1e+03"; "0.1", not "0.10000000000000001").
std::string number_text(double v) {
  std::string best;
  char s[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(s, sizeof s, "%.*g", digits, v);
    if (std::strtod(s, nullptr) == v && (best.empty() || std::strlen(s) < best.size())) best = s;
  }
  return best;
}

std::string read_value(const std::string& text, const Accepts& a, int& field) {
  long v = 0;
  const std::string problem = parse_integer(text, static_cast<long>(a.lo), static_cast<long>(a.hi), v);
  if (problem.empty()) field = static_cast<int>(v);
  return problem;
}
std::string read_value(const std::string& text, const Accepts& a, uint64_t& field) {
  long v = 0;
  const std::string problem = parse_integer(text, static_cast<long>(a.lo), static_cast<long>(a.hi), v);
  if (problem.empty()) field = static_cast<uint64_t>(v);
  return problem;
}
std::string read_value(const std::string& text, const Accepts& a, double& field) {
  return parse_number(text, a.lo, a.hi, field);
}
std::string read_value(const std::string& text, const Accepts&, bool& field) {
  if (text != "0" && text != "1") return "'" + text + "' is not 0 or 1";
  field = text == "1";
  return "";
}
std::string read_value(const std::string& text, const Accepts& a, std::string& field) {
  const std::string problem = a.refuse ? a.refuse(text) : "";
  if (problem.empty()) field = text;
  return problem;
}
template <class E, class = std::enable_if_t<std::is_enum<E>::value>>
std::string read_value(const std::string& text, const Accepts& a, E& field) {
  const std::vector<std::string> names = split_choices(a.choices);
  const auto it = std::find(names.begin(), names.end(), text);
  if (it == names.end()) return "'" + text + "' is not one of " + a.choices;
  field = static_cast<E>(it - names.begin());
  return "";
}

std::string write_value(const Accepts&, const int& v) { return std::to_string(v); }
std::string write_value(const Accepts&, const uint64_t& v) { return std::to_string(v); }
std::string write_value(const Accepts&, const double& v) { return number_text(v); }
std::string write_value(const Accepts&, const bool& v) { return v ? "1" : "0"; }
std::string write_value(const Accepts&, const std::string& v) { return v; }
template <class E, class = std::enable_if_t<std::is_enum<E>::value>>
std::string write_value(const Accepts& a, const E& v) {
  return split_choices(a.choices).at(static_cast<std::size_t>(v));
}

// What the help says a setting accepts.
std::string accepts_text(const Setting& s) {
  return std::visit(
      [&](auto field) -> std::string {
        using T = std::remove_reference_t<decltype(field(std::declval<TrainConfig&>()))>;
        if (std::is_same<T, int>::value || std::is_same<T, uint64_t>::value)
          return std::to_string(static_cast<long>(s.accepts.lo)) + ".." + std::to_string(static_cast<long>(s.accepts.hi));
        if (std::is_same<T, double>::value)
          return "[" + number_text(s.accepts.lo) + ", " + number_text(s.accepts.hi) + "]";
        return s.accepts.choices;
      },
      s.field);
}

// A word the shell reads back as itself: quoted unless every character is
// safe.
std::string shell_word(const std::string& text) {
  const bool safe = !text.empty() && std::all_of(text.begin(), text.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || std::string("_-./:=,+@%").find(ch) != std::string::npos;
  });
  if (safe) return text;
  std::string quoted = "'";
  for (char ch : text) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return quoted + "'";
}

}  // namespace

// The accessors only point at a field; a const TrainConfig is only read
// through them.
std::string setting_text(const Setting& s, const TrainConfig& c) {
  return std::visit([&](auto field) { return write_value(s.accepts, field(const_cast<TrainConfig&>(c))); }, s.field);
}

std::string set_setting(const Setting& s, TrainConfig& c, const std::string& text) {
  return std::visit([&](auto field) { return read_value(text, s.accepts, field(c)); }, s.field);
}

void copy_setting(const Setting& s, const TrainConfig& from, TrainConfig& to) {
  std::visit([&](auto field) { field(to) = field(const_cast<TrainConfig&>(from)); }, s.field);
}

std::string parse_integer(const std::string& text, long lo, long hi, long& value) {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (errno || end == text.c_str() || *end) return "'" + text + "' is not a whole number";
  if (v < lo || v > hi) return text + " is outside " + std::to_string(lo) + ".." + std::to_string(hi);
  value = v;
  return "";
}

std::string parse_number(const std::string& text, double lo, double hi, double& value) {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (errno || end == text.c_str() || *end || !std::isfinite(v)) return "'" + text + "' is not a number";
  if (v < lo || v > hi) return text + " is outside [" + number_text(lo) + ", " + number_text(hi) + "]";
  value = v;
  return "";
}

// ---------------------------------------------------------------------------
// The command line.

Flags::Flags(int argc, const char* const* argv, int first, const std::set<std::string>& valued,
             const std::set<std::string>& switches) {
  for (int i = first; i < argc; ++i) {
    const std::string name = argv[i];
    if (name == "-h" || name == "--help") throw UsageError("");
    positions_[name] = i;
    if (switches.count(name)) {
      values_[name] = "1";
    } else if (valued.count(name)) {
      if (i + 1 >= argc) throw UsageError(name + ": needs a value");
      values_[name] = argv[++i];
    } else {
      throw UsageError(name.rfind("--", 0) == 0 ? "unknown flag " + name : "unexpected argument '" + name + "'");
    }
  }
}

int Flags::position(const std::string& name) const {
  const auto it = positions_.find(name);
  return it == positions_.end() ? -1 : it->second;
}

std::string Flags::text(const std::string& name, const std::string& fallback) const {
  const auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

long Flags::integer(const std::string& name, long fallback, long lo, long hi) const {
  long v = fallback;
  const std::string problem = has(name) ? parse_integer(text(name, ""), lo, hi, v) : "";
  if (!problem.empty()) throw UsageError(name + ": " + problem);
  return v;
}

double Flags::number(const std::string& name, double fallback, double lo, double hi) const {
  double v = fallback;
  const std::string problem = has(name) ? parse_number(text(name, ""), lo, hi, v) : "";
  if (!problem.empty()) throw UsageError(name + ": " + problem);
  return v;
}

std::set<std::string> setting_flags() {
  std::set<std::string> flags = {"--preset"};
  for (const Setting& s : settings_table())
    if (s.flag && s.value) flags.insert(s.flag);
  return flags;
}

std::set<std::string> setting_switches() {
  std::set<std::string> flags;
  for (const Setting& s : settings_table())
    if (s.flag && !s.value) flags.insert(s.flag);
  return flags;
}

namespace {

// The preset --preset names, or nullptr when none is given.
const Preset* given_preset(const Flags& flags) {
  if (!flags.has("--preset")) return nullptr;
  const std::string name = flags.text("--preset", "");
  std::string names;
  for (const Preset& p : presets()) {
    if (name == p.name) return &p;
    names += (names.empty() ? "" : ", ") + std::string(p.name);
  }
  throw UsageError("--preset: '" + name + "' is not one of " + names);
}

// Sets the preset's settings; a flag of the preset given before --preset is
// refused, one given after it is left to apply_flags.
void apply_preset(const Flags& flags, TrainConfig& c) {
  const Preset* preset = given_preset(flags);
  if (!preset) return;
  const int at = flags.position("--preset");
  for (const auto& [flag, value] : preset->settings) {
    if (flags.has(flag) && flags.position(flag) < at)
      throw UsageError(std::string(flag) + ": given before --preset " + preset->name +
                       ", which sets it; give it after --preset to override the preset");
    const Setting* s = find_setting(flag);
    if (!s) throw std::logic_error(std::string("--preset ") + preset->name + ": no setting " + flag);
    const std::string problem = set_setting(*s, c, value);
    if (!problem.empty()) throw std::logic_error(std::string("--preset ") + preset->name + ": " + flag + " " + problem);
  }
}

}  // namespace

std::set<std::string> given_settings(const Flags& flags) {
  std::set<std::string> given;
  for (const auto& flag : flags.all())
    if (find_setting(flag.first)) given.insert(flag.first);
  if (const Preset* preset = given_preset(flags))
    for (const auto& setting : preset->settings) given.insert(setting.first);
  return given;
}

TrainConfig settings_from_flags(const Flags& flags) {
  TrainConfig c;
  for (const Setting& s : settings_table()) {
    if (s.derive) continue;
    const std::string problem = set_setting(s, c, s.fallback);
    if (!problem.empty()) throw std::logic_error(s.name() + ": the table's default " + problem);
  }
  apply_preset(flags, c);
  apply_flags(flags, c);
  derive_defaults(c, given_settings(flags));
  return c;
}

void apply_flags(const Flags& flags, TrainConfig& c) {
  for (const Setting& s : settings_table()) {
    if (!s.flag || !flags.has(s.flag)) continue;
    const std::string problem = set_setting(s, c, flags.text(s.flag, ""));
    if (!problem.empty()) throw UsageError(std::string(s.flag) + ": " + problem);
  }
}

void derive_defaults(TrainConfig& c, const std::set<std::string>& given) {
  for (const Setting& s : settings_table())
    if (s.derive && !(s.flag && given.count(s.flag))) s.derive(c);
}

TrainConfig resumed_settings(const TrainConfig& saved, const TrainConfig& asked, const Flags& flags,
                             const std::string& from) {
  std::vector<std::string> resumable;
  for (const Setting& s : settings_table())
    if (s.flag && (s.traits & kResumable)) resumable.push_back(s.flag);
  if (flags.has("--preset"))
    throw UsageError("--preset: cannot be given when resuming; the run's settings come from " + from);
  for (const auto& flag : flags.all()) {
    const Setting* s = find_setting(flag.first);
    if (!s || (s->traits & kResumable)) continue;
    std::string allowed;
    for (std::size_t i = 0; i < resumable.size(); ++i)
      allowed += (i == 0 ? "" : i + 1 == resumable.size() ? " and " : ", ") + resumable[i];
    throw UsageError(flag.first + ": cannot be changed when resuming; the run's settings come from " + from +
                     " (only " + allowed + " may be given)");
  }
  TrainConfig c = saved;
  for (const Setting& s : settings_table())
    if ((s.traits & kResumable) && (!s.tag || flags.has(s.flag))) copy_setting(s, asked, c);
  c.out_dir = asked.out_dir;
  return c;
}

std::string identity_difference(const TrainConfig& had, const TrainConfig& wanted) {
  std::string difference;
  for (const Setting& s : settings_table()) {
    if (!(s.traits & kIdentity)) continue;
    if (s.applies && !s.applies(had) && !s.applies(wanted)) continue;
    const std::string there = setting_text(s, had), asked = setting_text(s, wanted);
    if (there != asked) difference += (difference.empty() ? "" : "; ") + s.name() + " " + there + " there, " + asked + " asked";
  }
  return difference;
}

std::string settings_command_line(const TrainConfig& c) {
  std::string line;
  for (const Setting& s : settings_table()) {
    if (!s.flag) continue;
    const std::string value = setting_text(s, c);
    if (!s.value && value != "1") continue;
    line += (line.empty() ? "" : " ") + std::string(s.flag) + (s.value ? " " + shell_word(value) : "");
  }
  return line + " --out " + shell_word(c.out_dir);
}

std::string settings_help() {
  struct Line {
    std::string flag, meaning, fallback;
  };
  std::vector<Line> lines;
  for (const Setting& s : settings_table()) {
    if (!s.flag) continue;
    // "glimpses per image, 1..64"; "recurrent core: rnn, lstm"
    const std::string accepts = accepts_text(s);
    const bool choices = !s.accepts.choices.empty();
    Line line{std::string(s.flag) + (s.value ? std::string(" ") + s.value : ""),
              s.help + (accepts.empty() ? "" : (choices ? ": " : ", ") + accepts),
              s.value ? s.fallback : std::string(s.fallback) == "1" ? "on" : "off"};
    lines.push_back(line);
  }
  std::string names;
  for (const Preset& p : presets()) names += (names.empty() ? "" : ", ") + std::string(p.name);
  lines.push_back({"--preset NAME", "a whole setup; flags after it override it: " + names, "none"});
  std::size_t flag_width = 0, meaning_width = 0;
  for (const Line& line : lines) {
    flag_width = std::max(flag_width, line.flag.size());
    meaning_width = std::max(meaning_width, line.meaning.size());
  }
  std::string text;
  for (const Line& line : lines) {
    char row[512];
    std::snprintf(row, sizeof row, "  %-*s  %-*s  [%s]\n", static_cast<int>(flag_width), line.flag.c_str(),
                  static_cast<int>(meaning_width), line.meaning.c_str(), line.fallback.c_str());
    text += row;
  }
  // What each preset sets, as flags.
  for (const Preset& p : presets()) {
    std::string flags;
    for (const auto& [flag, value] : p.settings) {
      const Setting* s = find_setting(flag);
      flags += std::string(" ") + flag + (s && s->value ? std::string(" ") + value : "");
    }
    text += "      " + std::string(p.name) + " (" + p.help + "):" + flags + "\n";
  }
  return text;
}

int default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(std::min(n, 64u));
}
