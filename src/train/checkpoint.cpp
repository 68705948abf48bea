// checkpoint.cpp: writing and reading checkpoints (format in checkpoint.h).
#include "train/checkpoint.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <stdexcept>
#include <unistd.h>
#include <utility>

#include "train/settings.h"

namespace {

constexpr char kMagic[8] = {'R', 'A', 'M', 'C', 'K', 'P', 'T', '\0'};
constexpr uint32_t kVersion = 4;

class Writer {
 public:
  explicit Writer(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "wb")) {
    if (!file_) throw std::runtime_error(path + ": cannot write: " + std::strerror(errno));
  }
  ~Writer() {
    if (file_) std::fclose(file_);
  }
  void bytes(const void* p, std::size_t n) {
    if (n && std::fwrite(p, 1, n, file_) != n)
      throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
  }
  template <class T>
  void value(T v) { bytes(&v, sizeof v); }
  void text(const std::string& s) {
    value<uint32_t>(static_cast<uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  void floats(const real* p, std::size_t n) {
    value<uint64_t>(n);
    for (std::size_t i = 0; i < n; ++i) value<float>(static_cast<float>(p[i]));
  }
  // Flushes to the disk before the rename makes the file visible.
  void close() {
    if (std::fflush(file_) != 0 || fsync(fileno(file_)) != 0 || std::fclose(file_) != 0) {
      file_ = nullptr;
      throw std::runtime_error(path_ + ": write failed: " + std::strerror(errno));
    }
    file_ = nullptr;
  }

 private:
  std::string path_;
  std::FILE* file_;
};

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
    char chunk[1 << 16];
    std::size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) data_.insert(data_.end(), chunk, chunk + n);
    std::fclose(f);
  }
  void bytes(void* p, std::size_t n, const char* field) {
    if (data_.size() - pos_ < n)
      throw std::runtime_error(path_ + ": truncated: file ends inside field '" + field + "'");
    std::memcpy(p, data_.data() + pos_, n);
    pos_ += n;
  }
  template <class T>
  T value(const char* field) {
    T v;
    bytes(&v, sizeof v, field);
    return v;
  }
  int32_t integer(const char* field, int32_t lo, int32_t hi) {
    int32_t v = value<int32_t>(field);
    if (v < lo || v > hi)
      throw std::runtime_error(path_ + ": field '" + field + "' is " + std::to_string(v) +
                               ", expected " + std::to_string(lo) + ".." + std::to_string(hi));
    return v;
  }
  double number(const char* field) {
    double v = value<double>(field);
    if (!std::isfinite(v)) throw std::runtime_error(path_ + ": field '" + field + "' is not finite");
    return v;
  }
  std::string text(const char* field, uint32_t longest = 4096) {
    uint32_t n = value<uint32_t>(field);
    if (n > longest) throw std::runtime_error(path_ + ": field '" + field + "' is too long");
    std::string s(n, '\0');
    bytes(&s[0], n, field);
    return s;
  }
  std::vector<float> floats(const char* field, std::size_t expected) {
    uint64_t n = value<uint64_t>(field);
    if (n != expected)
      throw std::runtime_error(path_ + ": field '" + field + "' holds " + std::to_string(n) +
                               " values, the configuration needs " + std::to_string(expected));
    std::vector<float> v(n);
    bytes(v.data(), n * sizeof(float), field);
    for (std::size_t i = 0; i < n; ++i)
      if (!std::isfinite(v[i]))
        throw std::runtime_error(path_ + ": field '" + field + "' has a non-finite value at " +
                                 std::to_string(i));
    return v;
  }
  void expect_end() {
    if (pos_ != data_.size())
      throw std::runtime_error(path_ + ": " + std::to_string(data_.size() - pos_) +
                               " unexpected bytes after the last field");
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<char> data_;
  std::size_t pos_ = 0;
};

