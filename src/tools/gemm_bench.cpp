// gemm_bench.cpp: GFLOP/s of every GEMM path on the model's shapes, and the
// FMA peak they are measured against.
//
// A product of M x K by K x N counts 2*M*N*K flops. Each measurement repeats
// enough calls to fill kSecondsPerRepetition, kRepetitions times, and reports
// the best repetition (what the code can do) and the median (what it
// typically does on a machine shared with other work).
#include "tools/gemm_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <vector>

#include "kernels/gemm_kernels.h"
#include "kernels/thread_pool.h"
#include "kernels/tensor.h"

namespace {

constexpr int kRepetitions = 7;
constexpr double kSecondsPerRepetition = 0.005;

using Clock = std::chrono::steady_clock;

template <class Work>
double seconds_for(Work& work, long long calls) {
  const Clock::time_point start = Clock::now();
  for (long long call = 0; call < calls; ++call) work();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Seconds per call of `work`, one entry per repetition, sorted.
template <class Work>
std::vector<double> seconds_per_call(Work work) {
  work();  // warm-up: caches, pack buffers, clock frequency
  long long calls = 1;
  double seconds = seconds_for(work, calls);
  while (seconds < kSecondsPerRepetition / 8) {
    calls *= 2;
    seconds = seconds_for(work, calls);
  }
  calls = std::max(1LL, static_cast<long long>(calls * kSecondsPerRepetition / seconds));
  std::vector<double> per_call;
  for (int repetition = 0; repetition < kRepetitions; ++repetition)
    per_call.push_back(seconds_for(work, calls) / static_cast<double>(calls));
  std::sort(per_call.begin(), per_call.end());
  return per_call;
}

// Where the scalar peak loop leaves its result, so it cannot be optimized away.
volatile float scalar_loop_sink;

// The portable path's peak: independent multiply-add chains in plain C++, which
// the compiler vectorizes for the build's baseline instruction set (SSE2 on
// x86-64, which has no FMA: a multiply and an add per two flops). 48 chains
// are 12 SSE registers, enough to cover the multiply-then-add latency.
double fma_loop_scalar(long long rounds) {
  constexpr int kChains = 48;
  float chain[kChains];
  for (int c = 0; c < kChains; ++c) chain[c] = 0.001f * static_cast<float>(c);
  for (long long round = 0; round < rounds; ++round) {
    // GCC keeps the chains in registers only if it unrolls this loop first;
    // clang does so unprompted, and stops vectorizing when told to unroll.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 64
#endif
    for (int c = 0; c < kChains; ++c) chain[c] = chain[c] * 0.999999f + 1e-6f;
  }
  float sum = 0;
  for (int c = 0; c < kChains; ++c) sum += chain[c];
  scalar_loop_sink = sum;
  return 2.0 * kChains * static_cast<double>(rounds);
}

// One layer y = x W, W stored [in, out].
struct LayerShape {
  int in, out;
};
// The layers the model runs, in x out.
constexpr LayerShape kModelLayers[] = {{64, 128}, {2, 128},  {256, 256},
                                       {256, 2},  {256, 10}, {256, 1}};

double gflops(double flops, double seconds) { return flops / seconds * 1e-9; }

using Buffer = std::unique_ptr<float[], AlignedFree>;

// `count` floats, 64-byte aligned like the model's tensors, holding small
// values of both signs, the same on every run.
Buffer filled(std::size_t count, std::size_t seed) {
  Buffer values(aligned_alloc_array<float>(count));
  for (std::size_t i = 0; i < count; ++i)
    values[i] = static_cast<float>((i * 7919 + seed * 104729) % 2001) / 1000.0f - 1.0f;
  return values;
}

// One line of the table.
struct Measurement {
  GemmPath path;
  LayerShape layer;
  const char* product;
  int M, N, K;
  double best_gflops, median_gflops;
};

// The three products of one layer with a batch of `batch` rows.
void measure_layer(GemmPath path, int batch, LayerShape layer,
                   std::vector<Measurement>& measurements) {
  const int in = layer.in, out_features = layer.out;
  const std::size_t B = static_cast<std::size_t>(batch);
  const std::size_t weights = static_cast<std::size_t>(in) * out_features;
  Buffer X = filled(B * in, 1);             // [batch, in]
  Buffer W = filled(weights, 2);            // [in, out]
  Buffer dY = filled(B * out_features, 3);  // [batch, out]
  Buffer Y = filled(B * out_features, 4);   // [batch, out]
  Buffer dX = filled(B * in, 5);            // [batch, in]
  Buffer dW = filled(weights, 6);           // [in, out]

  struct Product {
    const char* name;
    Trans trans_a, trans_b;
    int M, N, K;
    const float* A;
    int lda;
    const float* B;
    int ldb;
    float* C;
    int ldc;
    bool accumulate;
  };
  const Product products[] = {
      {"Y = X W", Trans::no, Trans::no, batch, out_features, in, X.get(), in, W.get(), out_features,
       Y.get(), out_features, false},
      {"dX = dY W^T", Trans::no, Trans::yes, batch, in, out_features, dY.get(), out_features,
       W.get(), out_features, dX.get(), in, false},
      {"dW += X^T dY", Trans::yes, Trans::no, in, out_features, batch, X.get(), in, dY.get(),
       out_features, dW.get(), out_features, true},
  };
  for (const Product& p : products) {
    const std::vector<double> seconds = seconds_per_call([&] {
      gemm_with_path(path, p.trans_a, p.trans_b, p.M, p.N, p.K, p.A, p.lda, p.B, p.ldb, p.C, p.ldc,
                     p.accumulate);
    });
    const double flops = 2.0 * p.M * p.N * p.K;
    measurements.push_back({path, layer, p.name, p.M, p.N, p.K, gflops(flops, seconds.front()),
                            gflops(flops, seconds[seconds.size() / 2])});
  }
}

}  // namespace

namespace {

// A loop of independent multiply-add chains: runs `rounds` rounds, returns the flops.
using FmaLoop = double (*)(long long rounds);

// The path's FMA loop, or nullptr when this build or this CPU has not got it.
FmaLoop fma_loop(GemmPath path) {
  FmaLoop loop = nullptr;
  switch (path) {
    case GemmPath::scalar:
      loop = fma_loop_scalar;
      break;
#ifdef RAM_X86_KERNELS
    case GemmPath::avx2:
      loop = fma_loop_avx2;
      break;
    case GemmPath::avx512:
      loop = fma_loop_avx512;
      break;
#else
    case GemmPath::avx2:
    case GemmPath::avx512:
      break;
#endif
  }
  const std::vector<GemmPath> available = gemm_paths_available();
  if (!loop || std::find(available.begin(), available.end(), path) == available.end()) return nullptr;
  return loop;
}

}  // namespace

double fma_peak_gflops(GemmPath path) {
  const FmaLoop loop = fma_loop(path);
  if (!loop) return 0;
  constexpr long long kRounds = 1 << 16;
  double flops = 0;
  std::vector<double> seconds = seconds_per_call([&] { flops = loop(kRounds); });
  return gflops(flops, seconds.front());
}

double fma_peak_gflops(GemmPath path, ThreadPool& pool) {
  const FmaLoop loop = fma_loop(path);
  if (!loop) return 0;
  // 16 times the one-thread call's rounds, so that handing the loops to the
  // threads costs little beside them.
  constexpr long long kRounds = 1 << 20;
  const int threads = pool.threads();
  std::vector<double> flops(threads);
  std::vector<double> seconds = seconds_per_call([&] { pool.run(threads, [&](int t) { flops[t] = loop(kRounds); }); });
  double total = 0;
  for (double f : flops) total += f;
  return gflops(total, seconds.front());
}

void print_gemm_benchmark(int batch) {
  const std::vector<GemmPath> paths = gemm_paths_available();
  // The peak is measured before and after the products, and the higher kept:
  // on a shared machine one of the two may have run alongside other work.
  std::vector<double> peaks;
  for (GemmPath path : paths) peaks.push_back(fma_peak_gflops(path));
  std::vector<Measurement> measurements;
  for (GemmPath path : paths)
    for (LayerShape layer : kModelLayers) measure_layer(path, batch, layer, measurements);
  for (std::size_t p = 0; p < paths.size(); ++p)
    peaks[p] = std::max(peaks[p], fma_peak_gflops(paths[p]));

  std::printf(
      "GEMM, one thread, M = batch = %d. GFLOP/s = 2*M*N*K / time per call,\n"
      "best and median of %d repetitions of %.0f ms.\n\n",
      batch, kRepetitions, kSecondsPerRepetition * 1e3);
  std::printf("path     FMA peak GFLOP/s\n");
  for (std::size_t p = 0; p < paths.size(); ++p)
    std::printf("%-7s  %7.1f\n", gemm_path_name(paths[p]), peaks[p]);
  std::printf(
      "\npath    layer        product           M     N     K     best  median  best/peak\n");
  for (const Measurement& m : measurements) {
    const std::size_t p =
        static_cast<std::size_t>(std::find(paths.begin(), paths.end(), m.path) - paths.begin());
    std::printf("%-7s %4d x %-4d  %-13s %5d %5d %5d  %7.1f %7.1f  %5.0f%%\n",
                gemm_path_name(m.path), m.layer.in, m.layer.out, m.product, m.M, m.N, m.K,
                m.best_gflops, m.median_gflops, 100.0 * m.best_gflops / peaks[p]);
  }
}
