// gemm_avx512.cpp: the float GEMM and the FMA peak loop in AVX-512 registers.
//
// The only file compiled with -mavx512f -mavx512vl -mfma; gemm.cpp calls it
// only after CPUID reports AVX-512F and VL. The algorithm is gemm_tiles.h; this
// file supplies 16-lane vectors and the tile sizes, measured on a Zen 4 EPYC
// for M = 16..128, N = K = 256:
//
//   Broadcast tile 4 rows x 4 vectors (64 columns): 16 zmm accumulators plus 4
//   for the row of B and 1 broadcast, of 32 registers; 16 FMAs per 4 loads and
//   4 broadcasts. It ran within 1% of the best of 4x4, 6x4, 8x2, 8x3, 12x2 and
//   14x2 (at 97-99% of the FMA peak), and its short row tiles waste the least
//   when the batch is not a multiple of the tile.
//   Dot tile 4 x 4: 16 accumulators, 4 + 4 loads per 16 FMAs; 4 beat 5 and 6
//   rows.
#include "kernels/gemm_kernels.h"
#include "kernels/gemm_tiles.h"

namespace {

struct Avx512 {
  using Vec = __m512;
  using Mask = __mmask16;
  static constexpr int kLanes = 16;
  static constexpr int kTileRows = 4;
  static constexpr int kTileVectors = 4;
  static constexpr int kDotRows = 4;

  static Mask first_lanes(int count) { return static_cast<Mask>((1u << count) - 1); }
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec broadcast(float x) { return _mm512_set1_ps(x); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static Vec load(const float* p, Mask mask) { return _mm512_maskz_loadu_ps(mask, p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static void store(float* p, Vec v, Mask mask) { _mm512_mask_storeu_ps(p, mask, v); }
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  // The zero-masked form with a full mask is the plain vmaxps (GCC 12's
  // unmasked one trips the false -Wuninitialized of bug 105593, as in sum4).
  static Vec max(Vec a, Vec b) { return _mm512_maskz_max_ps(0xFFFF, a, b); }
  // sums[i] = the sum of the lanes of the i-th vector. Interleaving pairs, then
  // pairs of pairs, leaves each 128-bit block holding partial sums of all four;
  // adding the blocks finishes them. (The zero-masked forms with a full mask
  // are the plain instructions; GCC 12's unmasked ones trip a false
  // -Wuninitialized, GCC bug 105593.)
  static void sum4(Vec a, Vec b, Vec c, Vec d, float* sums) {
    constexpr __mmask16 all16 = 0xFFFF;
    constexpr __mmask8 all8 = 0xFF;
    const __m512 ab =
        _mm512_add_ps(_mm512_maskz_unpacklo_ps(all16, a, b), _mm512_maskz_unpackhi_ps(all16, a, b));
    const __m512 cd =
        _mm512_add_ps(_mm512_maskz_unpacklo_ps(all16, c, d), _mm512_maskz_unpackhi_ps(all16, c, d));
    const __m512d ab64 = _mm512_castps_pd(ab), cd64 = _mm512_castps_pd(cd);
    const __m512 abcd = _mm512_add_ps(_mm512_castpd_ps(_mm512_maskz_unpacklo_pd(all8, ab64, cd64)),
                                      _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(all8, ab64, cd64)));
    const __m512d abcd64 = _mm512_castps_pd(abcd);
    const __m256 half =
        _mm256_add_ps(_mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(all8, abcd64, 0)),
                      _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(all8, abcd64, 1)));
    _mm_storeu_ps(sums, _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1)));
  }
};

}  // namespace

void gemm_avx512(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
                 const float* B, int ldb, float* C, int ldc, const Epilogue& epilogue) {
  gemm_tiled<Avx512>(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, epilogue);
}

void gemm_steps_avx512(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc,
                       const Blocks& steps) {
  gemm_tiled_steps<Avx512>(M, N, K, A, lda, B, ldb, C, ldc, steps);
}

double fma_loop_avx512(long long rounds) { return fma_loop<Avx512>(rounds); }
