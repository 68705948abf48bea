// gemm_tiles.h: the register-blocked float GEMM, written once for any SIMD width.
//
// Included only by gemm_avx2.cpp and gemm_avx512.cpp. Each defines a small
// struct describing its vectors (the "Simd interface" below) and instantiates
// gemm_tiled<ThatSimd> and fma_loop<ThatSimd>. Everything here sits in an
// anonymous namespace and uses no standard-library template: the two includers
// are compiled with different -m flags, and a function with external linkage
// instantiated in both (say std::min, or a std::vector member) would be a weak
// symbol the linker may take from the AVX-512 file for the whole program, which
// would then crash on a CPU without AVX-512.
//
// The algorithm, for C[M, N] = (accumulate ? C : 0) + op(A)[M, K] * op(B)[K, N]:
// C is cut into tiles of kTileRows rows by kTileVectors vectors of columns. A
// tile's accumulators stay in registers for the whole k loop: at each k the
// tile loads its slice of row k of op(B), and for each of its rows i
// broadcasts op(A)[i, k] and multiply-adds it into that row. op(A) is read in
// place in either form, since its elements are broadcast one at a time and a
// stride costs nothing. op(B) must have contiguous rows, so for trans_b == yes
// B^T is first copied into a per-thread buffer. The column edge of C is a
// narrower tile whose last vector is masked; the row edge a shorter one.
//
// Every element of C is thus the sum over k in increasing order, started from
// 0, one FMA per term, and added to C at the end when accumulating. Neither the
// tile an element falls in, nor M, nor memory alignment changes that order, so
// results depend only on the inputs, and a row of C has the same bits whatever
// batch it is computed in.
//
// The Simd interface (all static):
//   Vec, Mask                  vector of kLanes floats; lane mask
//   kLanes                     floats per vector
//   kTileRows, kTileVectors    register tile: kTileRows x kTileVectors vectors
//   first_lanes(n)             mask of lanes [0, n), 1 <= n <= kLanes
//   zero(), broadcast(x)
//   load(p), load(p, mask)     masked: lanes off read as 0, touch no memory
//   store(p, v), store(p, v, mask)
//   add(a, b), fma(a, b, c)    fma = a * b + c with one rounding
#pragma once

#include <cstddef>
#include <cstdlib>
#include <immintrin.h>
#include <new>
#include <utility>

#include "gemm.h"

namespace {

// One tile: C[Rows, Vectors * kLanes], the last vector cut to the lanes of
// `last`, from op(A)[Rows, K] and op(B)[K, Vectors * kLanes]. A points at
// op(A)[0, 0] of the tile, B at op(B)[0, 0], C at C[0, 0].
template <class Simd, Trans TransA, int Rows, int Vectors>
void multiply_tile(int K, const float* A, std::ptrdiff_t lda, const float* B, std::ptrdiff_t ldb,
                   float* C, std::ptrdiff_t ldc, typename Simd::Mask last, bool accumulate) {
  using Vec = typename Simd::Vec;
  constexpr int L = Simd::kLanes;
  Vec acc[Rows][Vectors];  // C tile, in registers: the loops below unroll fully
#pragma GCC unroll 16
  for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < Vectors; ++v) acc[r][v] = Simd::zero();

  for (int k = 0; k < K; ++k) {
    const float* B_k = B + k * ldb;  // row k of op(B)
    Vec b[Vectors];
#pragma GCC unroll 16
    for (int v = 0; v < Vectors - 1; ++v) b[v] = Simd::load(B_k + v * L);
    b[Vectors - 1] = Simd::load(B_k + (Vectors - 1) * L, last);
#pragma GCC unroll 16
    for (int r = 0; r < Rows; ++r) {
      const Vec a = Simd::broadcast(TransA == Trans::no ? A[r * lda + k] : A[k * lda + r]);
#pragma GCC unroll 16
      for (int v = 0; v < Vectors; ++v) acc[r][v] = Simd::fma(a, b[v], acc[r][v]);
    }
  }

#pragma GCC unroll 16
  for (int r = 0; r < Rows; ++r) {
    float* C_r = C + r * ldc;
#pragma GCC unroll 16
    for (int v = 0; v < Vectors - 1; ++v) {
      if (accumulate) acc[r][v] = Simd::add(Simd::load(C_r + v * L), acc[r][v]);
      Simd::store(C_r + v * L, acc[r][v]);
    }
    float* C_last = C_r + (Vectors - 1) * L;
    if (accumulate) acc[r][Vectors - 1] = Simd::add(Simd::load(C_last, last), acc[r][Vectors - 1]);
    Simd::store(C_last, acc[r][Vectors - 1], last);
  }
}

