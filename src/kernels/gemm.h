// gemm.h: the matrix product every layer of the model runs on.
//
//   C[M, N] = (accumulate ? C : 0) + op(A)[M, K] * op(B)[K, N]
//
// op(X) is X or its transpose. Row-major storage throughout; lda, ldb, ldc are
// row strides in elements. A linear layer y = x W + b with W stored [in, out]
// needs all three forms:
//   forward   Y  = X  * W      (no, no)
//   backward  dX = dY * W^T    (no, yes)
//   backward  dW += X^T * dY   (yes, no, accumulate)
//
// The float product is dispatched at run time to the fastest kernel the CPU
// supports (AVX-512, AVX2+FMA, or the portable scalar loop). The double
// product, used by the gradient-test build, is the naive reference loop,
// which also stays forever as the reference every fast path is tested against.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

enum class Trans { no, yes };

// Kernel families. `scalar` is portable C++ and always present.
enum class GemmPath { scalar, avx2, avx512 };

void gemm(Trans trans_a, Trans trans_b, int M, int N, int K,
          const float* A, int lda, const float* B, int ldb,
          float* C, int ldc, bool accumulate);

void gemm(Trans trans_a, Trans trans_b, int M, int N, int K,
          const double* A, int lda, const double* B, int ldb,
          double* C, int ldc, bool accumulate);

// What a product does as it stores C, so that a layer's bias and rectifier
// cost no pass of their own over C before and after the product:
//
//   C = relu ? max(0, x) : x,   x = (accumulate ? C : bias ? bias : 0) + op(A) op(B)
//
// where `bias` [N] is added to every row. The bits are those of copying the
// bias into every row of C, accumulating the product, then taking
// std::max(x, 0) elementwise (which keeps NaN and -0).
template <class T>
struct GemmStore {
  bool accumulate = false;  // start from C's old value
  const T* bias = nullptr;  // or from this row (not both: std::invalid_argument)
  bool relu = false;
};
void gemm(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda, const float* B, int ldb,
          float* C, int ldc, const GemmStore<float>& store);
void gemm(Trans trans_a, Trans trans_b, int M, int N, int K, const double* A, int lda, const double* B, int ldb,
          double* C, int ldc, const GemmStore<double>& store);

// The same float product through one named path (tests and the benchmark).
void gemm_with_path(GemmPath path, Trans trans_a, Trans trans_b, int M, int N, int K,
                    const float* A, int lda, const float* B, int ldb,
                    float* C, int ldc, bool accumulate);
void gemm_with_path(GemmPath path, Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
                    const float* B, int ldb, float* C, int ldc, const GemmStore<float>& store);

// A weight gradient summed over the steps of an episode, step after step:
//
//   C += op(A_0) B_0,  then C += op(A_1) B_1,  ...,  then C += op(A_{S-1}) B_{S-1}
//
// with op(A_s) = A_s^T, A_s = A + s * step_a stored [K, M] (row stride lda),
// and B_s = B + s * step_b stored [K, N] (ldb): the bits of S calls
// gemm(Trans::yes, Trans::no, M, N, K, A_s, lda, B_s, ldb, C, ldc, true) in
// turn. Why: a layer applied at every step has dW = sum_t x_t^T dy_t, and
// each step's K is only a shard's images (16 at batch 32). Call by call,
// every step read and wrote the whole of dW (over a megabyte for a layer
// 576 x 512), for K multiply-adds an element; here each tile of C stays in
// L1 through all the steps. The steps may be walked backwards (negative
// step_a, step_b), as a backward pass meets them.
void gemm_step_gradients(int M, int N, int K, int steps, const float* A, int lda, std::ptrdiff_t step_a,
                         const float* B, int ldb, std::ptrdiff_t step_b, float* C, int ldc);
void gemm_step_gradients(int M, int N, int K, int steps, const double* A, int lda, std::ptrdiff_t step_a,
                         const double* B, int ldb, std::ptrdiff_t step_b, double* C, int ldc);
