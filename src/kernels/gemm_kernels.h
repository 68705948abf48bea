// gemm_kernels.h: the entry points of the instruction-set specific GEMM files.
//
// Private to gemm.cpp and gemm_bench.cpp. gemm_avx2.cpp and gemm_avx512.cpp are
// the only files compiled with -mavx2 / -mavx512f, so nothing else may call an
// intrinsic: the rest of the program reaches those instructions through these
// functions, and only after gemm.cpp has checked the CPU supports them. They
// exist only in x86 builds (RAM_X86_KERNELS).
#pragma once

#include <cstddef>

#include "kernels/gemm.h"

// How every path stores an element of C once its sum over k is done
// (GemmStore in gemm.h, with its pointers resolved):
//   C[i, j] = relu ? max(0, x) : x,   x = (add ? add[i * ld_add + j] : 0) + sum
// add is C itself when accumulating (ld_add = ldc), a layer's bias with
// ld_add = 0 (the same row for every i), or nullptr. The kernels read an
// element's add before they write C, so add may be C.
struct Epilogue {
  const float* add;
  std::ptrdiff_t ld_add;
  bool relu;
};

// A weight gradient dW += X^T dY (trans_a yes) walks two operands down k,
// X by broadcasts and dY by rows, each row of dY on a page of its own when
// dY is the LSTM core's dz [T * B, 1024]. Copying each 64-column panel of
// dY into a contiguous block first, reused by all M / 4 row tiles, ran
// (Zen 4, one thread, AVX-512, best of 40): M = 256, N = 1024, K = 384 at
// 135 GFLOP/s against 82 in place; N = 256, K = 64 or 128 (the RNN core's)
// 7 to 10 % faster. With fewer rows the copy is reused less and costs more
// than it saves (M = 64, N = 128: 151 against 163), and the forward form
// Y = X W, whose X is read along rows, lost 5 to 10 % on N = 256.
// gemm.cpp cuts a team's weight gradients into blocks of at least as many
// rows, so that each block still copies its panels.
constexpr int kPackMinRows = 128;

// A product summed over `count` blocks of its inner dimension in turn
// (gemm_step_gradients, gemm.h): block b reads op(A) from A + b * step_a and
// op(B) from B + b * step_b, each K deep, and adds its own sum to C. One
// block, {1, 0, 0}, is the plain product. (An aggregate, like Epilogue: a
// constructor would be an inline function compiled into both kernel files,
// with their different instruction sets; gemm_tiles.h says why that breaks.)
struct Blocks {
  int count;
  std::ptrdiff_t step_a, step_b;
};

#ifdef RAM_X86_KERNELS

// The product of gemm.h for arguments already validated by gemm.cpp, with
// M, N and K all at least 1.
void gemm_avx2(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
               const float* B, int ldb, float* C, int ldc, const Epilogue& epilogue);
void gemm_avx512(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
                 const float* B, int ldb, float* C, int ldc, const Epilogue& epilogue);
// gemm_step_gradients (gemm.h) for arguments already validated, M, N, K and
// steps.count all at least 1.
void gemm_steps_avx2(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc,
                     const Blocks& steps);
void gemm_steps_avx512(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc,
                       const Blocks& steps);

// P[c, r] = S[r, c] for S [rows, columns] (gemm_tiles.h's blocked transpose
// in AVX registers; AVX-512 machines run it too).
void transpose_avx2(int rows, int columns, const float* S, int lds, float* P, int ldp);

// Runs `rounds` rounds of independent register-only FMA chains (no memory
// traffic) and returns the number of floating-point operations done, for the
// peak measurement of gemm_bench.cpp.
double fma_loop_avx2(long long rounds);
double fma_loop_avx512(long long rounds);

#endif
