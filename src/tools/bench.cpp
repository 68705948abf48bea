// bench.cpp: how fast the model trains and infers on this machine, and how
// close that is to the arithmetic limit of the cores.
//
// The images are synthetic (random bytes of the configured shape): speed does
// not depend on what the pixels show, and the benchmark needs no data set.
#include "tools/bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/random.h"
#include "kernels/thread_pool.h"
#include "model/glimpse_sensor.h"
#include "tools/gemm_bench.h"
#include "train/optimizer.h"
#include "train/train.h"

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Runs `work` (which processes `images` images) repeatedly for about
// `seconds`, in 5 timed rounds; returns images/s of each round.
template <class Work>
std::vector<double> time_rounds(double seconds, int images, Work work) {
  work();  // warm-up: first-touch of buffers, kernel selection
  std::vector<double> rates;
  for (int round = 0; round < 5; ++round) {
    const auto start = Clock::now();
    long done = 0;
    double elapsed = 0;
    do {
      work();
      done += images;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < seconds / 5);
    rates.push_back(done / elapsed);
  }
  return rates;
}

// The retina alone on one thread, the share of a step it would otherwise
// hide in: a batch's summed-area tables (when they pay) and its T glimpses
// at random locations, in ms per batch; median of the rounds of each.
void bench_retina(const ModelConfig& config, const Dataset& data, int batch, double seconds) {
  std::vector<const uint8_t*> images(batch);
  for (int b = 0; b < batch; ++b) images[b] = data.image(b % data.count);
  const bool tables = glimpse_tables_pay(config);
  std::vector<GlimpseTableSum> table(tables ? batch * glimpse_table_size(config) : 0);
  std::vector<real> l(2 * static_cast<std::size_t>(batch) * config.glimpses);
  Rng rng(3);
  for (real& v : l) v = static_cast<real>(rng.uniform(-1, 1));
  std::vector<real> rho(static_cast<std::size_t>(batch) * config.glimpse_features());
  auto ms_per_batch = [&](const std::vector<double>& batches_per_s) { return 1e3 / median(batches_per_s); };
  const double table_ms =
      tables ? ms_per_batch(time_rounds(seconds, 1, [&] { glimpse_tables(config, batch, images.data(), table.data()); }))
             : 0;
  const double glimpse_ms = ms_per_batch(time_rounds(seconds, 1, [&] {
    for (int t = 0; t < config.glimpses; ++t) {
      Step now;
      now.B = batch;
      now.x = images.data();
      now.x_tables = tables ? table.data() : nullptr;
      now.l = l.data() + 2 * static_cast<std::size_t>(batch) * t;
      now.rho = rho.data();
      glimpse_sensor(config, now);
    }
  }));
  std::printf("retina, one thread, per batch of %d: tables %.3f ms%s, %d glimpses %.3f ms\n", batch, table_ms,
              tables ? "" : " (not made: they do not pay)", config.glimpses, glimpse_ms);
}

// How long a write of one thread takes to reach another and come back: the
// calling thread writes a number, a second thread waits for it and writes it
// back, 20,000 times a round, each waiting as the thread pool's threads
// wait (spin_pause, which gives up the core on a machine with fewer cores
// than threads). A team (--shards below --threads) hands work over in this
// way several times per layer: this is the host's side of that cost, which
// on a virtual machine changes with where the host puts the virtual cores
// (docs/performance.md, window 7: it did not follow the team's speed from
// round to round). Median and lowest of 5 rounds, in ns per round trip.
void bench_hand_off() {
  constexpr int kTrips = 20000;
  alignas(64) std::atomic<int> sent{0};
  alignas(64) std::atomic<int> returned{0};
  std::vector<double> ns;
  std::thread echo([&] {
    for (int i = 1; i <= 5 * kTrips; ++i) {
      for (const auto start = Clock::now(); sent.load(std::memory_order_acquire) != i;) spin_pause(start);
      returned.store(i, std::memory_order_release);
    }
  });
  for (int round = 0; round < 5; ++round) {
    const auto start = Clock::now();
    for (int i = round * kTrips + 1; i <= (round + 1) * kTrips; ++i) {
      sent.store(i, std::memory_order_release);
      for (const auto wait = Clock::now(); returned.load(std::memory_order_acquire) != i;) spin_pause(wait);
    }
    ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() / kTrips);
  }
  echo.join();
  std::printf("hand-off between two threads: round trip median %.0f ns, min %.0f ns\n", median(ns),
              *std::min_element(ns.begin(), ns.end()));
}

}  // namespace

double forward_macs_per_image(const ModelConfig& c) {
  const double T = c.glimpses, G = c.glimpse_features(), H = c.hidden, A = c.classes;
  const double Nw = c.what_hidden, Nl = c.where_hidden, Ng = c.glimpse_hidden;
  // Per glimpse: what, where, join, core input; from the second glimpse on
  // also the recurrence, the locator and the baseline (h_0 = 0 needs none).
  const double gates = core_weight_blocks(c.core) * H;  // core outputs per unit
  const double every_step = G * Nw + 2 * Nl + (Nw + Nl) * Ng + Ng * gates;
  const double later_steps = H * gates + 2 * H + H;
  return T * every_step + (T - 1) * later_steps + H * A;
}

