// test_bad_input.cpp: input the program cannot trust never crashes it and
// never costs more memory than it holds. A checkpoint is refused by what it
// is (a directory, a device, an empty file, a file larger than any
// checkpoint) before a byte is read, and a header that claims a huge model
// is refused before memory is set aside for it; an SGD checkpoint (no second
// moment) reads back; weights that overflow the float forward pass are
// counted, and the sensor still looks inside the image; a checkpoint knows
// the images it was trained on; settings that need more memory than the
// machine has are refused with the number, and the estimate is what the
// buffers really take.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>  // mallinfo2
#endif

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <stdexcept>

#include "checkpoint_bytes.h"
#include "kernels/fingerprint.h"
#include "kernels/thread_pool.h"
#include "small_run.h"
#include "test_files.h"
#include "train/checkpoint.h"
#include "train/settings.h"
#include "train/train.h"

namespace {

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A format 4 header with these settings records, then a parameter count
// and no parameters: what a file of a hundred-odd bytes can claim.
std::vector<uint8_t> header_only(const std::vector<std::string>& records, uint64_t count) {
  std::vector<uint8_t> b;
  for (char ch : std::string("RAMCKPT", 8)) b.push_back(static_cast<uint8_t>(ch));
  put<uint32_t>(b, 4);
  put<uint32_t>(b, static_cast<uint32_t>(records.size()));
  for (const std::string& r : records) put_text(b, r);
  put<uint64_t>(b, count);
  return b;
}

// Runs `action` in a child process whose address space is limited to
// `limit_bytes` more than the parent's now; returns the child's exit code:
// 0 when action returned, 3 when it threw std::bad_alloc, 4 for another
// exception.
template <class F>
int exit_code_with_memory_limit(std::size_t limit_bytes, F action) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::ifstream status("/proc/self/status");
    std::size_t vm_kb = 0;
    for (std::string line; std::getline(status, line);)
      if (line.rfind("VmSize:", 0) == 0) vm_kb = std::stoul(line.substr(7));
    rlimit limit{vm_kb * 1024 + limit_bytes, vm_kb * 1024 + limit_bytes};
    setrlimit(RLIMIT_AS, &limit);
    try {
      action();
    } catch (const std::bad_alloc&) {
      _exit(3);
    } catch (...) {
      _exit(4);
    }
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

// The shared small run made smaller still: one epoch, one thread.
TrainConfig tiny_run(const std::string& data_dir, const std::string& out_dir) {
  TrainConfig c = small_run(data_dir, out_dir, 1);
  c.model.glimpses = 2;
  c.model.what_hidden = c.model.where_hidden = 8;
  c.model.glimpse_hidden = c.model.hidden = 16;
  c.threads = 1;
  return c;
}

}  // namespace

TEST_CASE("checkpoint: a directory, a device, an empty file and an oversized file are refused by name, unread") {
  TempDir dir;
  CHECK(contains(error_of([&] { load_checkpoint(dir.path()); }), dir.path() + ": is a directory"));
  CHECK(contains(error_of([&] { load_checkpoint("/dev/zero"); }), "/dev/zero: is not a regular file"));
  const std::string fifo = dir.file("fifo");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(contains(error_of([&] { load_checkpoint(fifo); }), "fifo: is not a regular file"));  // no writer: no wait
  write_file(dir.file("empty.bin"), {});
  CHECK(contains(error_of([&] { load_checkpoint(dir.file("empty.bin")); }), "empty.bin: empty file"));
  // One byte past the largest checkpoint, as a sparse file: no disk is used
  // and nothing is read.
  const std::string huge = dir.file("huge.bin");
  const int fd = open(huge.c_str(), O_CREAT | O_WRONLY, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, static_cast<off_t>(largest_checkpoint_bytes() + 1)) == 0);
  close(fd);
  CHECK(contains(error_of([&] { load_checkpoint(huge); }), "more than the"));
  // The largest model of the table: about 1.4e9 parameters, three copies.
  CHECK(largest_checkpoint_bytes() > 3 * 4 * uint64_t{1400000000});
  CHECK(largest_checkpoint_bytes() < 3 * 4 * uint64_t{1500000000});
}

