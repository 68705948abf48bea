// gemm_avx2.cpp: the float GEMM and the FMA peak loop in AVX2 registers.
//
// The only file compiled with -mavx2 -mfma; gemm.cpp calls it only after CPUID
// says the CPU has AVX2 and FMA. The algorithm is gemm_tiles.h; this file
// supplies the 8-lane vectors and the tile size.
//
// Tile: 4 rows x 3 vectors (24 columns) = 12 ymm accumulators, plus 3 for the
// row of B and 1 broadcast: all 16 registers.
#include "gemm_kernels.h"
#include "gemm_tiles.h"

namespace {

struct Avx2 {
  using Vec = __m256;
  using Mask = __m256i;  // lane on = all bits set, as vmaskmovps wants
  static constexpr int kLanes = 8;
  static constexpr int kTileRows = 4;
  static constexpr int kTileVectors = 3;

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
};

}  // namespace

void gemm_avx2(Trans trans_a, Trans trans_b, int M, int N, int K,
               const float* A, int lda, const float* B, int ldb,
               float* C, int ldc, bool accumulate) {
  gemm_tiled<Avx2>(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

double fma_loop_avx2(long long rounds) { return fma_loop<Avx2>(rounds); }