// Version 4: the settings as "tag=value" records (settings.h). A setting the
// file lacks keeps its default (or its value before it existed,
// Setting::absent), derived from the others where it follows them, so that
// adding a setting never changes the layout.
void read_settings(Reader& r, TrainConfig& c) {
  const uint32_t n = r.value<uint32_t>("settings");
  if (n > 10000) throw std::runtime_error(r.path() + ": " + std::to_string(n) + " settings, too many");
  std::set<std::string> seen;
  for (uint32_t i = 0; i < n; ++i) {
    const std::string record = r.text("settings", 1 << 16);
    const std::size_t equals = record.find('=');
    const std::string tag = record.substr(0, equals);
    const Setting* s = equals == std::string::npos ? nullptr : find_tag(tag);
    if (!s) throw std::runtime_error(r.path() + ": unknown setting '" + tag + "'");
    if (!seen.insert(tag).second) throw std::runtime_error(r.path() + ": setting '" + tag + "' appears twice");
    const std::string problem = set_setting(*s, c, record.substr(equals + 1));
    if (!problem.empty()) throw std::runtime_error(r.path() + ": setting '" + tag + "': " + problem);
  }
  for (const Setting& s : settings_table())
    if (s.tag && !seen.count(s.tag) && !s.derive) set_setting(s, c, s.absent ? s.absent : s.fallback);
  for (const Setting& s : settings_table())
    if (s.tag && !seen.count(s.tag) && s.derive) s.derive(c);
}

// Versions 1 to 3: the run (data set name, data directory, seed) and the
// model configuration, field by field.
void read_run_and_model(Reader& r, TrainConfig& c) {
  c.dataset = r.text("dataset");
  c.data_dir = r.text("data_dir");
  c.seed = r.value<uint64_t>("seed");
  ModelConfig& m = c.model;
  m.channels = r.integer("channels", 1, 4);
  m.height = r.integer("height", 1, 4096);
  m.width = r.integer("width", 1, 4096);
  m.classes = r.integer("classes", 2, 1000);
  m.glimpses = r.integer("glimpses", 1, 64);
  m.patch = r.integer("patch", 1, 64);
  m.scales = r.integer("scales", 1, 6);
  m.glimpse_scale = r.integer("glimpse_scale", 1, 4);
  m.what_hidden = r.integer("what_hidden", 1, 8192);
  m.where_hidden = r.integer("where_hidden", 1, 8192);
  m.glimpse_hidden = r.integer("glimpse_hidden", 1, 8192);
  m.hidden = r.integer("hidden", 1, 8192);
  m.core = static_cast<CoreKind>(r.integer("core", 0, 2));
  m.locator = static_cast<LocatorKind>(r.integer("locator", 0, 1));
  m.unit_pixels = r.number("unit_pixels");
  m.sigma = r.number("sigma");
  // Settings added since version 4, as the runs of that time had them.
  for (const Setting& s : settings_table())
    if (s.absent) set_setting(s, c, s.absent);
}

// Versions 1 to 3, after the parameters of a file with training state: the
// optimizer, loss and batch settings. Version 1 lacks the reward (it always
// paid the classification reward), version 2 the gradient-norm ceiling (none).
void read_training_settings(Reader& r, uint32_t version, TrainConfig& c) {
  OptimizerConfig& o = c.optimizer;
  o.kind = static_cast<OptimizerKind>(r.integer("optimizer", 0, 1));
  o.lr = r.number("lr");
  o.min_lr = r.number("min_lr");
  o.decay_epochs = r.number("decay_epochs");
  o.momentum = r.number("momentum");
  o.dampening = r.number("dampening");
  o.beta1 = r.number("beta1");
  o.beta2 = r.number("beta2");
  o.eps = r.number("eps");
  c.loss.nll = r.number("loss.nll");
  c.loss.reinforce = r.number("loss.reinforce");
  c.loss.baseline = r.number("loss.baseline");
  c.batch = r.integer("batch", 1, 1 << 20);
  c.epochs = r.integer("epochs", 0, 1 << 24);
  c.shards = r.integer("shards", 1, 1024);
  c.loss.reinforce_into_core = r.integer("reinforce_into_core", 0, 1) != 0;
  if (version >= 2) {
    c.reward.kind = static_cast<RewardKind>(r.integer("reward", 0, 2));
    c.reward.coef = r.number("reward_coef");
  }
  if (version >= 3) c.clip_norm = r.number("clip_norm");
}

}  // namespace