TEST_CASE("checkpoint: a header that claims a huge model is refused before its memory is set aside") {
  // Layer widths 8192, 6 scales of 64x64 patches, 4 channels, an LSTM core:
  // 1.4e9 parameters, 5.6 GB, claimed by a file of 150 bytes.
  ModelConfig huge;
  huge.channels = 4;
  huge.patch = 64;
  huge.scales = 6;
  huge.what_hidden = huge.glimpse_hidden = huge.hidden = 8192;
  huge.core = CoreKind::lstm;
  const uint64_t count = parameter_count(huge);
  CHECK(count > 1400000000);
  const std::vector<uint8_t> bytes =
      header_only({"channels=4", "patch=64", "scales=6", "what_hidden=8192", "glimpse_hidden=8192", "hidden=8192",
                   "core=lstm"},
                  count);
  TempDir dir;
  write_file(dir.file("claims.bin"), bytes);
  const std::string error = error_of([&] { load_checkpoint(dir.file("claims.bin")); });
  CHECK(contains(error, "claims.bin: truncated: field 'parameters' needs"));
  // With 256 MB of room: the claim must be refused, not allocated.
  CHECK(exit_code_with_memory_limit(256 << 20, [&] {
          try {
            load_checkpoint(dir.file("claims.bin"));
          } catch (const std::runtime_error&) {
          }
        }) == 0);
  // A settings record that claims to be longer than what follows.
  std::vector<uint8_t> b = header_only({"glimpses=3"}, 0);
  b.resize(16);
  put<uint32_t>(b, 60000);
  b.insert(b.end(), {'x', 'y'});
  CHECK(contains(error_of([&] { parse_checkpoint(b.data(), b.size(), "record"); }),
                 "record: truncated: file ends inside field 'settings'"));
  // More records than there are settings.
  b = header_only({}, 0);
  const uint32_t many = 5000;
  std::memcpy(&b[12], &many, 4);
  CHECK(contains(error_of([&] { parse_checkpoint(b.data(), b.size(), "many"); }), "many: 5000 settings records"));
  // A has_training_state byte other than 0 or 1.
  TrainConfig c;
  c.model.glimpses = 1;
  c.model.what_hidden = c.model.where_hidden = c.model.glimpse_hidden = c.model.hidden = 4;
  Parameters params(c.model);
  save_checkpoint(dir.file("ok.bin"), c, params, nullptr, nullptr);
  b = file_bytes(dir.file("ok.bin"));
  b.back() = 7;
  CHECK(contains(error_of([&] { parse_checkpoint(b.data(), b.size(), "flag"); }),
                 "flag: field 'has_training_state' is 7, expected 0..1"));
}

TEST_CASE("checkpoint: an SGD run (no second moment) reads back, field for field") {
  TempDir dir;
  TrainConfig c;
  c.model.glimpses = 2;
  c.model.what_hidden = c.model.where_hidden = c.model.glimpse_hidden = c.model.hidden = 8;
  c.optimizer = OptimizerConfig{OptimizerKind::sgd, 0.01};
  Parameters params(c.model), grads(c.model);
  params.init_uniform(3);
  grads.init_uniform(4);
  Optimizer optimizer(c.optimizer, params.size());
  optimizer.step(params.data(), grads.data(), 0.01);
  const TrainingState state{1, 0.5, 1, 2.0};
  save_checkpoint(dir.file("sgd.bin"), c, params, &state, &optimizer);
  const Checkpoint ck = load_checkpoint(dir.file("sgd.bin"));
  CHECK(ck.optimizer_second.empty());
  CHECK(ck.optimizer_first.size() == params.size());
  CHECK(std::equal(ck.params.begin(), ck.params.end(), params.data()));
  CHECK(std::equal(ck.optimizer_first.begin(), ck.optimizer_first.end(), optimizer.first.data()));
}