template <class Simd>
using TileFunction = void (*)(int, const float*, std::ptrdiff_t, const float*, std::ptrdiff_t,
                              float*, std::ptrdiff_t, typename Simd::Mask, bool);

// Every tile shape the edges of C can need, entry (rows - 1) * kTileVectors +
// (vectors - 1) computing a rows x vectors tile.
template <class Simd, Trans TransA>
struct TileTable {
  TileFunction<Simd> shapes[Simd::kTileRows * Simd::kTileVectors];
};

template <class Simd, Trans TransA, int... Index>
constexpr TileTable<Simd, TransA> make_tile_table(std::integer_sequence<int, Index...>) {
  constexpr int V = Simd::kTileVectors;
  return {{multiply_tile<Simd, TransA, Index / V + 1, Index % V + 1>...}};
}

// C = (accumulate ? C : 0) + op(A) * B for B [K, N] with contiguous rows.
template <class Simd, Trans TransA>
void multiply_tiles(int M, int N, int K, const float* A, std::ptrdiff_t lda,
                    const float* B, std::ptrdiff_t ldb, float* C, std::ptrdiff_t ldc,
                    bool accumulate) {
  constexpr int L = Simd::kLanes;
  constexpr int kRows = Simd::kTileRows;
  constexpr int kColumns = Simd::kTileVectors * L;
  static constexpr TileTable<Simd, TransA> kTiles = make_tile_table<Simd, TransA>(
      std::make_integer_sequence<int, kRows * Simd::kTileVectors>());

  // Column panels outside, row tiles inside: a panel of B (K x kColumns) is
  // reused by every row tile while it is still in cache.
  for (int j0 = 0; j0 < N; j0 += kColumns) {
    const int columns = N - j0 < kColumns ? N - j0 : kColumns;
    const int vectors = (columns + L - 1) / L;
    const typename Simd::Mask last = Simd::first_lanes(columns - (vectors - 1) * L);
    for (int i0 = 0; i0 < M; i0 += kRows) {
      const int rows = M - i0 < kRows ? M - i0 : kRows;
      const float* A_tile = TransA == Trans::no ? A + i0 * lda : A + i0;
      kTiles.shapes[(rows - 1) * Simd::kTileVectors + (vectors - 1)](
          K, A_tile, lda, B + j0, ldb, C + i0 * ldc + j0, ldc, last, accumulate);
    }
  }
}

// A float buffer that only grows, so that packing stops allocating once the
// largest product has run. One per thread: gemm is called from worker threads.
class PackBuffer {
 public:
  PackBuffer() = default;
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  ~PackBuffer() { std::free(data_); }

  float* reserve(std::size_t count) {
    if (count > capacity_) {
      constexpr std::size_t kAlign = 64;  // rows of the packed matrix start on cache lines
      std::size_t bytes = (count * sizeof(float) + kAlign - 1) / kAlign * kAlign;
      std::free(data_);
      data_ = static_cast<float*>(std::aligned_alloc(kAlign, bytes));
      capacity_ = data_ ? count : 0;
      if (!data_) throw std::bad_alloc();
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  std::size_t capacity_ = 0;
};

// dst[c, r] = src[r, c] for an 8 x 8 block, in AVX registers (both includers
// have AVX): pairs of rows interleave, then pairs of pairs, then 128-bit halves.
inline void transpose_8x8(const float* src, std::ptrdiff_t ld_src, float* dst, std::ptrdiff_t ld_dst) {
  __m256 row[8], pair[8], quad[8];  // registers, once the loops are unrolled
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r) row[r] = _mm256_loadu_ps(src + r * ld_src);
#pragma GCC unroll 4
  for (int r = 0; r < 8; r += 2) {
    pair[r] = _mm256_unpacklo_ps(row[r], row[r + 1]);      // r0 r1 r0 r1 of columns 0 1 | 4 5
    pair[r + 1] = _mm256_unpackhi_ps(row[r], row[r + 1]);  // columns 2 3 | 6 7
  }
#pragma GCC unroll 2
  for (int r = 0; r < 8; r += 4) {
    quad[r] = _mm256_shuffle_ps(pair[r], pair[r + 2], _MM_SHUFFLE(1, 0, 1, 0));      // column 0 | 4
    quad[r + 1] = _mm256_shuffle_ps(pair[r], pair[r + 2], _MM_SHUFFLE(3, 2, 3, 2));  // column 1 | 5
    quad[r + 2] = _mm256_shuffle_ps(pair[r + 1], pair[r + 3], _MM_SHUFFLE(1, 0, 1, 0));  // 2 | 6
    quad[r + 3] = _mm256_shuffle_ps(pair[r + 1], pair[r + 3], _MM_SHUFFLE(3, 2, 3, 2));  // 3 | 7
  }
  // quad[c] holds rows 0-3 of columns c and c + 4, quad[c + 4] rows 4-7.
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    _mm256_storeu_ps(dst + c * ld_dst, _mm256_permute2f128_ps(quad[c], quad[c + 4], 0x20));
    _mm256_storeu_ps(dst + (c + 4) * ld_dst, _mm256_permute2f128_ps(quad[c], quad[c + 4], 0x31));
  }
}

