// gemm_avx512.cpp: the float GEMM and the FMA peak loop in AVX-512 registers.
//
// The only file compiled with -mavx512f -mavx512vl -mfma; gemm.cpp calls it only
// after CPUID says the CPU has AVX-512. The algorithm is gemm_tiles.h; this
// file supplies the 16-lane vectors and the tile size.
//
// Tile: 4 rows x 4 vectors (64 columns) = 16 zmm accumulators, plus 4 for the
// row of B and 1 broadcast, of 32 registers. Each k step then issues 16 FMAs
// for 4 vector loads and 4 broadcasts, well within two loads a cycle. Measured
// on a Zen 4 EPYC for M = 16..128 and K = 256, 4 x 4 ran within 1% of the
// best of 4x4, 6x4, 8x2, 8x3, 12x2 and 14x2, and its short row tiles waste the
// least at batch sizes that are not a multiple of the tile.
#include "gemm_kernels.h"
#include "gemm_tiles.h"

namespace {

struct Avx512 {
  using Vec = __m512;
  using Mask = __mmask16;
  static constexpr int kLanes = 16;
  static constexpr int kTileRows = 4;
  static constexpr int kTileVectors = 4;

  static Mask first_lanes(int count) { return static_cast<Mask>((1u << count) - 1); }
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec broadcast(float x) { return _mm512_set1_ps(x); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static Vec load(const float* p, Mask mask) { return _mm512_maskz_loadu_ps(mask, p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, Vec v, Mask mask) { _mm512_mask_storeu_ps(p, mask, v); }
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
};

}  // namespace

void gemm_avx512(Trans trans_a, Trans trans_b, int M, int N, int K,
                 const float* A, int lda, const float* B, int ldb,
                 float* C, int ldc, bool accumulate) {
  gemm_tiled<Avx512>(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

double fma_loop_avx512(long long rounds) { return fma_loop<Avx512>(rounds); }
