// gemm_tiles.h: the register-blocked float GEMM, written once for any SIMD width.
//
// Included only by gemm_avx2.cpp and gemm_avx512.cpp. Each defines a small
// struct describing its vectors (the Simd interface below) and instantiates
// gemm_tiled<ThatSimd> and fma_loop<ThatSimd>. Everything here sits in an
// anonymous namespace and calls no inline function of the standard library:
// the two includers are compiled with different -m flags, and a function with
// external linkage instantiated in both (say std::min, or a std::vector
// member) would be a weak symbol the linker may take from the AVX-512 file for
// the whole program, which would then crash on a CPU without AVX-512.
//
// C[M, N] = (accumulate ? C : 0) + op(A)[M, K] * op(B)[K, N] runs on one of
// two register tiles, whichever keeps the lanes busy and reads memory along
// rows. As a tile stores C it applies the Epilogue (gemm_kernels.h): it adds
// C's old value or a layer's bias, and takes the rectifier.
//
//   Broadcast tiles (the forward Y = X W and dW += X^T dY). A tile of C of
//   kTileRows rows by kTileVectors vectors stays in registers for the whole k
//   loop: at each k it loads its slice of row k of op(B), and for each of its
//   rows i broadcasts op(A)[i, k] and multiply-adds. op(A) is read in place in
//   either form (its elements are broadcast one at a time, so a stride costs
//   nothing); op(B) needs contiguous rows, so when trans_b == yes, B^T is
//   first copied into a per-thread buffer. Each element of C is the sum over k
//   in increasing order, from 0, then added to C (or the bias) when the
//   epilogue says so.
//
//   Dot tiles (dX = dY W^T when K >= kDotMinK; W^T's rows are W's rows). A
//   tile of kDotRows x 4 elements of C, each the dot product of a row of A and
//   a row of B^T: vectors of kLanes partial sums over k, folded by a fixed
//   tree at the end. The alternative, copying B^T and running broadcast
//   tiles, was measured on Zen 4 (AVX-512, N = 256, GFLOP/s dot vs copy):
//     K = 256:  M = 16  108 vs 81,  M = 128  108 vs 110
//     K = 128:  M = 16  100 vs 82,  M = 128  103 vs 113
//     K =  64:  M = 16   81 vs 83,  M = 128   82 vs 112
//   At M = 16 the copy takes about as long as the product itself, while the
//   fold at the end of each dot tile pays off only over long dot products;
//   shorter products of this form copy B^T.
//
// A product with fewer columns than a vector has lanes (the model's heads, N
// = 1, 2 or 10) would leave most lanes of a broadcast tile idle. With trans_a
// == no it runs on dot tiles, copying the small B^T first; with trans_a ==
// yes it computes C^T = B^T A on broadcast tiles, where the long rows of A are
// the ones loaded, and the very same sums come out.
//
// Which tile and which summation order an element gets depends only on the
// form, N and K. Neither M, nor the tile an element falls in, nor memory
// alignment changes it, so results depend only on the inputs and a row of C
// has the same bits whatever batch it is computed in.
//
// The Simd interface (all static):
//   Vec, Mask                  vector of kLanes floats; lane mask
//   kLanes                     floats per vector
//   kTileRows, kTileVectors    broadcast tile: kTileRows x kTileVectors vectors
//   kDotRows                   dot tile: kDotRows x 4 elements
//   first_lanes(n)             mask of lanes [0, n), 1 <= n <= kLanes
//   zero(), broadcast(x)
//   load(p), load(p, mask)     masked: lanes off read as 0, touch no memory
//   store(p, v), store(p, v, mask)
//   add(a, b), fma(a, b, c)    fma = a * b + c with one rounding
//   max(a, b)                  a > b ? a : b per lane (b when either is NaN)
//   sum4(a, b, c, d, sums)     sums[0..3] = the lane sums of a, b, c, d
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <new>
#include <utility>

