// gemm_avx2.cpp: the float GEMM and the FMA peak loop in AVX2 registers.
//
// The only file compiled with -mavx2 -mfma; gemm.cpp calls it only after
// CPUID reports AVX2 and FMA. The algorithm is gemm_tiles.h; this file
// supplies 8-lane vectors and the tile sizes, for 16 ymm registers (measured
// on a Zen 4 EPYC):
//
//   Broadcast tile 4 rows x 3 vectors (24 columns): 12 accumulators plus 3
//   for the row of B and 1 broadcast. It beat 6x2, 5x2 and 3x4.
//   Dot tile 3 x 4: 12 accumulators, 3 vectors of A and 1 of B^T at a time.
//   2 x 4 (8 accumulators, too few to cover the FMA latency) ran at 60-70%
//   of its speed.
#include "kernels/gemm_kernels.h"
#include "kernels/gemm_tiles.h"

namespace {

struct Avx2 {
  using Vec = __m256;
  using Mask = __m256i;  // lane on = all bits set, as vmaskmovps wants
  static constexpr int kLanes = 8;
  static constexpr int kTileRows = 4;
  static constexpr int kTileVectors = 3;
  static constexpr int kDotRows = 3;

  static Mask first_lanes(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec broadcast(float x) { return _mm256_set1_ps(x); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static Vec load(const float* p, Mask mask) { return _mm256_maskload_ps(p, mask); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static void store(float* p, Vec v, Mask mask) { _mm256_maskstore_ps(p, mask, v); }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  // sums[i] = the sum of the lanes of the i-th vector. Interleaving pairs, then
  // pairs of pairs, leaves each 128-bit half holding partial sums of all four;
  // adding the halves finishes them.
  static void sum4(Vec a, Vec b, Vec c, Vec d, float* sums) {
    const __m256 ab = _mm256_add_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));
    const __m256 cd = _mm256_add_ps(_mm256_unpacklo_ps(c, d), _mm256_unpackhi_ps(c, d));
    const __m256d ab64 = _mm256_castps_pd(ab), cd64 = _mm256_castps_pd(cd);
    const __m256 abcd = _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(ab64, cd64)),
                                      _mm256_castpd_ps(_mm256_unpackhi_pd(ab64, cd64)));
    _mm_storeu_ps(sums, _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1)));
  }
};

}  // namespace

void gemm_avx2(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
               const float* B, int ldb, float* C, int ldc, const Epilogue& epilogue) {
  gemm_tiled<Avx2>(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, epilogue);
}

void gemm_steps_avx2(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc,
                     const Blocks& steps) {
  gemm_tiled_steps<Avx2>(M, N, K, A, lda, B, ldb, C, ldc, steps);
}

double fma_loop_avx2(long long rounds) { return fma_loop<Avx2>(rounds); }

void transpose_avx2(int rows, int columns, const float* S, int lds, float* P, int ldp) {
  transpose(rows, columns, S, lds, P, ldp);
}