void save_checkpoint(const std::string& path, const TrainConfig& config, const Parameters& params,
                     const TrainingState* state, const Optimizer* optimizer) {
  const std::string temp = path + ".tmp";
  {
    Writer w(temp);
    w.bytes(kMagic, sizeof kMagic);
    w.value<uint32_t>(kVersion);
    std::vector<std::string> records;
    for (const Setting& s : settings_table())
      if (s.tag) records.push_back(std::string(s.tag) + "=" + setting_text(s, config));
    w.value<uint32_t>(static_cast<uint32_t>(records.size()));
    for (const std::string& record : records) w.text(record);
    w.floats(params.data(), params.size());
    w.value<uint8_t>(state ? 1 : 0);
    if (state) {
      w.value<int32_t>(state->epochs_done);
      w.value<double>(state->best_valid_error);
      w.value<int32_t>(state->best_epoch);
      w.value<double>(state->seconds);
      w.value<int64_t>(optimizer->steps);
      w.floats(optimizer->first.data(), optimizer->first.size());
      w.floats(optimizer->second.data(), optimizer->second.size());
    }
    w.close();
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0)
    throw std::runtime_error(path + ": cannot rename " + temp + ": " + std::strerror(errno));
}

Checkpoint load_checkpoint(const std::string& path) {
  Reader r(path);
  char magic[8];
  r.bytes(magic, sizeof magic, "magic");
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0)
    throw std::runtime_error(path + ": not a ram checkpoint (wrong magic number)");
  const uint32_t version = r.value<uint32_t>("version");
  if (version < 1 || version > kVersion)
    throw std::runtime_error(path + ": format version " + std::to_string(version) +
                             ", this program reads versions 1 to " + std::to_string(kVersion));
  Checkpoint ck;
  TrainConfig& c = ck.config;
  if (version >= 4)
    read_settings(r, c);
  else
    read_run_and_model(r, c);
  try {
    c.model.validate();
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(path + ": bad model configuration: " + e.what());
  }
  const std::size_t count = Parameters(c.model).size();
  ck.params = r.floats("parameters", count);
  ck.has_training_state = r.value<uint8_t>("has_training_state") != 0;
  if (ck.has_training_state) {
    if (version < 4) read_training_settings(r, version, c);
    ck.state.epochs_done = r.integer("epochs_done", 0, 1 << 24);
    ck.state.best_valid_error = r.number("best_valid_error");
    ck.state.best_epoch = r.integer("best_epoch", 0, 1 << 24);
    ck.state.seconds = r.number("seconds");
    ck.optimizer_steps = r.value<int64_t>("optimizer_steps");
    ck.optimizer_first = r.floats("optimizer_first", count);
    ck.optimizer_second = r.floats("optimizer_second", c.optimizer.kind == OptimizerKind::adam ? count : 0);
  }
  r.expect_end();
  return ck;
}

void restore_parameters(const Checkpoint& ck, Parameters& params) {
  if (ck.params.size() != params.size())
    throw std::runtime_error("checkpoint parameter count does not match the configuration");
  for (std::size_t i = 0; i < params.size(); ++i) params.data()[i] = ck.params[i];
}

void restore_optimizer(const Checkpoint& ck, Optimizer& optimizer) {
  optimizer.steps = ck.optimizer_steps;
  for (std::size_t i = 0; i < ck.optimizer_first.size(); ++i) optimizer.first[i] = ck.optimizer_first[i];
  for (std::size_t i = 0; i < ck.optimizer_second.size(); ++i) optimizer.second[i] = ck.optimizer_second[i];
}

TrainedModel load_trained(const std::string& path, const std::string& dataset, const std::string& data_dir) {
  const Checkpoint ck = load_checkpoint(path);
  TrainConfig c = ck.config;
  if (!dataset.empty()) {
    c.dataset = dataset;
    c.data_dir = default_data_dir(dataset);
  }
  if (!data_dir.empty()) c.data_dir = data_dir;
  const ModelConfig trained = c.model;
  DataSplits data = load_dataset(c.dataset, c.data_dir, c.seed, c.placement, c.model);
  if (!trained.same_images(c.model))
    throw std::runtime_error(c.data_dir + ": images differ in shape from those " + path + " was trained on");
  TrainedModel model{c, std::move(data), Parameters(c.model)};
  restore_parameters(ck, model.params);
  return model;
}