#include "kernels/gemm.h"
#include "kernels/gemm_kernels.h"

namespace {

// ---------------------------------------------------------------------------
// The epilogue

// x = add + sum, then max(0, x) for the rectifier: max(0, x) is x when x is
// NaN or -0, as std::max(x, 0.0f) would give.
template <class Simd>
inline typename Simd::Vec finish(typename Simd::Vec sum, const float* add, bool relu) {
  typename Simd::Vec x = add ? Simd::add(Simd::load(add), sum) : sum;
  return relu ? Simd::max(Simd::zero(), x) : x;
}
template <class Simd>
inline typename Simd::Vec finish(typename Simd::Vec sum, const float* add, typename Simd::Mask mask, bool relu) {
  typename Simd::Vec x = add ? Simd::add(Simd::load(add, mask), sum) : sum;
  return relu ? Simd::max(Simd::zero(), x) : x;
}
// The same for elements one at a time, in two passes: the addend, then the
// rectifier when asked. In one condition (relu && x < 0) GCC tested the
// sign first, a branch that mispredicts on every other element of a head's
// product, which has no rectifier at all.
inline float add_scalar(float sum, const float* add) { return add ? *add + sum : sum; }
inline void rectify(float& x) { x = x < 0 ? 0.0f : x; }

// Where the epilogue's addend for the block of C at row i, column j starts.
// A tile gets it as a pointer of its own, and the epilogue by reference:
// a copy of the struct per tile, as an argument, cost a store-forwarding
// stall per call (two 8-byte stores read back as one 16-byte load).
inline const float* add_at(const Epilogue& e, std::ptrdiff_t i, std::ptrdiff_t j) {
  return e.add ? e.add + i * e.ld_add + j : nullptr;
}

// ---------------------------------------------------------------------------
// Copies

// A float buffer that only grows, so that copies stop allocating once the
// largest product has run.
class PackBuffer {
 public:
  PackBuffer() = default;
  PackBuffer(const PackBuffer&) = delete;
  PackBuffer& operator=(const PackBuffer&) = delete;
  ~PackBuffer() { release(); }

  float* reserve(std::size_t count) {
    if (count > capacity_) {
      release();
      // The library's aligned operator new throws std::bad_alloc itself, so
      // this file instantiates none of the exception's inline members.
      data_ = static_cast<float*>(::operator new(count * sizeof(float), kAlign));
      capacity_ = count;
    }
    return data_;
  }

 private:
  static constexpr std::align_val_t kAlign{64};  // rows of a copy start on cache lines

  void release() {
    if (data_) ::operator delete(data_, kAlign);
    data_ = nullptr;
    capacity_ = 0;
  }

  float* data_ = nullptr;
  std::size_t capacity_ = 0;
};

// The copy buffer of this instruction set on this thread (gemm runs on the
// caller's worker threads, each with its own).
inline float* pack_buffer(std::size_t count) {
  thread_local PackBuffer buffer;
  return buffer.reserve(count);
}

// ---------------------------------------------------------------------------
// Broadcast tiles

// One tile: C[Rows, Vectors * kLanes] from op(A)[Rows, K] and op(B)[K, Vectors
// * kLanes]; A points at the tile's op(A)[0, 0], B at op(B)[0, 0], C at C[0, 0].
// With MaskLast, the last vector is cut to the lanes of `last` (the right edge
// of C); full tiles skip the mask, which costs a few percent even where it is
// free in principle.
// Always inlined into multiply_tile_blocks below: called there, a tile of
// the plain product (one block) would pay a call per tile, a few percent at
// the small K of a batch of 32.
template <class Simd, Trans TransA, int Rows, int Vectors, bool MaskLast>
[[gnu::always_inline]] inline void multiply_tile(int K, const float* A, std::ptrdiff_t lda, const float* B, std::ptrdiff_t ldb,
                   float* C, std::ptrdiff_t ldc, typename Simd::Mask last, const float* add,
                   const Epilogue& epilogue) {
  using Vec = typename Simd::Vec;
  constexpr int L = Simd::kLanes;
  constexpr int V = Vectors - 1;  // the last vector
  Vec acc[Rows][Vectors];         // the C tile, in registers once the loops unroll
#pragma GCC unroll 16
  for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < Vectors; ++v) acc[r][v] = Simd::zero();

