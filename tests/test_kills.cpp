// test_kills.cpp: nothing is lost when a run is killed or the disk is full.
// A training run is killed (SIGKILL) at many instants, inside checkpoint and
// metrics writes included, and resumed each time; every file it leaves must
// read back, no finished epoch may be lost, and the run resumed to its end
// must equal the uninterrupted run bit for bit. A write that fails for lack
// of space must leave the previous file whole and no temporary behind.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <thread>

#include "kernels/random.h"
#include "small_run.h"
#include "test_files.h"
#include "train/atomic_file.h"
#include "train/checkpoint.h"
#include "train/train.h"

namespace {

// The number of epoch rows of a metrics.csv's text.
int rows(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n - 1;  // the header
}

// Long enough (40 epochs, decaying over all of them) to be killed mid-run.
TrainConfig kill_run(const std::string& data_dir, const std::string& out_dir) {
  TrainConfig c = small_run(data_dir, out_dir, 40);
  c.optimizer.decay_epochs = 40;
  c.seed = 21;
  return c;
}

// Runs `action` in a child process with stdout and stderr silenced; returns
// its pid.
template <class F>
pid_t spawn(F action) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    int code = 0;
    try {
      action();
    } catch (...) {
      code = 3;
    }
    _exit(code);
  }
  return pid;
}

}  // namespace

TEST_CASE("kills: a run killed at any instant loses at most the epoch in flight and resumes to the same bits") {
  TempDir data_dir, whole, killed;
  write_fake_mnist(data_dir, 10050, 20, 10050);
  const auto start = std::chrono::steady_clock::now();
  train(kill_run(data_dir.path(), whole.path()), false, "whole");
  const double whole_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string reference = without_seconds(read_text(whole.file("metrics.csv")));

  const TrainConfig config = kill_run(data_dir.path(), killed.path());
  Rng rng(4);
  int kills = 0, resumes = 0, finished_early = 0;
  bool done = false;
  // The kills fall within a window of the whole run's time. The machine's
  // speed can change between the reference run and the children, either
  // way: a child killed before it saves an epoch, time after time, or one
  // that saves several epochs a life and so is killed only a few times in
  // all. So the window follows what each life saved: wider after none, so
  // that the run moves on; narrower after more than one, so that it is
  // killed about once an epoch.
  double window = 0.06;
  int epochs_saved = 0;
  for (int attempt = 0; attempt < 200 && !done; ++attempt) {
    const bool resume = std::filesystem::exists(killed.file("last.bin"));
    resumes += resume;
    const pid_t pid = spawn([&] { train(config, resume, "killed"); });
    // Any instant of the run: loading, training, evaluating, writing.
    const double delay = whole_seconds * window * rng.uniform();
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) {
      REQUIRE(WEXITSTATUS(status) == 0);
      ++finished_early;
    } else {
      ++kills;
    }
    // What the kill left must read back and agree with the reference.
    if (!std::filesystem::exists(killed.file("last.bin"))) {
      window = std::min(1.0, window * 1.1);
      continue;
    }
    const Checkpoint last = load_checkpoint(killed.file("last.bin"));
    const int saved = last.state.epochs_done - epochs_saved;
    window = saved == 0 ? std::min(1.0, window * 1.1) : saved > 1 ? window / 2 : window;
    epochs_saved = last.state.epochs_done;
    if (std::filesystem::exists(killed.file("model.bin"))) load_checkpoint(killed.file("model.bin"));
    const std::string metrics = without_seconds(read_text(killed.file("metrics.csv")));
    CAPTURE(attempt);
    // Every epoch in last.bin is in metrics.csv (one more, the epoch in
    // flight, may be there too), and the rows are the reference's.
    CHECK(rows(metrics) >= last.state.epochs_done);
    CHECK(rows(metrics) <= last.state.epochs_done + 1);
    CHECK(reference.compare(0, metrics.size(), metrics) == 0);
    done = last.state.epochs_done == config.epochs;
  }
  if (!done) train(config, true, "finished");
  MESSAGE("kills " << kills << ", resumes " << resumes << ", runs that ended before their kill " << finished_early);
  CHECK(kills >= 25);
  CHECK(without_seconds(read_text(killed.file("metrics.csv"))) == reference);
  const Checkpoint a = load_checkpoint(whole.file("last.bin")), b = load_checkpoint(killed.file("last.bin"));
  CHECK(a.params == b.params);
  CHECK(a.optimizer_first == b.optimizer_first);
  CHECK(a.optimizer_second == b.optimizer_second);
  CHECK(load_checkpoint(whole.file("model.bin")).params == load_checkpoint(killed.file("model.bin")).params);
}

// Runs `write` in a child whose files may not grow past `limit` bytes (a
// stand-in for a full disk: past it, write() fails with EFBIG; the SIGXFSZ it
// would also send is ignored). The child's exit code: 0 if `write` threw an
// error naming `path` and saying the old file was kept, 4 for another error,
// 5 if it did not fail.
template <class F>
int exit_code_under_file_limit(rlim_t limit, const std::string& path, F write) {
  const pid_t pid = spawn([&] {
    signal(SIGXFSZ, SIG_IGN);
    rlimit size{limit, limit};
    setrlimit(RLIMIT_FSIZE, &size);
    try {
      write();
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      _exit(what.find(path) != std::string::npos && what.find("kept") != std::string::npos ? 0 : 4);
    }
    _exit(5);  // no error: the limit did not bite
  });
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST_CASE("atomic files: a write that fails for lack of space keeps the old file and leaves no temporary") {
  TempDir dir;
  const std::string path = dir.file("metrics.csv");
  write_file_atomically(path, "old contents\n");
  CHECK(exit_code_under_file_limit(4096, path, [&] { write_file_atomically(path, std::string(1 << 20, 'x')); }) == 0);
  CHECK(read_text(path) == "old contents\n");
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_CASE("atomic files: a checkpoint that fails for lack of space keeps the previous one whole") {
  TempDir dir;
  const std::string path = dir.file("last.bin");
  TrainConfig c;
  c.model.glimpses = 2;
  c.model.what_hidden = c.model.where_hidden = c.model.glimpse_hidden = c.model.hidden = 4;
  Parameters small(c.model);
  small.init_uniform(1);
  save_checkpoint(path, c, small, nullptr, nullptr);
  const Checkpoint before = load_checkpoint(path);
  // The default model's checkpoint (about 1 MB) does not fit under the limit.
  TrainConfig big;
  CHECK(exit_code_under_file_limit(64 << 10, path, [&] {
          Parameters params(big.model);
          Optimizer optimizer(big.optimizer, params.size());
          const TrainingState state;
          save_checkpoint(path, big, params, &state, &optimizer);
        }) == 0);
  CHECK(load_checkpoint(path).params == before.params);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}
