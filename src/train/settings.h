// settings.h: the settings of a training run, as one table (settings.cpp).
//
// Each setting is one row: its flag, where it lives in TrainConfig, its
// default, the range or choices it accepts, its help line, its name in
// checkpoints, and three traits: whether --resume may change it, whether an
// experiment sets it for each of its runs, and whether it is part of a run's
// identity (what must agree for a finished run to be reused). Everything
// else is made from the table, and from nothing else:
//   - the flags of `ram train`, and the train flags `ram experiment` shares;
//   - the train-flags part of `ram help`;
//   - validation, with messages that name the flag;
//   - the settings line of command.txt, which `ram train` reads back;
//   - the settings records of a checkpoint (checkpoint.h);
//   - the comparison that decides whether an experiment reuses a run.
// A new setting is one row, plus the code that uses it.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "train/train.h"

// A bad command line: main prints the message, then the usage; exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where a setting lives: a function that returns a reference to its field.
template <class T>
using FieldOf = T& (*)(TrainConfig&);
using Field = std::variant<FieldOf<int>, FieldOf<uint64_t>, FieldOf<double>, FieldOf<bool>, FieldOf<std::string>,
                           FieldOf<CoreKind>, FieldOf<LocatorKind>, FieldOf<LocationSource>, FieldOf<OptimizerKind>,
                           FieldOf<RewardKind>, FieldOf<BaselineKind>, FieldOf<InitKind>, FieldOf<RewardOutput>>;

// What a setting accepts. Numbers: lo..hi, both ends included. Choices: the
// names of an enum's values in their order ("rnn, lstm"), or the names a
// text setting may take. `refuse`, when set, says what is wrong with a text
// value ("" when nothing is).
struct Accepts {
  double lo = 0, hi = 0;
  std::string choices;
  std::string (*refuse)(const std::string& value) = nullptr;
};

enum SettingTrait : unsigned {
  kResumable = 1u << 0,  // may be given with --resume, replacing the saved value
  kPerRun = 1u << 1,     // an experiment sets it for each of its runs
  kIdentity = 1u << 2,   // must agree for an experiment to reuse a finished run
};

struct Setting {
  const char* flag;      // "--glimpses"; nullptr: no flag (set in code, saved, compared)
  const char* value;     // the value's name in the help ("T"); nullptr: a switch
  const char* tag;       // its name in checkpoints; nullptr: not saved
  Field field;           // where it lives in TrainConfig
  const char* fallback;  // the default, as the flag would give it; for a derived default, what the help says
  Accepts accepts;
  const char* help;
  unsigned traits;       // SettingTrait bits
  void (*derive)(TrainConfig&) = nullptr;  // sets a default that follows other settings
  // Whether the setting changes the run at all (nullptr: always); where it
  // does not, two runs agree on it whatever its value (identity_difference).
  bool (*applies)(const TrainConfig&) = nullptr;
  // Its value for a checkpoint that lacks it, when that is not the default:
  // what runs did before the setting existed (nullptr: the default).
  const char* absent = nullptr;
  // The flag if it has one, else the checkpoint tag: for messages.
  std::string name() const { return flag ? flag : tag; }
};

// The table, in the order of `ram help`.
const std::vector<Setting>& settings_table();
// The row of a flag or of a checkpoint tag; nullptr when there is none.
const Setting* find_setting(const std::string& flag);
const Setting* find_tag(const std::string& tag);

// A setting's value as text: what its flag takes and a checkpoint stores
// ("0.001", "lstm", "1" for a switch that is on). A number is written in the
// fewest digits that read back to the same double.
std::string setting_text(const Setting& s, const TrainConfig& c);
// Sets a setting from text. Returns "" or what is wrong ("0 is outside
// 1..64", "'gru' is not one of rnn, lstm").
std::string set_setting(const Setting& s, TrainConfig& c, const std::string& text);
void copy_setting(const Setting& s, const TrainConfig& from, TrainConfig& to);

// Whole numbers and numbers from text, as every flag reads them. Return ""
// or what is wrong ("'abc' is not a whole number", "0 is outside 1..100").
std::string parse_integer(const std::string& text, long lo, long hi, long& value);
std::string parse_number(const std::string& text, double lo, double hi, double& value);

// Flags seen on a command line, with their text values (a switch: "1") and
// where they stood. Throws UsageError for an unknown flag, a stray word, or a
// missing value.
class Flags {
 public:
  Flags(int argc, const char* const* argv, int first, const std::set<std::string>& valued,
        const std::set<std::string>& switches);
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  // The argv index of the flag's last appearance; -1 when absent.
  int position(const std::string& name) const;
  const std::map<std::string, std::string>& all() const { return values_; }
  std::string text(const std::string& name, const std::string& fallback) const;
  long integer(const std::string& name, long fallback, long lo, long hi) const;
  double number(const std::string& name, double fallback, double lo, double hi) const;

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, int> positions_;
};

// A preset: one flag for a whole setup, the settings of other flags (`ram
// train --preset torch`). Its flags are set as if given where --preset
// stands: a flag after it overrides it; one of its flags given before it is
// refused, naming both. (A switch it turns on cannot be turned off.)
struct Preset {
  const char* name;  // "torch"
  const char* help;  // what it is, for `ram help`
  std::vector<std::pair<const char*, const char*>> settings;  // flag, value ("1" for a switch)
};
const std::vector<Preset>& presets();

// The table's flags that take a value, and --preset; the table's switches.
std::set<std::string> setting_flags();
std::set<std::string> setting_switches();
// The table's flags among those given, and those the preset given sets.
std::set<std::string> given_settings(const Flags& flags);

// The settings a command line gives (`ram train`, and what the runs of `ram
// experiment` share): every row's default, the preset's settings (--preset),
// the values of the flags given, then the defaults that follow other
// settings (derive_defaults). Other flags in `flags` are left to the
// command. Throws UsageError naming the flag.
TrainConfig settings_from_flags(const Flags& flags);
// Sets the rows whose flags are given, and nothing else.
void apply_flags(const Flags& flags, TrainConfig& c);
// For every row with a derived default whose flag is not in `given`: sets
// it from the others (--lr from --optimizer, --dampening from --momentum,
// --decay-epochs from --epochs, --reward-coef from --reward, --data from
// --dataset, --threads from the machine).
void derive_defaults(TrainConfig& c, const std::set<std::string>& given);

// `ram train --resume`: the saved settings, except those --resume may change
// (kResumable), taken from `asked` when their flag is given, or always when
// checkpoints do not save them (--threads, --max-minutes, --patience); out_dir from
// `asked`. Throws UsageError for any other table flag given, and for
// --preset, naming `from`.
TrainConfig resumed_settings(const TrainConfig& saved, const TrainConfig& asked, const Flags& flags,
                             const std::string& from);

// The identity settings (kIdentity) in which a run `had` differs from the one
// `wanted`, as "--lr 0.001 there, 0.5 asked; ..."; "" when they agree. A
// setting that applies to neither run is not compared.
std::string identity_difference(const TrainConfig& had, const TrainConfig& wanted);

// Every setting with a flag, as one line of `--flag value` words (a switch
// only when on; values quoted for the shell where needed), then `--out
// RUN_DIR`: given to `ram train`, it makes the same run.
std::string settings_command_line(const TrainConfig& c);

// The help lines of the table's flags: flag, meaning, what it accepts,
// [default]; then --preset, and what each preset sets.
std::string settings_help();

// The number of cores, at most 64: the default of --threads.
int default_threads();