  for (int k = 0; k < K; ++k) {
    const float* B_k = B + k * ldb;  // row k of op(B)
    Vec b[Vectors];
#pragma GCC unroll 16
    for (int v = 0; v < V; ++v) b[v] = Simd::load(B_k + v * L);
    if constexpr (MaskLast)
      b[V] = Simd::load(B_k + V * L, last);
    else
      b[V] = Simd::load(B_k + V * L);
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
    const float* add_r = add ? add + r * epilogue.ld_add : nullptr;
#pragma GCC unroll 16
    for (int v = 0; v < V; ++v)
      Simd::store(C_r + v * L, finish<Simd>(acc[r][v], add_r ? add_r + v * L : nullptr, epilogue.relu));
    if constexpr (MaskLast)
      Simd::store(C_r + V * L, finish<Simd>(acc[r][V], add_r ? add_r + V * L : nullptr, last, epilogue.relu), last);
    else
      Simd::store(C_r + V * L, finish<Simd>(acc[r][V], add_r ? add_r + V * L : nullptr, epilogue.relu));
  }
}

// The tile over Blocks (gemm_kernels.h): block after block, each block's sum
// from 0 over its own K and then added to the tile of C as the epilogue
// says, the next block adding to what the last one stored. So each block is
// the same sum as a gemm call of its own, while the tile stays in L1 between
// the blocks: `count` calls would each read and write the whole of C.
template <class Simd, Trans TransA, int Rows, int Vectors, bool MaskLast>
void multiply_tile_blocks(int K, const float* A, std::ptrdiff_t lda, const float* B, std::ptrdiff_t ldb,
                          float* C, std::ptrdiff_t ldc, typename Simd::Mask last, const float* add,
                          const Epilogue& epilogue, const Blocks& blocks) {
  for (int block = 0; block < blocks.count; ++block)
    multiply_tile<Simd, TransA, Rows, Vectors, MaskLast>(K, A + block * blocks.step_a, lda, B + block * blocks.step_b,
                                                         ldb, C, ldc, last, add, epilogue);
}

template <class Simd>
using TileFunction = void (*)(int, const float*, std::ptrdiff_t, const float*, std::ptrdiff_t,
                              float*, std::ptrdiff_t, typename Simd::Mask, const float*, const Epilogue&,
                              const Blocks&);

// Every broadcast tile the edges of C can need: entry
// ((masked * kTileRows) + rows - 1) * kTileVectors + vectors - 1.
template <class Simd, Trans TransA>
struct TileTable {
  TileFunction<Simd> shapes[2 * Simd::kTileRows * Simd::kTileVectors];
};

template <class Simd, Trans TransA, int... Index>
constexpr TileTable<Simd, TransA> make_tile_table(std::integer_sequence<int, Index...>) {
  constexpr int R = Simd::kTileRows, V = Simd::kTileVectors;
  return {
      {multiply_tile_blocks<Simd, TransA, Index % (R * V) / V + 1, Index % V + 1, (Index >= R * V)>...}};
}

