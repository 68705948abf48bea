// gemm.cpp: argument checks, the run-time choice of kernel, and the portable path.
//
// gemm() validates its arguments, settles the trivial sizes (M, N or K zero),
// and hands the product to one of three paths: AVX-512 or AVX2 (gemm_avx512.cpp,
// gemm_avx2.cpp, built only on x86 and called only when CPUID allows), or the
// scalar path below, plain C++ for any CPU. The path is picked once per
// process: the best one the CPU runs, unless RAM_GEMM names another.
//
// The scalar path keeps the property the SIMD paths have (gemm_tiles.h): each
// element of C is its sum over k in increasing order, from 0, then added to C
// when accumulating, so its results too depend only on the inputs.
#include "gemm.h"

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "gemm_kernels.h"

namespace {

// ---------------------------------------------------------------------------
// Argument checks

const char* trans_name(Trans t) { return t == Trans::no ? "no" : "yes"; }

// Throws std::invalid_argument unless the sizes are non-negative, each leading
// dimension covers a stored row, and the pointers a non-empty product touches
// are set. A is stored [M, K] (trans_a no) or [K, M] (yes), B [K, N] or [N, K].
void check_arguments(Trans trans_a, Trans trans_b, int M, int N, int K,
                     const void* A, int lda, const void* B, int ldb, const void* C, int ldc) {
  auto fail = [](const std::string& what) { throw std::invalid_argument("gemm: " + what); };
  if (M < 0 || N < 0 || K < 0)
    fail("negative size M=" + std::to_string(M) + " N=" + std::to_string(N) +
         " K=" + std::to_string(K));
  const int a_row = trans_a == Trans::no ? K : M;
  const int b_row = trans_b == Trans::no ? N : K;
  if (lda < a_row)
    fail("lda=" + std::to_string(lda) + " is shorter than a row of A (" + std::to_string(a_row) +
         " elements, trans_a=" + trans_name(trans_a) + ")");
  if (ldb < b_row)
    fail("ldb=" + std::to_string(ldb) + " is shorter than a row of B (" + std::to_string(b_row) +
         " elements, trans_b=" + trans_name(trans_b) + ")");
  if (ldc < N)
    fail("ldc=" + std::to_string(ldc) + " is shorter than a row of C (" + std::to_string(N) +
         " elements)");
  if (M > 0 && N > 0) {
    if (!C) fail("C is null");
    if (K > 0 && (!A || !B)) fail("A or B is null");
  }
}

// ---------------------------------------------------------------------------
// The scalar path

// Columns of C summed together in the scalar path. The fixed width lets the
// compiler keep them in vector registers and vectorize the inner loop even at
// GCC's -O2 cost model, which refuses loops of unknown length.
constexpr int kScalarColumns = 16;

// A buffer per thread that only grows, for B^T in the scalar path.
float* scalar_pack_buffer(std::size_t count) {
  thread_local std::unique_ptr<float[]> buffer;
  thread_local std::size_t capacity = 0;
  if (count > capacity) {
    buffer.reset(new float[count]);
    capacity = count;
  }
  return buffer.get();
}

// C = (accumulate ? C : 0) + op(A) * B for B [K, N] with contiguous rows.
// op(A)[i, k] = A[i * a_row_step + k * a_k_step].
void scalar_rows(int M, int N, int K, const float* A, std::ptrdiff_t a_row_step,
                 std::ptrdiff_t a_k_step, const float* B, std::ptrdiff_t ldb, float* C,
                 std::ptrdiff_t ldc, bool accumulate) {
  for (int i = 0; i < M; ++i) {
    const float* A_i = A + i * a_row_step;  // row i of op(A), stride a_k_step
    float* C_i = C + i * ldc;
    int j0 = 0;
    for (; j0 + kScalarColumns <= N; j0 += kScalarColumns) {
      float sum[kScalarColumns] = {};
      for (int k = 0; k < K; ++k) {
        const float a_ik = A_i[k * a_k_step];
        const float* B_k = B + k * ldb + j0;
        for (int j = 0; j < kScalarColumns; ++j) sum[j] += a_ik * B_k[j];
      }
      for (int j = 0; j < kScalarColumns; ++j) C_i[j0 + j] = accumulate ? C_i[j0 + j] + sum[j] : sum[j];
    }
    for (int j = j0; j < N; ++j) {  // the last N % kScalarColumns columns
      float sum = 0;
      for (int k = 0; k < K; ++k) sum += A_i[k * a_k_step] * B[k * ldb + j];
      C_i[j] = accumulate ? C_i[j] + sum : sum;
    }
  }
}

void gemm_scalar(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
                 const float* B, int ldb, float* C, int ldc, bool accumulate) {
  const float* B_rows = B;  // op(B) [K, N] with contiguous rows
  std::ptrdiff_t ld_rows = ldb;
  if (trans_b == Trans::yes) {
    float* B_transposed = scalar_pack_buffer(static_cast<std::size_t>(K) * N);  // [K, N]
    for (std::ptrdiff_t j = 0; j < N; ++j)
      for (std::ptrdiff_t k = 0; k < K; ++k) B_transposed[k * N + j] = B[j * ldb + k];
    B_rows = B_transposed;
    ld_rows = N;
  }
  if (trans_a == Trans::no)
    scalar_rows(M, N, K, A, lda, 1, B_rows, ld_rows, C, ldc, accumulate);
  else
    scalar_rows(M, N, K, A, 1, lda, B_rows, ld_rows, C, ldc, accumulate);
}

// ---------------------------------------------------------------------------
// Choosing the path

constexpr GemmPath kAllPaths[] = {GemmPath::scalar, GemmPath::avx2, GemmPath::avx512};

// Asks CPUID once; gemm_with_path checks the answer on every call.
bool cpu_runs(GemmPath path) {
  switch (path) {
    case GemmPath::scalar:
      return true;
#ifdef RAM_X86_KERNELS
    case GemmPath::avx2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case GemmPath::avx512:
      // gemm_avx512.cpp is compiled with -mavx512vl as well, so it may use it.
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
#else
    case GemmPath::avx2:
    case GemmPath::avx512:
      return false;  // this build has no x86 kernels
#endif
  }
  return false;
}

bool path_supported(GemmPath path) {
  static const bool supported[] = {cpu_runs(GemmPath::scalar), cpu_runs(GemmPath::avx2),
                                   cpu_runs(GemmPath::avx512)};
  const int index = static_cast<int>(path);
  return index >= 0 && index < 3 && supported[index];
}

std::string available_names() {
  std::string names;
  for (GemmPath path : gemm_paths_available()) {
    if (!names.empty()) names += ' ';
    names += gemm_path_name(path);
  }
  return names;
}

// The best supported path, or the one RAM_GEMM names. A name this build does
// not know, or a path this CPU cannot run, ends the program: a benchmark or a
// test run on the wrong kernel would report numbers for something else.
GemmPath choose_path() {
  const char* requested = std::getenv("RAM_GEMM");
  if (!requested || !*requested) return gemm_paths_available().back();
  for (GemmPath path : kAllPaths) {
    if (std::strcmp(requested, gemm_path_name(path)) != 0) continue;
    if (path_supported(path)) return path;
    std::fprintf(stderr, "RAM_GEMM=%s: this CPU or build cannot run that path (available: %s)\n",
                 requested, available_names().c_str());
    std::exit(2);
  }
  std::fprintf(stderr, "RAM_GEMM=%s: unknown GEMM path (expected scalar, avx2 or avx512; available: %s)\n",
               requested, available_names().c_str());
  std::exit(2);
}

}  // namespace