TEST_CASE("evaluation: weights that overflow are counted as non-finite outputs; the sensor still looks inside") {
  // Finite weights of +-3e38 pass the checkpoint's finiteness check; the
  // forward pass overflows to inf, and inf - inf is NaN.
  ModelConfig config;
  config.glimpses = 3;
  config.what_hidden = config.where_hidden = 8;
  config.glimpse_hidden = config.hidden = 16;
  Parameters params(config);
  params.init_uniform(2);  // then +-3e38 with the signs of uniform draws
  for (std::size_t i = 0; i < params.size(); ++i) params.data()[i] = params.data()[i] < 0 ? -3e38f : 3e38f;
  Dataset images;
  images.count = 7;
  images.channels = 1;
  images.height = images.width = 28;
  images.classes = 10;
  images.pixels.assign(7 * 28 * 28, 200);
  images.labels.assign(7, 3);
  ThreadPool pool(2);
  const Evaluation e = evaluate(params, config, images, pool, 1);
  CHECK(e.non_finite == 7);
  CHECK_FALSE(std::isfinite(e.nll));
  // The locations are NaN before the clamp; the sensor looks at the centre.
  Episode ep(config, 7);
  ep.resize(7);
  for (int j = 0; j < 7; ++j) ep.images[j] = images.image(j);
  episode_forward(params, ep, Locations::mean);
  int nan_actions = 0;
  for (std::size_t i = 0; i < 2 * 7; ++i) nan_actions += std::isnan(ep.l_raw[i + 7 * 2 * 2]);  // glimpse 3
  CHECK(nan_actions == 14);
  for (std::size_t i = 0; i < ep.l.size(); ++i) {
    CAPTURE(i);
    CHECK(ep.l[i] >= -1);
    CHECK(ep.l[i] <= 1);
  }
  // Sane weights: nothing counted.
  params.init_uniform(1);
  CHECK(evaluate(params, config, images, pool, 1).non_finite == 0);
}

TEST_CASE("data: a fingerprint changes with any bit of any byte, the tail and the length included") {
  // 19 bytes: two whole words and a tail of three.
  std::vector<uint8_t> bytes(19);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(37 * i + 11);
  const uint64_t h = fingerprint(bytes.data(), bytes.size());
  std::set<uint64_t> seen = {h};
  for (std::size_t i = 0; i < bytes.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      bytes[i] ^= static_cast<uint8_t>(1 << bit);
      seen.insert(fingerprint(bytes.data(), bytes.size()));
      bytes[i] ^= static_cast<uint8_t>(1 << bit);
    }
  CHECK(seen.size() == 1 + 19 * 8);
  // Zero bytes added at the end change it too: the length is folded in.
  const std::vector<uint8_t> zeros(24, 0);
  std::set<uint64_t> lengths;
  for (std::size_t n = 0; n <= zeros.size(); ++n) lengths.insert(fingerprint(zeros.data(), n));
  CHECK(lengths.size() == zeros.size() + 1);
}