// strip [K, columns] = B[:, 0 .. columns), rows kColumns apart: one panel
// of B made contiguous, for multiply_tiles.
template <class Simd>
void pack_strip(int K, int columns, const float* B, std::ptrdiff_t ldb, float* strip, std::ptrdiff_t ld_strip) {
  constexpr int L = Simd::kLanes;
  const int full = columns / L;
  const typename Simd::Mask rest = Simd::first_lanes(columns - full * L > 0 ? columns - full * L : L);
  for (int k = 0; k < K; ++k) {
    const float* B_k = B + k * ldb;
    float* strip_k = strip + k * ld_strip;
    for (int v = 0; v < full; ++v) Simd::store(strip_k + v * L, Simd::load(B_k + v * L));
    if (full * L < columns) Simd::store(strip_k + full * L, Simd::load(B_k + full * L, rest), rest);
  }
}

// C = epilogue(op(A) * B) for B [K, N] with contiguous rows, over `blocks`
// (one, unless gemm_step_gradients asks for more). With pack_strips, each
// panel of B is first copied into a contiguous block, the blocks' rows one
// after another.
template <class Simd, Trans TransA>
void multiply_tiles(int M, int N, int K, const float* A, std::ptrdiff_t lda, const float* B,
                    std::ptrdiff_t ldb, float* C, std::ptrdiff_t ldc, const Epilogue& epilogue,
                    bool pack_strips = false, const Blocks& blocks = Blocks{1, 0, 0}) {
  constexpr int L = Simd::kLanes;
  constexpr int kRows = Simd::kTileRows, kVectors = Simd::kTileVectors;
  constexpr int kColumns = kVectors * L;
  static constexpr TileTable<Simd, TransA> kTiles =
      make_tile_table<Simd, TransA>(std::make_integer_sequence<int, 2 * kRows * kVectors>());
  const std::ptrdiff_t strip_block = static_cast<std::ptrdiff_t>(K) * kColumns;
  float* const strip = pack_strips ? pack_buffer(static_cast<std::size_t>(blocks.count) * strip_block) : nullptr;

  // Column panels outside, row tiles inside: a panel of B (K x kColumns) is
  // reused by every row tile while it is still in cache.
  for (int j0 = 0; j0 < N; j0 += kColumns) {
    const int columns = N - j0 < kColumns ? N - j0 : kColumns;
    const int vectors = (columns + L - 1) / L;
    const int masked = columns % L != 0;
    const typename Simd::Mask last = Simd::first_lanes(columns - (vectors - 1) * L);
    const float* B_panel = B + j0;
    std::ptrdiff_t ld_panel = ldb;
    Blocks panel_blocks = blocks;
    if (pack_strips) {
      for (int block = 0; block < blocks.count; ++block)
        pack_strip<Simd>(K, columns, B + block * blocks.step_b + j0, ldb, strip + block * strip_block, kColumns);
      B_panel = strip;
      ld_panel = kColumns;
      panel_blocks.step_b = strip_block;
    }
    for (int i0 = 0; i0 < M; i0 += kRows) {
      const int rows = M - i0 < kRows ? M - i0 : kRows;
      const float* A_tile = TransA == Trans::no ? A + i0 * lda : A + i0;
      kTiles.shapes[(masked * kRows + rows - 1) * kVectors + vectors - 1](
          K, A_tile, lda, B_panel, ld_panel, C + i0 * ldc + j0, ldc, last, add_at(epilogue, i0, j0), epilogue,
          panel_blocks);
    }
  }
}

// ---------------------------------------------------------------------------
// Dot tiles

