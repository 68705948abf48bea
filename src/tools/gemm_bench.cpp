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
bool operator==(LayerShape a, LayerShape b) { return a.in == b.in && a.out == b.out; }

// The layers the model runs, in x out, each shape once: the glimpse
// network's what, where and join, the core's input and recurrence (one
// block of H columns per gate), the locator, the classifier, the baseline.
std::vector<LayerShape> model_layers(const ModelConfig& c) {
  const int gates = core_weight_blocks(c.core) * c.hidden;
  const LayerShape all[] = {{c.glimpse_features(), c.what_hidden},
                            {2, c.where_hidden},
                            {c.what_hidden + c.where_hidden, c.glimpse_hidden},
                            {c.glimpse_hidden, gates},
                            {c.hidden, gates},
                            {c.hidden, 2},
                            {c.hidden, c.classes},
                            {c.hidden, 1}};
  std::vector<LayerShape> layers;
  for (LayerShape layer : all)
    if (std::find(layers.begin(), layers.end(), layer) == layers.end()) layers.push_back(layer);
  return layers;
}

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
  const double flops = 2.0 * batch * in * out_features;  // every product of the layer
  auto measure = [&](const char* name, int M, int N, int K, auto product) {
    const std::vector<double> seconds = seconds_per_call(product);
    measurements.push_back({path, layer, name, M, N, K, gflops(flops, seconds.front()),
                            gflops(flops, seconds[seconds.size() / 2])});
  };
  for (const Product& p : products)
    measure(p.name, p.M, p.N, p.K, [&] {
      gemm_with_path(path, p.trans_a, p.trans_b, p.M, p.N, p.K, p.A, p.lda, p.B, p.ldb, p.C, p.ldc,
                     p.accumulate);
    });
  // The same forward and input-gradient products on W's and W^T's column
  // panels (gemm.h), which training multiplies by for the wider layers
  // (kernels/panels.h), for the layers at least one panel wide each way;
  // gemm_panels runs the active path only.
  if (path != gemm_active_path() || in < kPanelColumns || out_features < kPanelColumns) return;
  Buffer W_panels(aligned_alloc_array<float>(weights)), Wt_panels(aligned_alloc_array<float>(weights));
  pack_column_panels(Trans::no, in, out_features, W.get(), out_features, W_panels.get());
  pack_column_panels(Trans::yes, out_features, in, W.get(), out_features, Wt_panels.get());
  measure("Y = X W, panels", batch, out_features, in, [&] {
    gemm_panels(batch, out_features, in, X.get(), in, W_panels.get(), Y.get(), out_features, false);
  });
  measure("dX = dY W^T, panels", batch, in, out_features, [&] {
    gemm_panels(batch, in, out_features, dY.get(), out_features, Wt_panels.get(), dX.get(), in, false);
  });
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

void print_gemm_benchmark(const ModelConfig& config, int batch) {
  const std::vector<GemmPath> paths = gemm_paths_available();
  // The peak is measured before and after the products, and the higher kept:
  // on a shared machine one of the two may have run alongside other work.
  std::vector<double> peaks;
  for (GemmPath path : paths) peaks.push_back(fma_peak_gflops(path));
  std::vector<Measurement> measurements;
  for (GemmPath path : paths)
    for (LayerShape layer : model_layers(config)) measure_layer(path, batch, layer, measurements);
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
      "\npath    layer        product                  M     N     K     best  median  best/peak\n");
  for (const Measurement& m : measurements) {
    const std::size_t p =
        static_cast<std::size_t>(std::find(paths.begin(), paths.end(), m.path) - paths.begin());
    std::printf("%-7s %4d x %-4d  %-20s %5d %5d %5d  %7.1f %7.1f  %5.0f%%\n",
                gemm_path_name(m.path), m.layer.in, m.layer.out, m.product, m.M, m.N, m.K,
                m.best_gflops, m.median_gflops, 100.0 * m.best_gflops / peaks[p]);
  }
}