// P[k, j] = B[j, k]: B [N, K] with row stride ldb into P [K, N] with stride ldp.
// Blocks of 16 k (a cache line of a row of B) by 8 j: every line of B is read
// once, whole, and P is written along its rows. (Walking B row block by row
// block instead writes P a column at a time, 1 KB apart for N = 256, and those
// lines evict each other from L1.)
inline void transpose(int N, int K, const float* B, std::ptrdiff_t ldb, float* P, std::ptrdiff_t ldp) {
  int k = 0;
  for (; k + 16 <= K; k += 16) {
    int j = 0;
    for (; j + 8 <= N; j += 8) {
      transpose_8x8(B + j * ldb + k, ldb, P + k * ldp + j, ldp);
      transpose_8x8(B + j * ldb + k + 8, ldb, P + (k + 8) * ldp + j, ldp);
    }
    for (; j < N; ++j)
      for (int kk = k; kk < k + 16; ++kk) P[kk * ldp + j] = B[j * ldb + kk];
  }
  for (; k < K; ++k)
    for (int j = 0; j < N; ++j) P[k * ldp + j] = B[j * ldb + k];
}

// The product of gemm.h, arguments validated and M, N, K >= 1.
template <class Simd>
void gemm_tiled(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
                const float* B, int ldb, float* C, int ldc, bool accumulate) {
  const float* B_rows = B;  // op(B) [K, N] with contiguous rows
  std::ptrdiff_t ld_rows = ldb;
  if (trans_b == Trans::yes) {
    thread_local PackBuffer packed;
    float* B_transposed = packed.reserve(static_cast<std::size_t>(K) * N);  // [K, N]
    transpose(N, K, B, ldb, B_transposed, N);
    B_rows = B_transposed;
    ld_rows = N;
  }
  if (trans_a == Trans::no)
    multiply_tiles<Simd, Trans::no>(M, N, K, A, lda, B_rows, ld_rows, C, ldc, accumulate);
  else
    multiply_tiles<Simd, Trans::yes>(M, N, K, A, lda, B_rows, ld_rows, C, ldc, accumulate);
}

// Where fma_loop leaves its result, so that the compiler cannot drop the loop.
volatile float fma_loop_sink;

// `rounds` rounds of kChains independent FMA chains in registers; returns the
// flops done. A chain waits for its previous FMA (4 cycles on current cores)
// while the core issues up to two FMAs a cycle, so at least 8 chains are needed
// to keep both units busy; 12 leaves margin and still fits 16 registers.
template <class Simd>
double fma_loop(long long rounds) {
  using Vec = typename Simd::Vec;
  constexpr int kChains = 12;
  Vec chain[kChains];
  for (int c = 0; c < kChains; ++c) chain[c] = Simd::broadcast(0.001f * c);
  // x -> x * 0.999999 + 1e-6 stays bounded: no overflow or denormal slows it.
  const Vec scale = Simd::broadcast(0.999999f);
  const Vec shift = Simd::broadcast(1e-6f);
  for (long long round = 0; round < rounds; ++round) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) chain[c] = Simd::fma(chain[c], scale, shift);
  }
  // Sum and publish the chains.
  for (int c = 1; c < kChains; ++c) chain[0] = Simd::add(chain[0], chain[c]);
  float lanes[Simd::kLanes];
  Simd::store(lanes, chain[0]);
  fma_loop_sink = lanes[0];
  return 2.0 * Simd::kLanes * kChains * static_cast<double>(rounds);
}

}  // namespace