double train_macs_per_image(const ModelConfig& c) {
  const double T = c.glimpses, G = c.glimpse_features(), H = c.hidden, A = c.classes;
  const double Nw = c.what_hidden, Nl = c.where_hidden, Ng = c.glimpse_hidden;
  // Backward repeats every product for the weight gradient, and once more for
  // the input gradient where one is needed (not for what, where, baseline).
  const double gates = core_weight_blocks(c.core) * H;
  const double every_step = 2 * (G * Nw + 2 * Nl) + 3 * ((Nw + Nl) * Ng + Ng * gates);
  const double later_steps = 3 * (H * gates + 2 * H) + 2 * H;
  return T * every_step + (T - 1) * later_steps + 3 * H * A;
}

void run_bench(const BenchConfig& b) {
  ModelConfig config = b.model;
  config.validate();
  const GemmPath path = gemm_active_path();
  const double peak_core = fma_peak_gflops(path);
  std::printf("== GEMM (one thread), batch rows M = %d ==\n", b.batch);
  print_gemm_benchmark(config, b.batch);

  // Synthetic data: 1024 random images and labels.
  Dataset data;
  data.count = 1024;
  data.channels = config.channels;
  data.height = config.height;
  data.width = config.width;
  data.classes = config.classes;
  data.pixels.resize(static_cast<std::size_t>(data.count) * data.image_size());
  data.labels.resize(data.count);
  Rng rng(42);
  for (auto& p : data.pixels) p = static_cast<uint8_t>(rng.next_u64());
  for (auto& l : data.labels) l = static_cast<uint8_t>(rng.below(config.classes));

  Parameters params(config);
  params.init_uniform(1);
  ThreadPool pool(b.threads);
  const int shards = std::min(b.shards, b.batch);  // as BatchGradient cuts the batch
  std::printf("\n== model: %dx%d images, %s core, %s locator, T=%d glimpses, %dx%d patch x %d scale(s), "
              "hidden %d/%d/%d/%d, %zu parameters; batch %d, %d threads, %d shards, GEMM path %s ==\n",
              config.width, config.height, core_name(config.core),
              config.locator == LocatorKind::lstm ? "LSTM" : "linear",
              config.glimpses, config.patch, config.patch, config.scales, config.what_hidden, config.where_hidden,
              config.glimpse_hidden, config.hidden, params.size(), b.batch, b.threads, shards, gemm_path_name(path));

  const double peak_before = fma_peak_gflops(path, pool);

  // Training: gradient of a batch plus the optimizer update.
  BatchGradient gradient(config, b.batch, shards);
  Optimizer optimizer(OptimizerConfig{}, params.size());
  std::vector<int> indices(b.batch);
  uint64_t step = 0;
  const std::vector<double> train_rates = time_rounds(b.seconds, b.batch, [&] {
    for (int j = 0; j < b.batch; ++j) indices[j] = static_cast<int>((step * b.batch + j) % data.count);
    gradient.compute(pool, params, LossWeights{}, data, indices.data(), mix_key(7, step));
    optimizer.step(pool, params.data(), gradient.grads().data(), 1e-4);
    ++step;
  });

  // Inference: the policy mean, no backward, 'evaluate' over the data.
  Evaluator evaluator(config, b.threads, 1);  // seed 1: only --locations random reads it
  const std::vector<double> infer_rates =
      time_rounds(b.seconds, data.count, [&] { evaluator.run(pool, params, data); });

  const double train_flops = 2 * train_macs_per_image(config), infer_flops = 2 * forward_macs_per_image(config);
  // The peak of all the threads, measured running together (before and
  // after the rounds, the higher kept: a shared machine's clock drifts), and
  // beside it what one thread's peak times the threads would promise.
  const double peak = std::max(peak_before, fma_peak_gflops(path, pool));
  std::printf("FMA peak, %d threads together: %.0f GFLOP/s (%d x one thread's %.0f would be %.0f)\n", b.threads,
              peak, b.threads, peak_core, b.threads * peak_core);
  auto report = [&](const char* what, const std::vector<double>& rates, double flops) {
    const double best = *std::max_element(rates.begin(), rates.end());
    const double med = median(rates), worst = *std::min_element(rates.begin(), rates.end());
    std::printf("%-9s images/s: median %8.0f  min %8.0f  max %8.0f   %.2f MFLOP/image  %6.1f GFLOP/s  "
                "%4.1f%% of the %.0f GFLOP/s peak, %4.1f%% of %d x %.0f\n",
                what, med, worst, best, flops / 1e6, med * flops / 1e9, 100 * med * flops / 1e9 / peak, peak,
                100 * med * flops / 1e9 / (b.threads * peak_core), b.threads, peak_core);
  };
  report("training", train_rates, train_flops);
  report("inference", infer_rates, infer_flops);
  bench_retina(config, data, b.batch, b.seconds / 2);
  if (b.threads >= 2) bench_hand_off();
  std::printf("infer_images_per_s=%.0f\n", median(infer_rates));
  std::printf("train_images_per_s=%.0f\n", median(train_rates));
}
