// thread_pool.h: a fixed set of worker threads that run numbered tasks.
//
// Training cuts every batch into a fixed number of shards and runs one task
// per shard; which thread runs which shard does not matter, because each
// shard writes only its own buffers and the caller combines the shards in
// shard order. That is what makes a run's numbers independent of --threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
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
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return unfinished_ == 0; });
    task_ = nullptr;
    if (error_) std::rethrow_exception(error_);
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
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  void* task_ = nullptr;                  // the caller's task object
  void (*call_)(void*, int) = nullptr;    // calls it with an index
  int next_ = 0, count_ = 0, unfinished_ = 0;
  unsigned long generation_ = 0;
  bool stopping_ = false;
  std::exception_ptr error_;
};