TEST_CASE("data: a checkpoint knows the images it was trained on; eval, show and --resume refuse others") {
  TempDir data, other, run;
  write_fake_mnist(data, 10050, 20, 10050);
  write_fake_mnist(other, 10050, 20, 10050);
  // The other set: the same shapes, one test pixel changed.
  std::vector<uint8_t> test_images = file_bytes(other.file("t10k-images-idx3-ubyte"));
  test_images.back() ^= 1;
  write_file(other.file("t10k-images-idx3-ubyte"), test_images);

  const TrainConfig c = tiny_run(data.path(), run.path());
  train(c, false, "first");
  const Checkpoint ck = load_checkpoint(run.file("model.bin"));
  CHECK(ck.config.data_fingerprint.size() == 16);
  CHECK(load_trained(run.file("model.bin")).config.data_fingerprint == ck.config.data_fingerprint);
  const std::string refused = error_of([&] { load_trained(run.file("model.bin"), "", other.path()); });
  CHECK(contains(refused, run.file("model.bin") + ": was trained on mnist from " + data.path()));
  CHECK(contains(refused, "images in " + other.path() + " are others"));
  CHECK(contains(refused, "--allow-other-data"));
  CHECK(error_of([&] { load_trained(run.file("model.bin"), "", other.path(), true); }).empty());
  // --resume with --data naming other files.
  TrainConfig resumed = c;
  resumed.data_dir = other.path();
  resumed.epochs = 2;
  CHECK(contains(error_of([&] { train(resumed, true, "resumed"); }), "last.bin: was trained on mnist from"));
  // The same files elsewhere are the same data set.
  TempDir copy;
  write_fake_mnist(copy, 10050, 20, 10050);
  CHECK(error_of([&] { load_trained(run.file("model.bin"), "", copy.path()); }).empty());
  // A checkpoint written before checkpoints had a fingerprint loads (with a
  // warning), whatever the data.
  std::vector<uint8_t> b = file_bytes(run.file("model.bin"));
  const std::string record = "data_fingerprint=" + ck.config.data_fingerprint;
  const auto at = std::search(b.begin(), b.end(), record.begin(), record.end());
  REQUIRE(at != b.end());
  b.erase(at - 4, at + static_cast<std::ptrdiff_t>(record.size()));
  uint32_t records = 0;
  std::memcpy(&records, &b[12], 4);
  --records;
  std::memcpy(&b[12], &records, 4);
  write_file(run.file("old.bin"), b);
  CHECK(load_checkpoint(run.file("old.bin")).config.data_fingerprint.empty());
  CHECK(error_of([&] { load_trained(run.file("old.bin"), "", other.path()); }).empty());
}

TEST_CASE("memory: settings that need more than the machine has are refused with the number") {
  ModelConfig huge;
  huge.patch = 64;
  huge.scales = 6;
  huge.glimpses = 64;
  // 64 glimpses of 6 x 64 x 64 retina values for 50,000 images: 315 GB of rho alone.
  const std::size_t bytes = training_bytes(huge, 50000, 2, 2);
  CHECK(bytes > std::size_t{64} * 50000 * 6 * 64 * 64 * sizeof(real));
  const std::string error = error_of([&] { require_memory(bytes, "these settings"); });
  CHECK(contains(error, "these settings needs about"));
  CHECK(contains(error, "GB of memory, more than this machine's"));
  CHECK(error_of([&] { require_memory(std::size_t{1} << 20, "a megabyte"); }).empty());
}

// glibc's own count; under AddressSanitizer (make test-sanitize) malloc is
// the sanitizer's, and glibc counts nothing.
#if defined(__SANITIZE_ADDRESS__)
#define RAM_SANITIZER_MALLOC
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RAM_SANITIZER_MALLOC
#endif
#endif
#if defined(__GLIBC__) && !defined(RAM_SANITIZER_MALLOC)
TEST_CASE("memory: episode_bytes is what an Episode allocates") {
  // glibc's count of the bytes in use, the large (mapped) blocks included.
  const auto in_use = [] {
    const struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
  };
  for (CoreKind core : {CoreKind::rnn, CoreKind::lstm, CoreKind::gru})
    for (LocatorKind locator : {LocatorKind::linear, LocatorKind::lstm}) {
      ModelConfig c;
      c.core = core;
      c.locator = locator;
      c.scales = 2;
      const std::string core_label = core_name(core);
      CAPTURE(core_label);
      CAPTURE(static_cast<int>(locator));
      const std::size_t before = in_use();
      const Episode ep(c, 300);
      const double allocated = static_cast<double>(in_use() - before), estimated = episode_bytes(c, 300);
      // Each buffer's alignment, its block header and the rounding of the
      // large ones to whole pages add at most a few kilobytes each; the
      // buffers are megabytes, and the smallest pair of them (dh_turns) 3 %.
      CHECK(estimated > 1e6);
      CHECK(allocated == doctest::Approx(estimated).epsilon(0.01));
    }
}
#endif
