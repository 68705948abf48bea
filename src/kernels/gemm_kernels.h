// gemm_kernels.h: the entry points of the instruction-set specific GEMM files.
//
// Private to gemm.cpp and gemm_bench.cpp. gemm_avx2.cpp and gemm_avx512.cpp are
// the only files compiled with -mavx2 / -mavx512f, so nothing else may call an
// intrinsic: the rest of the program reaches those instructions through these
// functions, and only after gemm.cpp has checked the CPU supports them. They
// exist only in x86 builds (RAM_X86_KERNELS).
#pragma once

#include "kernels/gemm.h"

#ifdef RAM_X86_KERNELS

// The product of gemm.h for arguments already validated by gemm.cpp, with
// M, N and K all at least 1.
void gemm_avx2(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
               const float* B, int ldb, float* C, int ldc, bool accumulate);
void gemm_avx512(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
                 const float* B, int ldb, float* C, int ldc, bool accumulate);

// P[c, r] = S[r, c] for S [rows, columns] (gemm_tiles.h's blocked transpose
// in AVX registers; AVX-512 machines run it too).
void transpose_avx2(int rows, int columns, const float* S, int lds, float* P, int ldp);

// Runs `rounds` rounds of independent register-only FMA chains (no memory
// traffic) and returns the number of floating-point operations done, for the
// peak measurement of gemm_bench.cpp.
double fma_loop_avx2(long long rounds);
double fma_loop_avx512(long long rounds);

#endif
