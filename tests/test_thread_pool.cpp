// test_thread_pool.cpp: the thread pool's teams (kernels/thread_pool.h):
// every part of a job runs once, a member starts on its own block of parts,
// and a helper that never comes leaves its block to the leader.
#include <doctest/doctest.h>

#include <atomic>
#include <vector>

#include "kernels/thread_pool.h"

TEST_CASE("team: alone, the leader runs its own block from the front, then the others' from the back") {
  // A team of 3 whose helpers never come: 8 parts in blocks [0, 2), [2, 5)
  // and [5, 8). The leader takes its block first, front to back, then what
  // is left of each other block from its back end, where a late helper is
  // not about to take it.
  Team team;
  team.open(2);
  std::vector<int> order;
  team.run(8, [&](int k) { order.push_back(k); });
  CHECK(order == std::vector<int>{0, 1, 4, 3, 2, 7, 6, 5});
  // Fewer parts than members: the leader's block [0, 0) is empty, the
  // helpers' are [0, 1) and [1, 2).
  order.clear();
  team.run(2, [&](int k) { order.push_back(k); });
  CHECK(order == std::vector<int>{0, 1});
  team.close();
}

TEST_CASE("team: with helpers serving, every part of every job runs once") {
  // Teams of 2, 3 and 5 run many jobs of 1 to 40 parts back to back, as a
  // training step's products come, so that helpers claim from their blocks
  // while the leader takes what is left of them; each part counts its runs.
  for (int threads : {2, 3, 5}) {
    CAPTURE(threads);
    ThreadPool pool(threads);
    std::vector<std::atomic<int>> runs(40);
    bool each_once = true;
    pool.run_teams(1, [&](int) {
      Team& team = *Team::this_thread_team();
      CHECK(team.members() == threads);
      for (int job = 0; job < 2000; ++job) {
        const int parts = 1 + job % 40;
        for (int k = 0; k < parts; ++k) runs[k].store(0);
        team.run(parts, [&](int k) {
          runs[k].fetch_add(1);
          for (volatile int spin = 0; spin < 2000; spin = spin + 1) {
          }
        });
        for (int k = 0; k < parts; ++k) each_once = each_once && runs[k].load() == 1;
      }
    });
    CHECK(each_once);
  }
}