// One tile: C[Rows, Columns] from A [Rows, K] and Bt [Columns, K], both with
// rows contiguous in k. Lane l of an accumulator sums k = l, l + kLanes, ...;
// a last masked step takes the K % kLanes left; sum4 then folds the lanes.
template <class Simd, int Rows, int Columns>
void dot_tile(int K, const float* A, std::ptrdiff_t lda, const float* Bt, std::ptrdiff_t ldbt,
              float* C, std::ptrdiff_t ldc, const float* add, const Epilogue& epilogue) {
  using Vec = typename Simd::Vec;
  constexpr int L = Simd::kLanes;
  Vec acc[Rows][4];  // columns past `Columns` stay 0: sum4's padding
#pragma GCC unroll 16
  for (int r = 0; r < Rows; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) acc[r][c] = Simd::zero();

  const int K_full = K / L * L;
  // The Rows vectors of A in registers, then one of Bt at a time: for 3 x 4
  // AVX2 tiles that is all 16 registers, and clang no longer spills an
  // accumulator as it did holding the 4 of Bt.
  for (int k = 0; k < K_full; k += L) {
    Vec a[Rows];
#pragma GCC unroll 16
    for (int r = 0; r < Rows; ++r) a[r] = Simd::load(A + r * lda + k);
#pragma GCC unroll 4
    for (int c = 0; c < Columns; ++c) {
      const Vec b = Simd::load(Bt + c * ldbt + k);
#pragma GCC unroll 16
      for (int r = 0; r < Rows; ++r) acc[r][c] = Simd::fma(a[r], b, acc[r][c]);
    }
  }
  if (K_full < K) {
    const typename Simd::Mask rest = Simd::first_lanes(K - K_full);
    Vec a[Rows];
#pragma GCC unroll 16
    for (int r = 0; r < Rows; ++r) a[r] = Simd::load(A + r * lda + K_full, rest);
#pragma GCC unroll 4
    for (int c = 0; c < Columns; ++c) {
      const Vec b = Simd::load(Bt + c * ldbt + K_full, rest);
#pragma GCC unroll 16
      for (int r = 0; r < Rows; ++r) acc[r][c] = Simd::fma(a[r], b, acc[r][c]);
    }
  }

#pragma GCC unroll 16
  for (int r = 0; r < Rows; ++r) {
    float sums[4];
    Simd::sum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3], sums);
    float* C_r = C + r * ldc;
    const float* add_r = add ? add + r * epilogue.ld_add : nullptr;
#pragma GCC unroll 4
    for (int c = 0; c < Columns; ++c) C_r[c] = add_scalar(sums[c], add_r ? add_r + c : nullptr);
    if (epilogue.relu)
#pragma GCC unroll 4
      for (int c = 0; c < Columns; ++c) rectify(C_r[c]);
  }
}

template <class Simd>
using DotFunction = void (*)(int, const float*, std::ptrdiff_t, const float*, std::ptrdiff_t,
                             float*, std::ptrdiff_t, const float*, const Epilogue&);

// Every dot tile the edges of C can need: entry (rows - 1) * 4 + columns - 1.
template <class Simd>
struct DotTable {
  DotFunction<Simd> shapes[Simd::kDotRows * 4];
};

template <class Simd, int... Index>
constexpr DotTable<Simd> make_dot_table(std::integer_sequence<int, Index...>) {
  return {{dot_tile<Simd, Index / 4 + 1, Index % 4 + 1>...}};
}

// C = epilogue(A * Bt^T) for A [M, K] and Bt [N, K].
template <class Simd>
void dot_tiles(int M, int N, int K, const float* A, std::ptrdiff_t lda, const float* Bt,
               std::ptrdiff_t ldbt, float* C, std::ptrdiff_t ldc, const Epilogue& epilogue) {
  constexpr int kRows = Simd::kDotRows;
  static constexpr DotTable<Simd> kTiles =
      make_dot_table<Simd>(std::make_integer_sequence<int, kRows * 4>());
  // Panels of rows of Bt filling half of L1 outside, row tiles of A inside:
  // the panel stays in L1 while A streams past it once, and each row tile of
  // A stays there while it meets the panel four rows at a time.
  constexpr int kPanelBytes = 16 * 1024;
  const int row_bytes = static_cast<int>(sizeof(float)) * K;
  const int panel = kPanelBytes / (4 * row_bytes) > 1 ? kPanelBytes / (4 * row_bytes) * 4 : 4;
  for (int p0 = 0; p0 < N; p0 += panel) {
    const int p_end = N - p0 < panel ? N : p0 + panel;
    for (int i0 = 0; i0 < M; i0 += kRows) {
      const int rows = M - i0 < kRows ? M - i0 : kRows;
      for (int j0 = p0; j0 < p_end; j0 += 4) {
        const int columns = p_end - j0 < 4 ? p_end - j0 : 4;
        kTiles.shapes[(rows - 1) * 4 + columns - 1](K, A + i0 * lda, lda, Bt + j0 * ldbt, ldbt,
                                                    C + i0 * ldc + j0, ldc, add_at(epilogue, i0, j0), epilogue);
      }
    }
  }
}


