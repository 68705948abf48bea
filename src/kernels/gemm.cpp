// gemm.cpp: argument checks, the run-time choice of kernel, and the portable path.
//
// gemm() validates its arguments, settles the trivial sizes (M, N or K zero),
// and hands the product to one of three paths: AVX-512 or AVX2 (gemm_avx512.cpp,
// gemm_avx2.cpp, built only on x86 and called only when CPUID allows), or the
// scalar path below, plain C++ for any CPU. The path is picked once per
// process: the best one the CPU runs, unless RAM_GEMM names another.
//
// In the scalar path each element of C is its sum over k in increasing order,
// from 0, then added to C when accumulating; like the SIMD paths
// (gemm_tiles.h), its results depend only on the inputs, not on M or on where
// an element falls. The paths round differently from one another.
#include "kernels/gemm.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "kernels/gemm_kernels.h"
#include "kernels/thread_pool.h"

namespace {

// ---------------------------------------------------------------------------
// Argument checks

const char* trans_name(Trans t) { return t == Trans::no ? "no" : "yes"; }

// Throws std::invalid_argument unless the sizes are non-negative, each leading
// dimension covers a stored row, and the pointers a non-empty product touches
// are set. A is stored [M, K] (trans_a no) or [K, M] (yes), B [K, N] or [N, K].
void check_arguments(Trans trans_a, Trans trans_b, int M, int N, int K, const void* A, int lda,
                     const void* B, int ldb, const void* C, int ldc) {
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

template <class T>
void check_store(const GemmStore<T>& store) {
  if (store.accumulate && store.bias)
    throw std::invalid_argument("gemm: a store both accumulates and adds a bias; it may start from one only");
}

// ---------------------------------------------------------------------------
// The scalar path
//
// The broadcast tiles of gemm_tiles.h in plain C++: a block of kScalarRows x
// kScalarColumns sums of C lives in a local array while k runs, each element of
// a row of B feeding kScalarRows sums. With the fixed block width, the
// compiler keeps the sums in vector registers and vectorizes the inner loops.
// 4 x 8 is 8 of the 16 SSE registers of baseline x86-64; on Zen 4 it ran at
// 30-35 GFLOP/s, twice as fast as 1 x 16 and a bit faster than 2 x 16, 3 x 8.

constexpr int kScalarRows = 4;
constexpr int kScalarColumns = 8;

// GCC at -O2 vectorizes the block's loops, and keeps the sums in registers,
// only once it has unrolled them, which it must be told to do. Clang does all
// of it unprompted, and vectorizes worse when told to unroll.
#if defined(__GNUC__) && !defined(__clang__)
#define UNROLL_FOR_GCC _Pragma("GCC unroll 8")
#else
#define UNROLL_FOR_GCC
#endif

// C[i0 .. i0+Rows, j0 .. j0+columns] = epilogue(op(A) * B), for B
// [K, N] with contiguous rows and op(A)[i, k] = A[i * a_row_step + k *
// a_k_step]. FullWidth: columns == kScalarColumns, known to the compiler.
// Kept out of line: inlined into its caller, GCC 12 vectorizes it at half
// the speed.
template <int Rows, bool FullWidth>
[[gnu::noinline]] void scalar_block(int i0, int j0, int columns, int K, const float* A,
                                    std::ptrdiff_t a_row_step, std::ptrdiff_t a_k_step,
                                    const float* B, std::ptrdiff_t ldb, float* C,
                                    std::ptrdiff_t ldc, const Epilogue& epilogue) {
  const int width = FullWidth ? kScalarColumns : columns;
  float sum[Rows][kScalarColumns] = {};
  for (int k = 0; k < K; ++k) {
    const float* B_k = B + k * ldb + j0;  // row k of B from column j0
    UNROLL_FOR_GCC
    for (int r = 0; r < Rows; ++r) {
      const float a = A[(i0 + r) * a_row_step + k * a_k_step];
      UNROLL_FOR_GCC
      for (int j = 0; j < width; ++j) sum[r][j] += a * B_k[j];
    }
  }
  for (int r = 0; r < Rows; ++r) {
    float* C_r = C + (i0 + r) * ldc + j0;
    const float* add_r = epilogue.add ? epilogue.add + (i0 + r) * epilogue.ld_add + j0 : nullptr;
    for (int j = 0; j < width; ++j) C_r[j] = add_r ? add_r[j] + sum[r][j] : sum[r][j];
    if (epilogue.relu)
      for (int j = 0; j < width; ++j) C_r[j] = std::max(C_r[j], 0.0f);
  }
}

// Rows [i0, i0 + Rows) of C, in blocks of columns.
template <int Rows>
void scalar_rows(int i0, int N, int K, const float* A, std::ptrdiff_t a_row_step,
                 std::ptrdiff_t a_k_step, const float* B, std::ptrdiff_t ldb, float* C,
                 std::ptrdiff_t ldc, const Epilogue& epilogue) {
  int j0 = 0;
  for (; j0 + kScalarColumns <= N; j0 += kScalarColumns)
    scalar_block<Rows, true>(i0, j0, kScalarColumns, K, A, a_row_step, a_k_step, B, ldb, C, ldc,
                             epilogue);
  if (j0 < N)  // the right edge of C
    scalar_block<Rows, false>(i0, j0, N - j0, K, A, a_row_step, a_k_step, B, ldb, C, ldc,
                              epilogue);
}

// The product of gemm.h on any CPU, arguments validated and M, N, K >= 1.
void gemm_scalar(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
                 const float* B, int ldb, float* C, int ldc, const Epilogue& epilogue) {
  const float* B_rows = B;  // op(B) [K, N] with contiguous rows
  std::ptrdiff_t ld_rows = ldb;
  if (trans_b == Trans::yes) {
    // B^T into a per-thread buffer that only grows.
    thread_local std::unique_ptr<float[]> copy;
    thread_local std::size_t capacity = 0;
    const std::size_t count = static_cast<std::size_t>(K) * N;
    if (count > capacity) {
      copy.reset(new float[count]);
      capacity = count;
    }
    for (std::ptrdiff_t j = 0; j < N; ++j)
      for (std::ptrdiff_t k = 0; k < K; ++k) copy[k * N + j] = B[j * ldb + k];
    B_rows = copy.get();
    ld_rows = N;
  }
  const std::ptrdiff_t a_row_step = trans_a == Trans::no ? lda : 1;
  const std::ptrdiff_t a_k_step = trans_a == Trans::no ? 1 : lda;
  int i0 = 0;
  for (; i0 + kScalarRows <= M; i0 += kScalarRows)
    scalar_rows<kScalarRows>(i0, N, K, A, a_row_step, a_k_step, B_rows, ld_rows, C, ldc,
                             epilogue);
  for (; i0 < M; ++i0)  // the bottom edge of C
    scalar_rows<1>(i0, N, K, A, a_row_step, a_k_step, B_rows, ld_rows, C, ldc, epilogue);
}

// ---------------------------------------------------------------------------
// Choosing the path

// In enum order: kAllPaths[p] is GemmPath(p).
constexpr GemmPath kAllPaths[] = {GemmPath::scalar, GemmPath::avx2, GemmPath::avx512};
constexpr int kPathCount = sizeof(kAllPaths) / sizeof(kAllPaths[0]);

// Whether this build has the path and this CPU the instructions it uses.
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

// cpu_runs, asked once per path: gemm_with_path checks it on every call.
bool path_supported(GemmPath path) {
  static const struct Supported {
    bool by_path[kPathCount];
    Supported() {
      for (int p = 0; p < kPathCount; ++p) by_path[p] = cpu_runs(kAllPaths[p]);
    }
  } supported;
  const int index = static_cast<int>(path);
  return index >= 0 && index < kPathCount && supported.by_path[index];
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
  std::fprintf(stderr,
               "RAM_GEMM=%s: unknown GEMM path (expected scalar, avx2 or avx512; available: %s)\n",
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
    case GemmPath::scalar:
      return "scalar";
    case GemmPath::avx2:
      return "avx2";
    case GemmPath::avx512:
      return "avx512";
  }
  return "unknown";
}

namespace {

// The product on one path, arguments validated and M, N, K >= 1.
void multiply_on_path(GemmPath path, Trans trans_a, Trans trans_b, int M, int N, int K,
                      const float* A, int lda, const float* B, int ldb, float* C, int ldc,
                      const Epilogue& epilogue) {
  switch (path) {
    case GemmPath::scalar:
      gemm_scalar(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, epilogue);
      return;
#ifdef RAM_X86_KERNELS
    case GemmPath::avx2:
      gemm_avx2(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, epilogue);
      return;
    case GemmPath::avx512:
      gemm_avx512(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, epilogue);
      return;
#else
    case GemmPath::avx2:
    case GemmPath::avx512:
      return;  // unreachable: gemm_with_path's path_supported() refused them
#endif
  }
}

// ---------------------------------------------------------------------------
// Cutting a product over a team (kernels/thread_pool.h)
//
// A shard's thread that leads a team of helpers cuts a big product into
// blocks of C: whole strips of kPanelColumns columns, or tiles of kCutRows
// rows, never the inner dimension K. Each element of C is
// then summed exactly as in the uncut product: the kernels' order depends
// only on the form, N and K (gemm_tiles.h), and a block at least one strip
// wide is never narrower than a vector, so it takes the same kernel as the
// whole. Cut along M, each part reads only its rows of op(A) and all of
// op(B) (the weights, which each core keeps in its own cache); cut along N,
// each part reads all of op(A), where a layer's input is the output that
// the team's members have just written, in part on the other core. On the
// Xeon host one shard on two threads trained 1.05 times as fast cut by rows
// as by columns (docs/performance.md, "Threads beyond the shards").
//
// A weight gradient dW += X^T dY (trans_a yes, trans_b no) is the other way
// round: there op(B) is dY, which the members have just written, and op(A)
// the layer's input. Cut by rows, every part would read all of dY, and a
// part of fewer than kPackMinRows rows walks dY in place instead of copying
// its panels first (gemm_kernels.h): the LSTM core's dz [T * B, 1024] at
// 82 GFLOP/s instead of 135 on Zen 4. So it is cut into strips first, each
// part copying and reading only its own strips of dY, and then into blocks
// of at least kPackMinRows rows.

// The least work worth a part of its own: about 4 us of one core at the
// kernels' speed (58 G multiply-adds/s), against about 1 us of hand-off.
constexpr double kMacsPerPart = 256.0 * 1024;
constexpr int kCutRows = 4;  // the broadcast tiles' rows
// Parts per member of the team, at most. Members take parts as they come,
// so with several each, a member that starts late (a helper still waking)
// or runs slow leaves a small part, not half the product, for the others
// to wait on: with one part per member, the leader of a team of two spent
// 12 % of a training step waiting for its helper's half.
constexpr int kPartsPerMember = 4;

// Parts of at least kMacsPerPart, at most kPartsPerMember per member, and
// at most `units` (strips or tiles); 1 when not worth cutting.
int parts_for_team(double macs, int members, int units) {
  if (members < 2) return 1;
  const double parts = std::min({static_cast<double>(members) * kPartsPerMember, macs / kMacsPerPart,
                                 static_cast<double>(units)});
  return parts < 2 ? 1 : static_cast<int>(parts);
}

// A cut of C [M, N] into column blocks of whole strips (the last taking
// the columns past the last whole strip) times row blocks of whole tiles.
struct Cut {
  int column_parts = 1, row_parts = 1;
  int strips = 0, tiles = 0, M = 0, N = 0;
  int parts() const { return column_parts * row_parts; }
  // Column block c is [column(c), column(c + 1)), row block r [row(r), row(r + 1)).
  int column(int c) const { return c == column_parts ? N : strips * c / column_parts * kPanelColumns; }
  int row(int r) const { return r == row_parts ? M : tiles * r / row_parts * kCutRows; }
};

// Row blocks, up to parts_for_team parts; column blocks only when C has
// fewer than two tiles of rows. A weight gradient (`gradient`): column
// blocks, then rows in blocks of at least kPackMinRows.
Cut cut_for_team(int M, int N, int K, int members, bool gradient) {
  Cut cut;
  cut.M = M;
  cut.N = N;
  cut.strips = N / kPanelColumns;
  cut.tiles = (M + kCutRows - 1) / kCutRows;
  const double macs = static_cast<double>(M) * N * K;
  if (gradient && cut.strips >= 2) {
    const int row_blocks = std::max(1, M / kPackMinRows);
    const int parts = parts_for_team(macs, members, cut.strips * row_blocks);
    if (parts < 2) return cut;
    cut.column_parts = std::min(parts, cut.strips);
    cut.row_parts = std::min(parts / cut.column_parts, row_blocks);
    return cut;
  }
  const bool columns = cut.strips >= 2 && cut.tiles < 2;
  const int parts = parts_for_team(macs, members, (columns ? cut.strips : 1) * cut.tiles);
  if (parts < 2) return cut;
  cut.column_parts = columns ? std::min(parts, cut.strips) : 1;
  cut.row_parts = std::min(parts / cut.column_parts, cut.tiles);
  return cut;
}

// The product cut for this thread's team, if it leads one: block(i0, rows,
// j0, columns) for each part of C, on the team's members; or the whole of C
// on this thread.
template <class Block>
void run_cut(int M, int N, int K, bool gradient, Block&& block) {
  Team* const team = Team::this_thread_team();
  const Cut cut = team ? cut_for_team(M, N, K, team->members(), gradient) : Cut{};
  if (cut.parts() == 1) {
    block(0, M, 0, N);
    return;
  }
  team->run(cut.parts(), [&](int part) {
    const int c = part % cut.column_parts, r = part / cut.column_parts;
    const std::ptrdiff_t j0 = cut.column(c), i0 = cut.row(r);
    block(i0, cut.row(r + 1) - i0, j0, cut.column(c + 1) - j0);
  });
}

}  // namespace

void gemm_with_path(GemmPath path, Trans trans_a, Trans trans_b, int M, int N, int K,
                    const float* A, int lda, const float* B, int ldb, float* C, int ldc,
                    const GemmStore<float>& store) {
  if (!path_supported(path))
    throw std::invalid_argument(std::string("gemm_with_path: this CPU or build cannot run path ") +
                                gemm_path_name(path));
  check_arguments(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
  check_store(store);
  if (M == 0 || N == 0) return;
  const Epilogue epilogue{store.accumulate ? C : store.bias, store.accumulate ? ldc : 0, store.relu};
  if (K == 0) {  // an empty sum: C is the epilogue of 0
    for (std::ptrdiff_t i = 0; i < M; ++i)
      for (std::ptrdiff_t j = 0; j < N; ++j) {
        const float x = epilogue.add ? epilogue.add[i * epilogue.ld_add + j] : 0.0f;
        C[i * ldc + j] = epilogue.relu && x < 0 ? 0.0f : x;
      }
    return;
  }
  const bool gradient = trans_a == Trans::yes && trans_b == Trans::no;
  run_cut(M, N, K, gradient, [&](std::ptrdiff_t i0, std::ptrdiff_t rows, std::ptrdiff_t j0, std::ptrdiff_t columns) {
    Epilogue block = epilogue;  // the part's block of C, and of what the epilogue adds
    if (block.add) block.add += i0 * block.ld_add + j0;
    // Rows of op(A) are rows of A, or columns of A^T; columns of op(B) are
    // columns of B, or rows of B^T.
    multiply_on_path(path, trans_a, trans_b, rows, columns, K, trans_a == Trans::no ? A + i0 * lda : A + i0, lda,
                     trans_b == Trans::no ? B + j0 : B + j0 * ldb, ldb, C + i0 * ldc + j0, ldc, block);
  });
}

namespace {

// gemm_step_gradients on one path, arguments validated and M, N, K and
// steps.count all at least 1. The scalar path runs the steps as calls of
// its own.
void step_gradients_on_path(GemmPath path, int M, int N, int K, const float* A, int lda, const float* B, int ldb,
                            float* C, int ldc, const Blocks& steps) {
  switch (path) {
    case GemmPath::scalar:
      for (int s = 0; s < steps.count; ++s)
        gemm_scalar(Trans::yes, Trans::no, M, N, K, A + s * steps.step_a, lda, B + s * steps.step_b, ldb, C, ldc,
                    Epilogue{C, ldc, false});
      return;
#ifdef RAM_X86_KERNELS
    case GemmPath::avx2:
      gemm_steps_avx2(M, N, K, A, lda, B, ldb, C, ldc, steps);
      return;
    case GemmPath::avx512:
      gemm_steps_avx512(M, N, K, A, lda, B, ldb, C, ldc, steps);
      return;
#else
    case GemmPath::avx2:
    case GemmPath::avx512:
      return;  // unreachable: gemm_step_gradients_with_path refused them
#endif
  }
}

void check_steps(int steps) {
  if (steps < 0) throw std::invalid_argument("gemm_step_gradients: negative step count " + std::to_string(steps));
}

}  // namespace

void gemm_step_gradients_with_path(GemmPath path, int M, int N, int K, int steps, const float* A, int lda,
                                   std::ptrdiff_t step_a, const float* B, int ldb, std::ptrdiff_t step_b, float* C,
                                   int ldc) {
  if (!path_supported(path))
    throw std::invalid_argument(std::string("gemm_step_gradients_with_path: this CPU or build cannot run path ") +
                                gemm_path_name(path));
  check_arguments(Trans::yes, Trans::no, M, N, K, A, lda, B, ldb, C, ldc);
  check_steps(steps);
  if (M == 0 || N == 0 || K == 0 || steps == 0) return;  // C += nothing
  const Blocks blocks{steps, step_a, step_b};
  // A team cuts C as for one step's gradient, with the work of all the steps.
  run_cut(M, N, K * steps, true, [&](std::ptrdiff_t i0, std::ptrdiff_t rows, std::ptrdiff_t j0, std::ptrdiff_t columns) {
    step_gradients_on_path(path, rows, columns, K, A + i0, lda, B + j0, ldb, C + i0 * ldc + j0, ldc, blocks);
  });
}

void gemm_step_gradients(int M, int N, int K, int steps, const float* A, int lda, std::ptrdiff_t step_a,
                         const float* B, int ldb, std::ptrdiff_t step_b, float* C, int ldc) {
  gemm_step_gradients_with_path(gemm_active_path(), M, N, K, steps, A, lda, step_a, B, ldb, step_b, C, ldc);
}

// The double product has no kernel to keep C in cache: the steps are calls.
void gemm_step_gradients(int M, int N, int K, int steps, const double* A, int lda, std::ptrdiff_t step_a,
                         const double* B, int ldb, std::ptrdiff_t step_b, double* C, int ldc) {
  check_steps(steps);
  for (int s = 0; s < steps; ++s)
    gemm(Trans::yes, Trans::no, M, N, K, A + s * step_a, lda, B + s * step_b, ldb, C, ldc, true);
}

void gemm_with_path(GemmPath path, Trans trans_a, Trans trans_b, int M, int N, int K,
                    const float* A, int lda, const float* B, int ldb, float* C, int ldc,
                    bool accumulate) {
  gemm_with_path(path, trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, GemmStore<float>{accumulate});
}

void gemm(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
          const float* B, int ldb, float* C, int ldc, bool accumulate) {
  gemm_with_path(gemm_active_path(), trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

void gemm(Trans trans_a, Trans trans_b, int M, int N, int K, const float* A, int lda,
          const float* B, int ldb, float* C, int ldc, const GemmStore<float>& store) {
  gemm_with_path(gemm_active_path(), trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, store);
}

void gemm(Trans trans_a, Trans trans_b, int M, int N, int K, const double* A, int lda,
          const double* B, int ldb, double* C, int ldc, bool accumulate) {
  check_arguments(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
  gemm_reference(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

// The double product is the reference, with the store's steps as the
// definition states them: the bias copied into C, the product accumulated,
// then std::max(x, 0).
void gemm(Trans trans_a, Trans trans_b, int M, int N, int K, const double* A, int lda,
          const double* B, int ldb, double* C, int ldc, const GemmStore<double>& store) {
  check_arguments(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
  check_store(store);
  if (store.bias)
    for (std::ptrdiff_t i = 0; i < M; ++i) std::copy(store.bias, store.bias + N, C + i * ldc);
  gemm_reference(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, store.accumulate || store.bias);
  if (store.relu)
    for (std::ptrdiff_t i = 0; i < M; ++i)
      for (std::ptrdiff_t j = 0; j < N; ++j) C[i * ldc + j] = std::max(C[i * ldc + j], 0.0);
}

namespace {
template <class T>
void transpose_loop(int rows, int columns, const T* S, int lds, T* P, int ldp) {
  // Blocks of 16 x 16, so that the rows of S and of P both stay in cache.
  for (int r0 = 0; r0 < rows; r0 += 16)
    for (int c0 = 0; c0 < columns; c0 += 16)
      for (int r = r0; r < std::min(r0 + 16, rows); ++r)
        for (int c = c0; c < std::min(c0 + 16, columns); ++c)
          P[static_cast<std::ptrdiff_t>(c) * ldp + r] = S[static_cast<std::ptrdiff_t>(r) * lds + c];
}
}  // namespace

void matrix_transpose(int rows, int columns, const float* S, int lds, float* P, int ldp) {
#ifdef RAM_X86_KERNELS
  if (gemm_active_path() != GemmPath::scalar) {
    transpose_avx2(rows, columns, S, lds, P, ldp);
    return;
  }
#endif
  transpose_loop(rows, columns, S, lds, P, ldp);
}

void matrix_transpose(int rows, int columns, const double* S, int lds, double* P, int ldp) {
  transpose_loop(rows, columns, S, lds, P, ldp);
}

// ---------------------------------------------------------------------------
// Column panels

namespace {

template <class T>
void pack_panels(Trans trans, int K, int N, const T* B, int ldb, T* panels) {
  if (K < 0 || N < 0) throw std::invalid_argument("pack_column_panels: negative size");
  if (ldb < (trans == Trans::no ? N : K))
    throw std::invalid_argument("pack_column_panels: ldb=" + std::to_string(ldb) +
                                " is shorter than a row of B");
  if (trans == Trans::no) {
    // Row k of B is cut into the strips' rows k. Along B's rows, not down
    // each strip: B is read once, front to back, and every copy but the last
    // strip's is one fixed size, which the compiler turns into vector moves
    // (down the strips, each row a 4 KB jump at 1024 columns and a library
    // call, it was the slower by far: docs/performance.md#what-was-cut).
    const int full = N / kPanelColumns * kPanelColumns, w_last = N - full;
    for (int k = 0; k < K; ++k) {
      const T* row = B + static_cast<std::ptrdiff_t>(k) * ldb;
      for (int j0 = 0; j0 < full; j0 += kPanelColumns)
        std::memcpy(panels + static_cast<std::ptrdiff_t>(j0) * K + static_cast<std::ptrdiff_t>(k) * kPanelColumns,
                    row + j0, sizeof(T) * kPanelColumns);
      if (w_last > 0)
        std::memcpy(panels + static_cast<std::ptrdiff_t>(full) * K + static_cast<std::ptrdiff_t>(k) * w_last,
                    row + full, sizeof(T) * w_last);
    }
    return;
  }
  for (int j0 = 0; j0 < N; j0 += kPanelColumns) {  // B^T's columns j0 .. j0 + w are B's rows j0 .. j0 + w
    const int w = std::min(kPanelColumns, N - j0);
    matrix_transpose(w, K, B + static_cast<std::ptrdiff_t>(j0) * ldb, ldb, panels + static_cast<std::ptrdiff_t>(j0) * K, w);
  }
}

void check_panel_arguments(int N, int ldc) {
  if (N < 0) throw std::invalid_argument("gemm_panels: negative size N=" + std::to_string(N));
  if (ldc < N)
    throw std::invalid_argument("gemm_panels: ldc=" + std::to_string(ldc) +
                                " is shorter than a row of C (" + std::to_string(N) + " elements)");
}

// Strips [first, end) of the product, each a gemm of its own.
template <class T>
void multiply_panels(int M, int N, int K, const T* A, int lda, const T* panels, T* C, int ldc,
                     const GemmStore<T>& store, int first, int end) {
  for (int strip = first; strip < end; ++strip) {
    const int j0 = strip * kPanelColumns, w = std::min(kPanelColumns, N - j0);
    GemmStore<T> strip_store = store;
    if (strip_store.bias) strip_store.bias += j0;
    gemm(Trans::no, Trans::no, M, w, K, A, lda, panels + static_cast<std::ptrdiff_t>(j0) * K, w,
         C + j0, ldc, strip_store);
  }
}

int strips_of(int N) { return (N + kPanelColumns - 1) / kPanelColumns; }

}  // namespace

void pack_column_panels(Trans trans, int K, int N, const float* B, int ldb, float* panels) {
  pack_panels(trans, K, N, B, ldb, panels);
}
void pack_column_panels(Trans trans, int K, int N, const double* B, int ldb, double* panels) {
  pack_panels(trans, K, N, B, ldb, panels);
}
// A leader of a team (thread_pool.h) cuts C as gemm_with_path does
// (cut_for_team), a column block taking whole strips; each strip of a block
// is the same gemm as uncut.
void gemm_panels(int M, int N, int K, const float* A, int lda, const float* panels, float* C,
                 int ldc, const GemmStore<float>& store) {
  check_panel_arguments(N, ldc);
  const int strips = strips_of(N);
  Team* const team = Team::this_thread_team();
  const Cut cut = team ? cut_for_team(M, N, K, team->members(), false) : Cut{};
  if (cut.parts() == 1) {
    multiply_panels(M, N, K, A, lda, panels, C, ldc, store, 0, strips);
    return;
  }
  team->run(cut.parts(), [&](int part) {
    const int c = part % cut.column_parts, r = part / cut.column_parts;
    const int i0 = cut.row(r), first = cut.column(c) / kPanelColumns;
    const int end = c + 1 == cut.column_parts ? strips : cut.column(c + 1) / kPanelColumns;
    multiply_panels(cut.row(r + 1) - i0, N, K, A + static_cast<std::ptrdiff_t>(i0) * lda, lda, panels,
                    C + static_cast<std::ptrdiff_t>(i0) * ldc, ldc, store, first, end);
  });
}
void gemm_panels(int M, int N, int K, const double* A, int lda, const double* panels, double* C,
                 int ldc, const GemmStore<double>& store) {
  check_panel_arguments(N, ldc);
  multiply_panels(M, N, K, A, lda, panels, C, ldc, store, 0, strips_of(N));
}
void gemm_panels(int M, int N, int K, const float* A, int lda, const float* panels, float* C,
                 int ldc, bool accumulate) {
  gemm_panels(M, N, K, A, lda, panels, C, ldc, GemmStore<float>{accumulate});
}
void gemm_panels(int M, int N, int K, const double* A, int lda, const double* panels, double* C,
                 int ldc, bool accumulate) {
  gemm_panels(M, N, K, A, lda, panels, C, ldc, GemmStore<double>{accumulate});
}