// ---------------------------------------------------------------------------
// Public interface

std::vector<GemmPath> gemm_paths_available() {
  std::vector<GemmPath> paths;
  for (GemmPath path : kAllPaths)
    if (path_supported(path)) paths.push_back(path);
  return paths;
}

GemmPath gemm_active_path() {
  static const GemmPath active = choose_path();
  return active;
}

const char* gemm_path_name(GemmPath path) {
  switch (path) {
    case GemmPath::scalar: return "scalar";
    case GemmPath::avx2: return "avx2";
    case GemmPath::avx512: return "avx512";
  }
  return "unknown";
}

void gemm_with_path(GemmPath path, Trans trans_a, Trans trans_b, int M, int N, int K,
                    const float* A, int lda, const float* B, int ldb,
                    float* C, int ldc, bool accumulate) {
  if (!path_supported(path))
    throw std::invalid_argument(std::string("gemm_with_path: this CPU or build cannot run path ") +
                                gemm_path_name(path));
  check_arguments(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
  if (M == 0 || N == 0) return;
  if (K == 0) {  // an empty sum: C keeps its value or becomes 0
    if (!accumulate)
      for (std::ptrdiff_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, sizeof(float) * N);
    return;
  }
  switch (path) {
    case GemmPath::scalar:
      gemm_scalar(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
      return;
#ifdef RAM_X86_KERNELS
    case GemmPath::avx2:
      gemm_avx2(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
      return;
    case GemmPath::avx512:
      gemm_avx512(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
      return;
#else
    case GemmPath::avx2:
    case GemmPath::avx512:
      return;  // unreachable: path_supported() refused them above
#endif
  }
}

void gemm(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
          const float* B, int ldb, float* C, int ldc, bool accumulate) {
  gemm_with_path(gemm_active_path(), trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

void gemm(Trans trans_a, Trans trans_b, int M, int N, int K, const double* A, int lda,
          const double* B, int ldb, double* C, int ldc, bool accumulate) {
  check_arguments(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
  gemm_reference(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}
