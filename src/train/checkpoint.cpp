// checkpoint.cpp: writing and reading checkpoints (format in checkpoint.h).
#include "train/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <stdexcept>
#include <utility>

#include "train/atomic_file.h"
#include "train/settings.h"

namespace {

constexpr char kMagic[8] = {'R', 'A', 'M', 'C', 'K', 'P', 'T', '\0'};
constexpr uint32_t kVersion = 4;
constexpr uint32_t kLongestRecord = 1 << 16;  // a settings record's text, bytes

// The fields of a checkpoint, written through AtomicFile (atomic_file.h).
class Writer {
 public:
  explicit Writer(AtomicFile& file) : file_(file) {}
  template <class T>
  void value(T v) { file_.write(&v, sizeof v); }
  void text(const std::string& s) {
    value<uint32_t>(static_cast<uint32_t>(s.size()));
    file_.write(s);
  }
  // A count, then the numbers as f32, a block at a time.
  void floats(const real* p, std::size_t n) {
    value<uint64_t>(n);
    float block[1024];
    for (std::size_t begin = 0; begin < n; begin += 1024) {
      const std::size_t count = std::min<std::size_t>(1024, n - begin);
      for (std::size_t i = 0; i < count; ++i) block[i] = static_cast<float>(p[begin + i]);
      file_.write(block, count * sizeof(float));
    }
  }

