// thread_pool.h: a fixed set of worker threads that run numbered tasks, and
// teams of them that share the big products of one task.
//
// Training cuts every batch into a fixed number of shards and runs one task
// per shard; which thread runs which shard does not matter, because each
// shard writes only its own buffers and the caller combines the shards in
// shard order. That is what makes a run's numbers independent of --threads.
//
// With more threads than shards, the threads left over join the shards as
// helpers (ThreadPool::run_teams): a shard's thread leads a Team, and the
// matrix products of its task (kernels/gemm.cpp) cut their output into
// blocks that the team's threads compute side by side. Every element of a
// product is still summed by one thread in the one order its kernel fixes,
// so the bits do not depend on the team's size either.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

// Start of part k of n elements cut into `parts` ranges, each a multiple of
// 16 elements (one cache line of floats) except the last.
inline std::size_t element_range_begin(std::size_t n, int parts, int k) {
  const std::size_t lines = (n + 15) / 16;
  const std::size_t begin = lines * static_cast<std::size_t>(k) / static_cast<std::size_t>(parts) * 16;
  return begin < n ? begin : n;
}

// A thread waiting for others spins first, for up to kSpinMicroseconds:
// the hand-offs of a training step come microseconds apart, far sooner than
// a sleeping thread wakes (on the 2-core host of docs/performance.md, a wake
// per hand-off left a tenth of the two cores idle). Past that it sleeps.
constexpr int kSpinMicroseconds = 200;
// A short wait in a spin loop that began at `start`. After
// kPauseMicroseconds the thread offers its core to others at every turn:
// on a busy machine the thread it waits for may be queued behind it on the
// same core. Not sooner: an offer is a system call, and a helper inside one
// when a product is handed out starts its share late (offering after a few
// microseconds, the leader of a team of two spent 12 % of a step waiting
// for parts).
constexpr int kPauseMicroseconds = 50;
inline void spin_pause(std::chrono::steady_clock::time_point start) {
  if (std::chrono::steady_clock::now() - start > std::chrono::microseconds(kPauseMicroseconds)) {
    std::this_thread::yield();
    return;
  }
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
// Spins (spin_pause) while done() is false, for at most kSpinMicroseconds.
template <class Done>
void spin_until(Done&& done) {
  for (const auto start = std::chrono::steady_clock::now();
       !done() && std::chrono::steady_clock::now() - start < std::chrono::microseconds(kSpinMicroseconds);)
    spin_pause(start);
}

// A shard's thread (the leader) and the threads that help it. The leader
// hands out the parts of a piece of work with run(); helpers take parts in
// serve() until the leader closes the team.
//
// Each member owns a contiguous block of a job's parts: member m of n the
// parts [parts m / n, parts (m + 1) / n). A product cut into blocks of rows
// (kernels/gemm.cpp) then gives a member the same rows of the batch from
// one product to the next, the rows whose inputs it wrote itself and holds
// in its own cache. A member takes its own block from the front; done, it
// takes the other blocks' parts from the back, so a helper that is late (or
// never comes) leaves its parts to the others: run() never waits for a
// helper to arrive, only for the parts already taken to finish.
//
// An idle helper spins between two products (spin_until), then sleeps on a
// condition variable.
class Team {
 public:
  Team() = default;
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  // Threads that may run parts: the leader and its helpers.
  int members() const { return 1 + helpers_; }

  // Runs part(0) .. part(parts - 1), each once, on the leader (the calling
  // thread) and the helpers serving; returns when all are done. Inside a
  // part, this_thread_team() is nullptr: work a part starts runs on its
  // own thread. A part must not throw: its count of finished parts would
  // never be reached (the matrix products it serves do not throw).
  template <class Part>
  void run(int parts, Part&& part) {
    Team*& slot = this_thread_team();
    Team* const leading = slot;
    slot = nullptr;
    if (parts <= 1 || helpers_ == 0) {
      for (int i = 0; i < parts; ++i) part(i);
      slot = leading;
      return;
    }
    task_ = static_cast<void*>(&part);
    call_ = [](void* t, int i) { (*static_cast<std::remove_reference_t<Part>*>(t))(i); };
    done_.store(0, std::memory_order_relaxed);
    // The blocks, before the job is published: a helper that reads a block
    // of this job also reads task_ and call_ as written above.
    const int n = members();
    for (int m = 0; m < n; ++m)
      blocks_[m].range.store(range_of(parts * m / n, parts * (m + 1) / n), std::memory_order_release);
    publish(job_.load(std::memory_order_relaxed) + 1);
    take_parts(0);
    for (const auto start = std::chrono::steady_clock::now(); done_.load(std::memory_order_acquire) < parts;)
      spin_pause(start);
    slot = leading;
  }

  // A helper's loop: takes parts of the leader's runs until close(). Helpers
  // are members 1, 2, ... in the order they arrive.
  void serve() {
    const int member = 1 + arrived_.fetch_add(1, std::memory_order_relaxed) % helpers_;
    for (;;) {
      const uint64_t seen = job_.load(std::memory_order_acquire);
      take_parts(member);
      if (closed_.load(std::memory_order_acquire)) return;
      wait_for_change(seen);
    }
  }

  // Before a round of tasks: no job yet, `helpers` threads expected.
  void open(int helpers) {
    helpers_ = helpers;
    if (static_cast<int>(blocks_.size()) < helpers + 1) blocks_ = std::vector<Block>(helpers + 1);
    for (Block& b : blocks_) b.range.store(0, std::memory_order_relaxed);
    job_.store(0, std::memory_order_relaxed);
    arrived_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    closed_.store(false, std::memory_order_release);
  }
  // After the leader's task: the helpers return from serve().
  void close() {
    closed_.store(true, std::memory_order_seq_cst);
    wake_sleepers();
  }

  // The team of the calling thread while it leads one, else nullptr.
  static Team*& this_thread_team() {
    thread_local Team* team = nullptr;
    return team;
  }

 private:
  // A member's block of parts not yet claimed, [front, back), in one word
  // (front in bits 0..31, back in 32..63), so that a claim from either end
  // (compare and swap) sees the other end as it is. Blocks sit on cache
  // lines of their own: members claim side by side.
  struct alignas(64) Block {
    std::atomic<uint64_t> range{0};
  };
  static uint64_t range_of(int front, int back) {
    return static_cast<uint64_t>(back) << 32 | static_cast<uint32_t>(front);
  }
  static int front_of(uint64_t range) { return static_cast<int>(range & 0xffffffff); }
  static int back_of(uint64_t range) { return static_cast<int>(range >> 32); }

  // Claims a part of block b, its first when `from_front`, else its last;
  // -1 when the block has none left. The swap succeeds only on the block's
  // present word, so a claim is a part of the job that set it, even for a
  // member that read the word during the job before (the leader sets the
  // next job's blocks only once every part claimed is done); task_ and
  // call_, read after the claim, are the ones written before that job's
  // blocks were.
  int claim(int b, bool from_front) {
    std::atomic<uint64_t>& range = blocks_[b].range;
    uint64_t r = range.load(std::memory_order_acquire);
    for (;;) {
      const int front = front_of(r), back = back_of(r);
      if (front >= back) return -1;
      const uint64_t rest = from_front ? range_of(front + 1, back) : range_of(front, back - 1);
      if (range.compare_exchange_weak(r, rest, std::memory_order_acq_rel, std::memory_order_acquire))
        return from_front ? front : back - 1;
    }
  }

  // Runs the parts of the member's own block, then those left in the others'
  // (the next member's first), until none is left.
  void take_parts(int member) {
    const int n = members();
    for (int d = 0; d < n; ++d) {
      const int b = (member + d) % n;
      for (int k; (k = claim(b, d == 0)) >= 0;) {
        call_(task_, k);
        done_.fetch_add(1, std::memory_order_release);
      }
    }
  }

  void publish(uint64_t job) {
    job_.store(job, std::memory_order_seq_cst);
    wake_sleepers();
  }
  void wake_sleepers() {
    if (sleepers_.load(std::memory_order_seq_cst) == 0) return;
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }
  // Returns once the job number differs from `seen` or the team is closed:
  // spinning first, then asleep. A sleeper counts itself under the mutex
  // before its last look, and publish() looks at the count after storing,
  // so one of the two sees the other.
  void wait_for_change(uint64_t seen) {
    const auto changed = [&] {
      return job_.load(std::memory_order_acquire) != seen || closed_.load(std::memory_order_acquire);
    };
    spin_until(changed);
    if (changed()) return;
    std::unique_lock<std::mutex> lock(mutex_);
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    while (job_.load(std::memory_order_seq_cst) == seen && !closed_.load(std::memory_order_seq_cst))
      wake_.wait(lock);
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  }
  int helpers_ = 0;
  std::vector<Block> blocks_;   // one per member
  std::atomic<uint64_t> job_{0};  // the job number, counting the leader's runs
  std::atomic<int> arrived_{0};  // helpers that came to serve
  std::atomic<int> done_{0};    // parts of the current job finished
  std::atomic<bool> closed_{false};
  std::atomic<int> sleepers_{0};
  void* task_ = nullptr;                // the leader's part function
  void (*call_)(void*, int) = nullptr;  // calls it with a part number
  std::mutex mutex_;
  std::condition_variable wake_;
};

// Runs rows(begin, end) over the rows [0, n) of a pass whose rows are
// computed each on its own (an elementwise pass, the forward pass of a
// block of images). A thread leading a team cuts the rows into blocks that
// its members run side by side, when the pass is big enough to pay for the
// hand-off: at least kElementsPerPart of `row_elements` each (about 4 us of
// one core, against about 1 us of hand-off). Two blocks per member, so that
// a helper still waking leaves half a share, not a whole one, for the
// others to wait on.
// A row's values do not depend on the cut, nor then on the thread count.
constexpr double kElementsPerPart = 16 * 1024;

// Row r of a buffer with rows `ld` apart, or nullptr for a missing buffer:
// where a block of rows starts.
template <class T>
T* row_at(T* rows, int r, int ld) {
  return rows ? rows + static_cast<std::size_t>(r) * ld : nullptr;
}

template <class Rows>
void team_rows(int n, double row_elements, Rows&& rows) {
  Team* const team = Team::this_thread_team();
  const double worth = team ? n * row_elements / kElementsPerPart : 0;
  const int parts = static_cast<int>(std::min({worth, 2.0 * (team ? team->members() : 1), static_cast<double>(n)}));
  if (parts < 2) {
    rows(0, n);
    return;
  }
  team->run(parts, [&](int k) {
    rows(static_cast<int>(static_cast<long long>(n) * k / parts), static_cast<int>(static_cast<long long>(n) * (k + 1) / parts));
  });
}

class ThreadPool {
 public:
  // `threads` counts the calling thread, which works too: 1 means no workers.
  explicit ThreadPool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs task(0) .. task(count - 1) across the threads; returns when all are
  // done. The first exception a task throws is rethrown here. The task is
  // called through a plain function pointer, so a call allocates nothing.
  template <class Task>
  void run(int count, Task&& task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      task_ = static_cast<void*>(&task);
      call_ = [](void* t, int i) { (*static_cast<std::remove_reference_t<Task>*>(t))(i); };
      next_ = 0;
      count_ = count;
      unfinished_ = count;
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    drain();
    spin_until([this] { return unfinished_.load(std::memory_order_acquire) == 0; });
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return unfinished_ == 0; });
    task_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

  // Runs task(0) .. task(count - 1) as run() does; when the pool has more
  // threads than tasks, each task leads a Team and the threads left over are
  // dealt out to the teams as helpers, in turn (5 threads, 2 tasks: teams of
  // 3 and 2). Inside task k, Team::this_thread_team() is its team.
  template <class Task>
  void run_teams(int count, Task&& task) {
    const int n = threads();
    if (n <= count) {
      run(count, task);
      return;
    }
    while (static_cast<int>(teams_.size()) < count) teams_.push_back(std::make_unique<Team>());
    for (int k = 0; k < count; ++k) teams_[k]->open((n - count) / count + (k < (n - count) % count));
    run(n, [&](int i) {
      if (i >= count) {
        teams_[(i - count) % count]->serve();
        return;
      }
      // The team closes however the task ends, or its helpers would wait forever.
      struct Lead {
        Team& team;
        explicit Lead(Team& t) : team(t) { Team::this_thread_team() = &team; }
        ~Lead() {
          Team::this_thread_team() = nullptr;
          team.close();
        }
      } lead(*teams_[i]);
      task(i);
    });
  }

 private:
  // Takes tasks until none is left.
  void drain() {
    for (;;) {
      int index;
      void* task;
      void (*call)(void*, int);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!task_ || next_ >= count_) return;
        index = next_++;
        task = task_;
        call = call_;
      }
      try {
        call(task, index);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (--unfinished_ == 0) done_.notify_all();
    }
  }
  void work() {
    unsigned long seen = 0;
    for (;;) {
      // A training step runs several tasks a batch (the shards, then the
      // sum and the update over element ranges): spin for the next first.
      spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      drain();
    }
  }

  std::vector<std::thread> workers_;
  std::vector<std::unique_ptr<Team>> teams_;  // run_teams: one per task, kept
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  void* task_ = nullptr;                  // the caller's task object
  void (*call_)(void*, int) = nullptr;    // calls it with an index
  // Written under mutex_; atomic so that the spinning threads may read them
  // without it.
  int next_ = 0, count_ = 0;
  std::atomic<int> unfinished_{0};
  std::atomic<unsigned long> generation_{0};
  bool stopping_ = false;
  std::exception_ptr error_;
};