// ---------------------------------------------------------------------------
// Transposes

// dst[c, r] = src[r, c] for an 8 x 8 block, in AVX registers (both includers
// have AVX): pairs of rows interleave, then pairs of pairs, then 128-bit halves.
inline void transpose_8x8(const float* src, std::ptrdiff_t ld_src, float* dst,
                          std::ptrdiff_t ld_dst) {
  __m256 row[8], pair[8], quad[8];  // registers, once the loops unroll
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r) row[r] = _mm256_loadu_ps(src + r * ld_src);
#pragma GCC unroll 4
  for (int r = 0; r < 8; r += 2) {
    pair[r] = _mm256_unpacklo_ps(row[r], row[r + 1]);      // columns 0 1 | 4 5 of rows r, r+1
    pair[r + 1] = _mm256_unpackhi_ps(row[r], row[r + 1]);  // columns 2 3 | 6 7
  }
#pragma GCC unroll 2
  for (int r = 0; r < 8; r += 4) {
    quad[r] = _mm256_shuffle_ps(pair[r], pair[r + 2], _MM_SHUFFLE(1, 0, 1, 0));          // 0 | 4
    quad[r + 1] = _mm256_shuffle_ps(pair[r], pair[r + 2], _MM_SHUFFLE(3, 2, 3, 2));      // 1 | 5
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

// P[c, r] = S[r, c]: S [rows, columns] with row stride lds into P [columns,
// rows] with stride ldp. Blocks of 16 columns (a cache line of a row of S) by
// 8 rows, so every line of S is read once, whole, and P is written along its
// rows.
inline void transpose(int rows, int columns, const float* S, std::ptrdiff_t lds, float* P,
                      std::ptrdiff_t ldp) {
  int c = 0;
  for (; c + 16 <= columns; c += 16) {
    int r = 0;
    for (; r + 8 <= rows; r += 8) {
      transpose_8x8(S + r * lds + c, lds, P + c * ldp + r, ldp);
      transpose_8x8(S + r * lds + c + 8, lds, P + (c + 8) * ldp + r, ldp);
    }
    for (; r < rows; ++r)
      for (int cc = c; cc < c + 16; ++cc) P[cc * ldp + r] = S[r * lds + cc];
  }
  for (; c < columns; ++c)
    for (int r = 0; r < rows; ++r) P[c * ldp + r] = S[r * lds + c];
}

// ---------------------------------------------------------------------------
// The product

// The shortest dot product worth a dot tile when the alternative is copying
// B^T: below it, folding the lanes at the end costs more than the copy saves.
constexpr int kDotMinK = 128;

// The product of gemm.h, arguments validated and M, N, K >= 1.
template <class Simd>
void gemm_tiled(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
                const float* B, int ldb, float* C, int ldc, const Epilogue& epilogue) {
  const bool narrow = N < Simd::kLanes;

  if (trans_a == Trans::no && (narrow || (trans_b == Trans::yes && K >= kDotMinK))) {
    const float* B_transposed = B;  // [N, K]
    std::ptrdiff_t ld_transposed = ldb;
    if (trans_b == Trans::no) {  // narrow: B is only N x K
      float* copy = pack_buffer(static_cast<std::size_t>(N) * K);
      transpose(K, N, B, ldb, copy, K);
      B_transposed = copy;
      ld_transposed = K;
    }
    dot_tiles<Simd>(M, N, K, A, lda, B_transposed, ld_transposed, C, ldc, epilogue);
    return;
  }

  if (trans_a == Trans::yes && trans_b == Trans::no && narrow) {
    // C^T[N, M] = B^T A: B's N columns are broadcast, A's rows (stored [K, M])
    // loaded as vectors.
    float* C_transposed = pack_buffer(static_cast<std::size_t>(N) * M);
    multiply_tiles<Simd, Trans::yes>(N, M, K, B, ldb, A, lda, C_transposed, M, Epilogue{nullptr, 0, false});
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        const float sum = C_transposed[j * static_cast<std::ptrdiff_t>(M) + i];
        C[i * static_cast<std::ptrdiff_t>(ldc) + j] = add_scalar(sum, add_at(epilogue, i, j));
      }
    if (epilogue.relu)
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) rectify(C[i * static_cast<std::ptrdiff_t>(ldc) + j]);
    return;
  }

  const float* B_rows = B;  // op(B) [K, N] with contiguous rows
  std::ptrdiff_t ld_rows = ldb;
  if (trans_b == Trans::yes) {  // with trans_a == yes: no layer runs this form
    float* copy = pack_buffer(static_cast<std::size_t>(K) * N);
    transpose(N, K, B, ldb, copy, N);
    B_rows = copy;
    ld_rows = N;
  }
  if (trans_a == Trans::no) {
    multiply_tiles<Simd, Trans::no>(M, N, K, A, lda, B_rows, ld_rows, C, ldc, epilogue);
  } else {
    // A weight gradient copies each panel of dY into a contiguous block
    // first (kPackMinRows: gemm_kernels.h says why).
    const bool pack_strips = trans_b == Trans::no && M >= kPackMinRows && ldb > Simd::kTileVectors * Simd::kLanes;
    multiply_tiles<Simd, Trans::yes>(M, N, K, A, lda, B_rows, ld_rows, C, ldc, epilogue, pack_strips);
  }
}