 private:
  AtomicFile& file_;
};

// The fields of a checkpoint from its bytes. Every size a field claims is
// checked against the bytes left before anything is allocated for it, so a
// damaged or hostile file costs at most its own length in memory.
class Reader {
 public:
  Reader(const uint8_t* data, std::size_t size, const std::string& name) : name_(name), data_(data), size_(size) {}
  void bytes(void* p, std::size_t n, const char* field) {
    if (left() < n) throw std::runtime_error(name_ + ": truncated: file ends inside field '" + field + "'");
    if (n) std::memcpy(p, data_ + pos_, n);  // p may be nullptr when n is 0 (an empty vector's data())
    pos_ += n;
  }
  template <class T>
  T value(const char* field) {
    T v;
    bytes(&v, sizeof v, field);
    return v;
  }
  int32_t integer(const char* field, int32_t lo, int32_t hi) { return in_range(value<int32_t>(field), field, lo, hi); }
  int32_t integer8(const char* field, int32_t lo, int32_t hi) { return in_range(value<uint8_t>(field), field, lo, hi); }
  int32_t in_range(int32_t v, const char* field, int32_t lo, int32_t hi) {
    if (v < lo || v > hi)
      throw std::runtime_error(name_ + ": field '" + field + "' is " + std::to_string(v) +
                               ", expected " + std::to_string(lo) + ".." + std::to_string(hi));
    return v;
  }
  double number(const char* field) {
    double v = value<double>(field);
    if (!std::isfinite(v)) throw std::runtime_error(name_ + ": field '" + field + "' is not finite");
    return v;
  }
  std::string text(const char* field, uint32_t longest = 4096) {
    uint32_t n = value<uint32_t>(field);
    if (n > longest) throw std::runtime_error(name_ + ": field '" + field + "' is too long");
    std::string s(n, '\0');
    bytes(&s[0], n, field);
    return s;
  }
  std::vector<float> floats(const char* field, std::size_t expected) {
    uint64_t n = value<uint64_t>(field);
    if (n != expected)
      throw std::runtime_error(name_ + ": field '" + field + "' holds " + std::to_string(n) +
                               " values, the configuration needs " + std::to_string(expected));
    if (n > left() / sizeof(float))
      throw std::runtime_error(name_ + ": truncated: field '" + field + "' needs " + std::to_string(n * sizeof(float)) +
                               " bytes, the file has " + std::to_string(left()) + " left");
    std::vector<float> v(n);
    bytes(v.data(), n * sizeof(float), field);
    for (std::size_t i = 0; i < n; ++i)
      if (!std::isfinite(v[i]))
        throw std::runtime_error(name_ + ": field '" + field + "' has a non-finite value at " +
                                 std::to_string(i));
    return v;
  }
  void expect_end() {
    if (pos_ != size_)
      throw std::runtime_error(name_ + ": " + std::to_string(size_ - pos_) + " unexpected bytes after the last field");
  }
  std::size_t left() const { return size_ - pos_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  const uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// The settings records a checkpoint can hold: one per tagged setting.
uint32_t tagged_settings() {
  uint32_t n = 0;
  for (const Setting& s : settings_table()) n += s.tag != nullptr;
  return n;
}

// Version 4: the settings as "tag=value" records (settings.h). A setting the
// file lacks keeps its default (or its value before it existed,
// Setting::absent), derived from the others where it follows them, so that
// adding a setting never changes the layout.
void read_settings(Reader& r, TrainConfig& c) {
  const uint32_t n = r.value<uint32_t>("settings");
  if (n > tagged_settings())
    throw std::runtime_error(r.name() + ": " + std::to_string(n) + " settings records, more than the " +
                             std::to_string(tagged_settings()) + " settings this program knows");
  std::set<std::string> seen;
  for (uint32_t i = 0; i < n; ++i) {
    const std::string record = r.text("settings", kLongestRecord);
    const std::size_t equals = record.find('=');
    const std::string tag = record.substr(0, equals);
    const Setting* s = equals == std::string::npos ? nullptr : find_tag(tag);
    if (!s) throw std::runtime_error(r.name() + ": unknown setting '" + tag + "'");
    if (!seen.insert(tag).second) throw std::runtime_error(r.name() + ": setting '" + tag + "' appears twice");
    const std::string problem = set_setting(*s, c, record.substr(equals + 1));
    if (!problem.empty()) throw std::runtime_error(r.name() + ": setting '" + tag + "': " + problem);
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
  AtomicFile file(path);
  Writer w(file);
  file.write(kMagic, sizeof kMagic);
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
  file.commit();
}

uint64_t largest_checkpoint_bytes() {
  // The largest model: every width, the patch, the scales, the channels and
  // the classes at the top of their range in the settings table, and the
  // core and locator with the most weights.
  ModelConfig m;
  const auto top = [](const char* tag) { return static_cast<int>(find_tag(tag)->accepts.hi); };
  m.channels = top("channels");
  m.classes = top("classes");
  m.patch = top("patch");
  m.scales = top("scales");
  m.what_hidden = top("what_hidden");
  m.where_hidden = top("where_hidden");
  m.glimpse_hidden = top("glimpse_hidden");
  m.hidden = top("hidden");
  uint64_t count = 0;
  for (CoreKind core : {CoreKind::rnn, CoreKind::lstm, CoreKind::gru})
    for (LocatorKind locator : {LocatorKind::linear, LocatorKind::lstm}) {
      m.core = core;
      m.locator = locator;
      count = std::max<uint64_t>(count, parameter_count(m));
    }
  // Magic and version; the records, each a length and at most
  // kLongestRecord bytes; the parameters, the training state and the two
  // moment buffers, each a count and f32 numbers. (Versions 1 to 3 hold less:
  // two texts of at most 4096 bytes and fixed fields in place of the records.)
  const uint64_t records = 4 + uint64_t{tagged_settings()} * (4 + kLongestRecord);
  const uint64_t state = 1 + 4 + 8 + 4 + 8 + 8;
  return sizeof kMagic + 4 + records + state + 3 * (8 + count * sizeof(float));
}

namespace {

// The whole of a checkpoint file, after checking that it is a regular file
// no larger than any checkpoint can be: a directory, a device such as
// /dev/zero or a FIFO is refused by name before a byte is read.
std::vector<uint8_t> checkpoint_file_bytes(const std::string& path) {
  // O_NONBLOCK: opening a FIFO does not wait for a writer; a regular file
  // reads as usual.
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) throw std::runtime_error(path + ": cannot read: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw std::runtime_error(path + ": is a directory, not a checkpoint file");
  if (!S_ISREG(st.st_mode)) throw std::runtime_error(path + ": is not a regular file (a checkpoint is one)");
  const uint64_t size = static_cast<uint64_t>(st.st_size), largest = largest_checkpoint_bytes();
  if (size > largest)
    throw std::runtime_error(path + ": " + std::to_string(size) + " bytes, more than the " + std::to_string(largest) +
                             " of a checkpoint of the largest model the settings allow; not a ram checkpoint");
  std::vector<uint8_t> bytes(size);
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(path + ": cannot read: " + std::strerror(errno));
    if (n == 0) break;  // the file shrank while being read: the parser says where it ends
    got += static_cast<std::size_t>(n);
  }
  bytes.resize(got);
  return bytes;
}

}  // namespace

Checkpoint load_checkpoint(const std::string& path) {
  const std::vector<uint8_t> bytes = checkpoint_file_bytes(path);
  return parse_checkpoint(bytes.data(), bytes.size(), path);
}

Checkpoint parse_checkpoint(const uint8_t* data, std::size_t size, const std::string& name) {
  if (size == 0) throw std::runtime_error(name + ": empty file, not a ram checkpoint");
  Reader r(data, size, name);
  char magic[8];
  r.bytes(magic, sizeof magic, "magic");
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0)
    throw std::runtime_error(name + ": not a ram checkpoint (wrong magic number)");
  const uint32_t version = r.value<uint32_t>("version");
  if (version < 1 || version > kVersion)
    throw std::runtime_error(name + ": format version " + std::to_string(version) +
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
    throw std::runtime_error(name + ": bad model configuration: " + e.what());
  }
  // What the configuration needs, counted without allocating: r.floats
  // compares it with the file before making room for it.
  const std::size_t count = parameter_count(c.model);
  ck.params = r.floats("parameters", count);
  ck.has_training_state = r.integer8("has_training_state", 0, 1) != 0;
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

TrainedModel load_trained(const std::string& path, const std::string& dataset, const std::string& data_dir,
                          bool allow_other_data) {
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
  // The very images it was trained on, unless other ones are asked for.
  const std::string& trained_on = ck.config.data_fingerprint;
  const std::string found = data_fingerprint(data);
  if (trained_on.empty())
    std::fprintf(stderr, "warning: %s records no data set fingerprint (written by an earlier version): the "
                 "images in %s are not checked against those it was trained on\n", path.c_str(), c.data_dir.c_str());
  else if (trained_on != found && !allow_other_data && c.dataset == ck.config.dataset)
    throw std::runtime_error(path + ": was trained on " + ck.config.dataset + " from " + ck.config.data_dir +
                             " (data fingerprint " + trained_on + "), but the " + c.dataset + " images in " +
                             c.data_dir + " are others (fingerprint " + found +
                             "); --allow-other-data runs it on them anyway");
  c.data_fingerprint = found;
  TrainedModel model{c, std::move(data), Parameters(c.model)};
  restore_parameters(ck, model.params);
  return model;
}