void gemm_step_gradients_with_path(GemmPath path, int M, int N, int K, int steps, const float* A, int lda,
                                   std::ptrdiff_t step_a, const float* B, int ldb, std::ptrdiff_t step_b, float* C,
                                   int ldc);

// Paths this CPU and this build can run, scalar first.
std::vector<GemmPath> gemm_paths_available();
// The path gemm() uses: the best available, or the one named by the
// environment variable RAM_GEMM=scalar|avx2|avx512.
GemmPath gemm_active_path();
const char* gemm_path_name(GemmPath path);

// P [columns, rows] = S^T for S [rows, columns], with row strides lds and ldp:
// the AVX copy when the active path is a SIMD one, else a plain loop.
void matrix_transpose(int rows, int columns, const float* S, int lds, float* P, int ldp);
void matrix_transpose(int rows, int columns, const double* S, int lds, double* P, int ldp);

// Column panels: op(B) [K, N] stored as strips of kPanelColumns columns, one
// after another. Strip p holds columns [64p, 64p + w) of all K rows, row after
// row (w = min(64, N - 64p)): K * w contiguous elements, K * N in all.
//
// Why: the kernels walk op(B) one 64-column strip at a time, down k. In a
// row-major B of 1024 columns the rows of a strip are 4 KB apart, each on its
// own page, and the walk misses the TLB and the prefetcher at every row; a
// panel is one contiguous block. The weights change once per batch, so their
// panels are made once per batch (WeightPanels, panels.h) and used by
// every step and shard. On Zen 4 (one thread, M = 64, six weight matrices in
// turn, as in the LSTM core) Y = X W ran at 100 GFLOP/s on W [256, 1024] and
// 115 on its panels; dX = dZ W^T at 105 and 116 on W^T [1024, 256]. On
// [256, 256] the two were within 1 %.
constexpr int kPanelColumns = 64;

// panels = op(B) in column panels: op(B) = B stored [K, N] (trans no) or B^T
// with B stored [N, K] (trans yes); ldb is B's row stride.
void pack_column_panels(Trans trans, int K, int N, const float* B, int ldb, float* panels);
void pack_column_panels(Trans trans, int K, int N, const double* B, int ldb, double* panels);

// C[M, N] = (accumulate ? C : 0) + A[M, K] * op(B), op(B) in column panels.
// Each strip is a gemm of its own, so the sums are those of gemm(no, no, ...)
// on op(B) stored plainly, bit for bit, unless the last strip is narrower than
// a vector (N % 64 between 1 and 15), which then runs on dot tiles.
void gemm_panels(int M, int N, int K, const float* A, int lda, const float* panels, float* C,
                 int ldc, bool accumulate);
void gemm_panels(int M, int N, int K, const double* A, int lda, const double* panels, double* C,
                 int ldc, bool accumulate);
// The same, storing C as GemmStore says.
void gemm_panels(int M, int N, int K, const float* A, int lda, const float* panels, float* C, int ldc,
                 const GemmStore<float>& store);
void gemm_panels(int M, int N, int K, const double* A, int lda, const double* panels, double* C, int ldc,
                 const GemmStore<double>& store);

// The naive triple loop: the definition of the product.
template <class T>
void gemm_reference(Trans trans_a, Trans trans_b, int M, int N, int K,
                    const T* A, int lda, const T* B, int ldb,
                    T* C, int ldc, bool accumulate) {
  for (int i = 0; i < M; ++i) {
    for (int j = 0; j < N; ++j) {
      T sum = 0;
      for (int k = 0; k < K; ++k) {
        T a = trans_a == Trans::no ? A[i * lda + k] : A[k * lda + i];
        T b = trans_b == Trans::no ? B[k * ldb + j] : B[j * ldb + k];
        sum += a * b;
      }
      C[i * ldc + j] = accumulate ? C[i * ldc + j] + sum : sum;
    }
  }
}