// C += op(A_s)^T B_s for the steps s of gemm_step_gradients (gemm.h),
// arguments validated and M, N, K, steps >= 1. A weight gradient of N at
// least a vector wide runs on broadcast tiles over the steps as Blocks, each
// block the sum gemm_tiled forms for one step; a narrower one, on C^T
// tiles, calls gemm_tiled step by step.
template <class Simd>
void gemm_tiled_steps(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc,
                      const Blocks& steps) {
  const Epilogue accumulate{C, ldc, false};
  if (N < Simd::kLanes) {
    for (int s = 0; s < steps.count; ++s)
      gemm_tiled<Simd>(Trans::yes, Trans::no, M, N, K, A + s * steps.step_a, lda, B + s * steps.step_b, ldb, C, ldc,
                       accumulate);
    return;
  }
  const bool pack_strips = M >= kPackMinRows && ldb > Simd::kTileVectors * Simd::kLanes;
  multiply_tiles<Simd, Trans::yes>(M, N, K, A, lda, B, ldb, C, ldc, accumulate, pack_strips, steps);
}

// ---------------------------------------------------------------------------
// The peak

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
  // x -> x * 0.999999 + 1e-6 stays bounded: no overflow, no denormals.
  const Vec scale = Simd::broadcast(0.999999f);
  const Vec shift = Simd::broadcast(1e-6f);
  for (long long round = 0; round < rounds; ++round) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) chain[c] = Simd::fma(chain[c], scale, shift);
  }
  for (int c = 1; c < kChains; ++c) chain[0] = Simd::add(chain[0], chain[c]);
  float lanes[Simd::kLanes];
  Simd::store(lanes, chain[0]);
  fma_loop_sink = lanes[0];
  return 2.0 * Simd::kLanes * kChains * static_cast<double>(rounds);
}

}  // namespace
