// test_gemm.cpp: every float GEMM path against the naive reference, in double.
//
// Each product is run on awkward sizes (1, 3, 17, 64, 255, 257: edges of every
// register tile and vector), in all four transpose forms, with and without
// accumulation, with padded leading dimensions, and compared with
// gemm_reference evaluated in double on the same float inputs. The padding of
// A and B holds NaN and C starts as NaN when not accumulating, so a kernel that
// reads a byte it should not poisons its result; the padding of C holds a
// sentinel that must survive.
#include <doctest/doctest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/thread_pool.h"

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kSentinel = 1234.5f;  // in the padding of C, never a product of the inputs here

const char* trans_name(Trans t) { return t == Trans::no ? "no" : "yes"; }

// The operands of one product, stored row-major with the given padding after
// each row. A is [M, K] or, transposed, [K, M]; B is [K, N] or [N, K].
struct Product {
  Trans trans_a, trans_b;
  int M, N, K;
  bool accumulate;
  int lda, ldb, ldc;
  std::vector<float> A, B, C;

  Product(Trans trans_a_, Trans trans_b_, int M_, int N_, int K_, bool accumulate_, int pad,
          std::mt19937& rng)
      : trans_a(trans_a_), trans_b(trans_b_), M(M_), N(N_), K(K_), accumulate(accumulate_) {
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    const int a_rows = trans_a == Trans::no ? M : K, a_columns = trans_a == Trans::no ? K : M;
    const int b_rows = trans_b == Trans::no ? K : N, b_columns = trans_b == Trans::no ? N : K;
    // Different padding for each operand, so a kernel mixing up ld's fails.
    lda = a_columns + pad;
    ldb = b_columns + 2 * pad;
    ldc = N + 3 * pad;
    A = filled(a_rows, a_columns, lda, uniform, rng, kNaN);
    B = filled(b_rows, b_columns, ldb, uniform, rng, kNaN);
    C = filled(M, N, ldc, uniform, rng, kSentinel);
    if (!accumulate)  // the old C must be ignored
      for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) C[i * ldc + j] = kNaN;
  }

  template <class Uniform>
  static std::vector<float> filled(int rows, int columns, int ld, Uniform& uniform,
                                   std::mt19937& rng, float padding) {
    std::vector<float> values(static_cast<std::size_t>(rows) * ld, padding);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < columns; ++c) values[r * ld + c] = uniform(rng);
    return values;
  }

  void run(GemmPath path, std::vector<float>& C_out) const {
    C_out = C;
    gemm_with_path(path, trans_a, trans_b, M, N, K, A.data(), lda, B.data(), ldb, C_out.data(), ldc,
                   accumulate);
  }

  // gemm_reference in double on the same values, and for each element the
  // scale of its rounding error: sum_k |a||b|, plus |C| when accumulating.
  void reference(std::vector<double>& C_exact, std::vector<double>& scale) const {
    std::vector<double> A_double(A.begin(), A.end()), B_double(B.begin(), B.end());
    C_exact.assign(C.begin(), C.end());
    gemm_reference(trans_a, trans_b, M, N, K, A_double.data(), lda, B_double.data(), ldb,
                   C_exact.data(), ldc, accumulate);
    for (double& x : A_double) x = std::fabs(x);
    for (double& x : B_double) x = std::fabs(x);
    scale.assign(C.size(), 0.0);
    for (std::size_t i = 0; i < C.size(); ++i)
      if (accumulate) scale[i] = std::fabs(C[i]);
    gemm_reference(trans_a, trans_b, M, N, K, A_double.data(), lda, B_double.data(), ldb,
                   scale.data(), ldc, true);
  }
};

// Checks one path's result against the reference: the worst element of the
// product, then the padding of C. A float dot product of length K is within
// about K * 2^-24 * sum|a||b| of the exact one, whatever its order of
// summation, plus one rounding when added to C; (K + 2) * FLT_EPSILON (2^-23)
// leaves a factor 2. A wrong or missing term is of the order of sum|a||b| / K,
// far above it.
void check_against_reference(const Product& p, const std::vector<float>& C_out,
                             const std::vector<double>& C_exact, const std::vector<double>& scale) {
  const double tolerance = (p.K + 2) * static_cast<double>(FLT_EPSILON);
  double worst_ratio = 0;  // error / allowed error; infinite for NaN or Inf
  int worst_i = -1, worst_j = -1;
  for (int i = 0; i < p.M; ++i)
    for (int j = 0; j < p.N; ++j) {
      const std::size_t at = static_cast<std::size_t>(i) * p.ldc + j;
      const double error = std::fabs(C_out[at] - C_exact[at]);
      const double ratio = !std::isfinite(C_out[at]) ? std::numeric_limits<double>::infinity()
                           : error == 0              ? 0
                                                     : error / (tolerance * scale[at]);
      if (ratio > worst_ratio) worst_ratio = ratio, worst_i = i, worst_j = j;
    }
  if (worst_i >= 0) {
    const std::size_t at = static_cast<std::size_t>(worst_i) * p.ldc + worst_j;
    const double got = C_out[at], expected = C_exact[at], allowed_error = tolerance * scale[at];
    CAPTURE(worst_i);
    CAPTURE(worst_j);
    CAPTURE(got);
    CAPTURE(expected);
    CAPTURE(allowed_error);
    CHECK(worst_ratio <= 1);
  }
  int padding_changed = 0;
  for (int i = 0; i < p.M; ++i)
    for (int j = p.N; j < p.ldc; ++j)
      padding_changed += C_out[static_cast<std::size_t>(i) * p.ldc + j] != kSentinel;
  CHECK(padding_changed == 0);
}

// Every available path on one product, each compared with the same reference.
void check_every_path(const Product& p) {
  std::vector<double> C_exact, scale;
  p.reference(C_exact, scale);
  std::vector<float> C_out;
  for (GemmPath path : gemm_paths_available()) {
    const std::string path_name = gemm_path_name(path);
    CAPTURE(path_name);
    p.run(path, C_out);
    check_against_reference(p, C_out, C_exact, scale);
  }
}

const Trans kForms[][2] = {{Trans::no, Trans::no},
                           {Trans::no, Trans::yes},
                           {Trans::yes, Trans::no},
                           {Trans::yes, Trans::yes}};

bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() &&
         (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
}

// What a failing check names: the path, and the product's form and size.
std::string product_case(GemmPath path, const Product& p) {
  return std::string("path ") + gemm_path_name(path) + ", op(A) " + trans_name(p.trans_a) + ", op(B) " +
         trans_name(p.trans_b) + ", M x N x K = " + std::to_string(p.M) + " x " + std::to_string(p.N) + " x " +
         std::to_string(p.K);
}

}  // namespace

TEST_CASE("gemm: the scalar path is always available, listed first") {
  const std::vector<GemmPath> paths = gemm_paths_available();
  REQUIRE(!paths.empty());
  CHECK(paths.front() == GemmPath::scalar);
  CHECK(std::string(gemm_path_name(GemmPath::scalar)) == "scalar");
  CHECK(std::string(gemm_path_name(GemmPath::avx2)) == "avx2");
  CHECK(std::string(gemm_path_name(GemmPath::avx512)) == "avx512");
  bool active_available = false;
  for (GemmPath path : paths) active_available |= path == gemm_active_path();
  CHECK(active_available);
  std::string message = "GEMM paths available:";
  for (GemmPath path : paths) message += std::string(" ") + gemm_path_name(path);
  message += std::string("; active: ") + gemm_path_name(gemm_active_path());
  MESSAGE(message);
}

TEST_CASE("gemm: every path matches the reference on awkward sizes") {
  // Every combination of the small sizes, then each large one against small
  // ones in every position, then a few products large in two or three.
  struct Size {
    int M, N, K;
  };
  std::vector<Size> sizes;
  const int small[] = {1, 3, 17, 64};
  for (int M : small)
    for (int N : small)
      for (int K : small) sizes.push_back({M, N, K});
  for (int large : {255, 257})
    for (int other : {1, 17}) {
      sizes.push_back({large, other, other + 2});
      sizes.push_back({other + 2, large, other});
      sizes.push_back({other, other + 2, large});
    }
  sizes.push_back({255, 257, 64});
  sizes.push_back({64, 255, 257});
  sizes.push_back({257, 3, 255});
  sizes.push_back({257, 255, 257});

  std::mt19937 rng(20240611);
  int case_index = 0;
  for (const Size& s : sizes)
    for (const auto& form : kForms)
      for (bool accumulate : {false, true}) {
        const int pad = (case_index++ % 3) * 3;  // 0, 3 or 6 spare elements per row
        const Product p(form[0], form[1], s.M, s.N, s.K, accumulate, pad, rng);
        const char* trans_a = trans_name(p.trans_a);
        const char* trans_b = trans_name(p.trans_b);
        CAPTURE(s.M);
        CAPTURE(s.N);
        CAPTURE(s.K);
        CAPTURE(trans_a);
        CAPTURE(trans_b);
        CAPTURE(accumulate);
        CAPTURE(pad);
        check_every_path(p);
      }
}

TEST_CASE("gemm: every path matches the reference on the model's products") {
  // Each layer y = x W (W [in, out]) runs Y = X W, dX = dY W^T, dW += X^T dY.
  const int layers[][2] = {{64, 128}, {2, 128}, {256, 256}, {256, 2}, {256, 10}, {256, 1}};
  std::mt19937 rng(7);
  for (int batch : {10, 37, 128})
    for (const auto& layer : layers) {
      const int in = layer[0], out = layer[1];
      CAPTURE(batch);
      CAPTURE(in);
      CAPTURE(out);
      check_every_path(Product(Trans::no, Trans::no, batch, out, in, false, 0, rng));
      check_every_path(Product(Trans::no, Trans::yes, batch, in, out, false, 0, rng));
      check_every_path(Product(Trans::yes, Trans::no, in, out, batch, true, 0, rng));
    }
}

TEST_CASE("gemm: empty sizes") {
  std::mt19937 rng(3);
  for (GemmPath path : gemm_paths_available()) {
    const std::string path_name = gemm_path_name(path);
    CAPTURE(path_name);
    for (const auto& form : kForms) {
      // K = 0: an empty sum, so C keeps its values or becomes 0.
      Product keep(form[0], form[1], 5, 7, 0, true, 2, rng);
      std::vector<float> C_out;
      keep.run(path, C_out);
      CHECK(same_bits(C_out, keep.C));
      Product zero(form[0], form[1], 5, 7, 0, false, 2, rng);
      zero.run(path, C_out);
      for (int i = 0; i < 5; ++i)
        for (int j = 0; j < zero.ldc; ++j)
          CHECK(C_out[i * zero.ldc + j] == (j < 7 ? 0.0f : kSentinel));
      // M = 0 or N = 0: nothing to write.
      for (Product empty : {Product(form[0], form[1], 0, 7, 4, false, 1, rng),
                            Product(form[0], form[1], 5, 0, 4, false, 1, rng)}) {
        empty.run(path, C_out);
        CHECK(same_bits(C_out, empty.C));
      }
    }
  }
}

TEST_CASE("gemm: results depend only on the inputs") {
  // A row of C must have the same bits whether it is computed alone or within
  // a batch, and wherever the operands sit in memory: the model's results
  // must not depend on how a batch is split over threads.
  std::mt19937 rng(11);
  for (GemmPath path : gemm_paths_available())
    for (const auto& form : kForms)
      for (int N : {3, 10, 64, 100}) {
        const int M = 23, K = 70;
        const Product batch(form[0], form[1], M, N, K, true, 1, rng);
        INFO(product_case(path, batch));
        std::vector<float> C_batch, C_again;
        batch.run(path, C_batch);
        batch.run(path, C_again);
        CHECK(same_bits(C_batch, C_again));

        // Row by row: row i of C from row i of op(A), a row of A or a column.
        int rows_differing = 0;
        for (int i = 0; i < M; ++i) {
          const float* A_i = batch.A.data() + (form[0] == Trans::no ? i * batch.lda : i);
          std::vector<float> C_i(batch.C.begin() + i * batch.ldc,
                                 batch.C.begin() + (i + 1) * batch.ldc);
          gemm_with_path(path, form[0], form[1], 1, N, K, A_i, batch.lda, batch.B.data(), batch.ldb,
                         C_i.data(), batch.ldc, true);
          rows_differing +=
              std::memcmp(C_i.data(), C_batch.data() + i * batch.ldc, N * sizeof(float)) != 0;
        }
        CHECK(rows_differing == 0);

        // The same operands one float further into memory.
        Product shifted = batch;
        shifted.A.insert(shifted.A.begin(), 0.0f);
        shifted.B.insert(shifted.B.begin(), 0.0f);
        shifted.C.insert(shifted.C.begin(), 0.0f);
        gemm_with_path(path, form[0], form[1], M, N, K, shifted.A.data() + 1, shifted.lda,
                       shifted.B.data() + 1, shifted.ldb, shifted.C.data() + 1, shifted.ldc, true);
        CHECK(std::memcmp(shifted.C.data() + 1, C_batch.data(), C_batch.size() * sizeof(float)) ==
              0);
      }
}

TEST_CASE("gemm: gemm() runs the active path") {
  std::mt19937 rng(5);
  const Product p(Trans::no, Trans::yes, 9, 33, 20, true, 1, rng);
  std::vector<float> C_active, C_gemm = p.C;
  p.run(gemm_active_path(), C_active);
  gemm(p.trans_a, p.trans_b, p.M, p.N, p.K, p.A.data(), p.lda, p.B.data(), p.ldb, C_gemm.data(),
       p.ldc, p.accumulate);
  CHECK(same_bits(C_active, C_gemm));
}

TEST_CASE("gemm: the double product is exactly the reference") {
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (const auto& form : kForms)
    for (bool accumulate : {false, true}) {
      const int M = 17, N = 9, K = 33, pad = 2;
      const int lda = (form[0] == Trans::no ? K : M) + pad,
                ldb = (form[1] == Trans::no ? N : K) + pad;
      const int ldc = N + pad;
      std::vector<double> A((form[0] == Trans::no ? M : K) * lda),
          B((form[1] == Trans::no ? K : N) * ldb);
      std::vector<double> C(M * ldc);
      for (double& x : A) x = uniform(rng);
      for (double& x : B) x = uniform(rng);
      for (double& x : C) x = uniform(rng);
      std::vector<double> C_expected = C;
      gemm(form[0], form[1], M, N, K, A.data(), lda, B.data(), ldb, C.data(), ldc, accumulate);
      gemm_reference(form[0], form[1], M, N, K, A.data(), lda, B.data(), ldb, C_expected.data(),
                     ldc, accumulate);
      CHECK(std::memcmp(C.data(), C_expected.data(), C.size() * sizeof(double)) == 0);
    }
}

TEST_CASE("gemm: invalid arguments throw std::invalid_argument") {
  std::vector<float> A(64), B(64), C(64);
  const float* a = A.data();
  const float* b = B.data();
  float* c = C.data();
  CHECK_THROWS_AS(gemm(Trans::no, Trans::no, -1, 2, 2, a, 2, b, 2, c, 2, false),
                  std::invalid_argument);
  CHECK_THROWS_AS(gemm(Trans::no, Trans::no, 2, 2, -3, a, 2, b, 2, c, 2, false),
                  std::invalid_argument);
  // lda must cover a stored row of A: K wide as is, M wide transposed.
  CHECK_THROWS_AS(gemm(Trans::no, Trans::no, 2, 3, 4, a, 3, b, 3, c, 3, false),
                  std::invalid_argument);
  CHECK_THROWS_AS(gemm(Trans::yes, Trans::no, 5, 3, 2, a, 4, b, 3, c, 3, false),
                  std::invalid_argument);
  CHECK_NOTHROW(gemm(Trans::yes, Trans::no, 5, 3, 2, a, 5, b, 3, c, 3, false));
  // ldb: N wide as is, K wide transposed; ldc: N wide.
  CHECK_THROWS_AS(gemm(Trans::no, Trans::no, 2, 3, 4, a, 4, b, 2, c, 3, false),
                  std::invalid_argument);
  CHECK_THROWS_AS(gemm(Trans::no, Trans::yes, 2, 3, 4, a, 4, b, 3, c, 3, false),
                  std::invalid_argument);
  CHECK_THROWS_AS(gemm(Trans::no, Trans::no, 2, 3, 4, a, 4, b, 3, c, 2, false),
                  std::invalid_argument);
  CHECK_THROWS_AS(gemm(Trans::no, Trans::no, 2, 3, 4, a, 4, b, 3, nullptr, 3, false),
                  std::invalid_argument);
  CHECK_THROWS_AS(gemm(Trans::no, Trans::no, 2, 3, 4, nullptr, 4, b, 3, c, 3, false),
                  std::invalid_argument);
  const std::vector<double> A_double(8), B_double(8);
  std::vector<double> C_double(8);
  CHECK_THROWS_AS(gemm(Trans::no, Trans::no, 2, 2, 2, A_double.data(), 1, B_double.data(), 2,
                       C_double.data(), 2, false),
                  std::invalid_argument);
  CHECK_THROWS_AS(gemm_with_path(static_cast<GemmPath>(42), Trans::no, Trans::no, 2, 2, 2, a, 2, b,
                                 2, c, 2, false),
                  std::invalid_argument);
}

TEST_CASE("matrix_transpose: P = S^T exactly, on awkward sizes and strides") {
  for (int rows : {1, 3, 8, 17, 255}) {
    for (int columns : {1, 7, 16, 33, 257}) {
      CAPTURE(rows);
      CAPTURE(columns);
      const int lds = columns + 3, ldp = rows + 5;
      std::vector<float> S(static_cast<std::size_t>(rows) * lds), P(static_cast<std::size_t>(columns) * ldp, -1.0f);
      for (std::size_t i = 0; i < S.size(); ++i) S[i] = static_cast<float>(i % 1013) * 0.5f;
      matrix_transpose(rows, columns, S.data(), lds, P.data(), ldp);
      int wrong = 0;
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < columns; ++c) wrong += P[static_cast<std::size_t>(c) * ldp + r] != S[static_cast<std::size_t>(r) * lds + c];
      CHECK(wrong == 0);
      // The padding of each row of P is left alone.
      CHECK(P[static_cast<std::size_t>(rows)] == -1.0f);
    }
  }
}

TEST_CASE("gemm_panels: op(B) in column panels gives the reference product, and gemm's bits") {
  std::mt19937 rng(11);
  int compared_bits = 0;
  for (Trans trans_b : {Trans::no, Trans::yes})
    for (int N : {1, 17, 64, 65, 130, 257})
      for (int K : {1, 3, 64, 255})
        for (int M : {1, 5, 64})
          for (bool accumulate : {false, true}) {
            const std::string trans_b_name = trans_name(trans_b);
            CAPTURE(trans_b_name);
            CAPTURE(N);
            CAPTURE(K);
            CAPTURE(M);
            CAPTURE(accumulate);
            const Product p(Trans::no, trans_b, M, N, K, accumulate, 3, rng);
            // The copy is exactly K * N long: the NaNs after it must not be read
            // and must survive.
            std::vector<float> panels(static_cast<std::size_t>(K) * N + 16, kNaN);
            pack_column_panels(trans_b, K, N, p.B.data(), p.ldb, panels.data());
            int tail_written = 0;
            for (std::size_t i = static_cast<std::size_t>(K) * N; i < panels.size(); ++i)
              tail_written += !std::isnan(panels[i]);
            CHECK(tail_written == 0);
            std::vector<float> C_panels = p.C;
            gemm_panels(M, N, K, p.A.data(), p.lda, panels.data(), C_panels.data(), p.ldc, accumulate);
            std::vector<double> C_exact, scale;
            p.reference(C_exact, scale);
            check_against_reference(p, C_panels, C_exact, scale);
            // Strips at least a vector wide run the tiles gemm(no, no) would on
            // op(B) stored plainly: the same bits.
            if (N % kPanelColumns == 0 || N % kPanelColumns >= 16) {
              std::vector<float> op_B(static_cast<std::size_t>(K) * N);
              for (int k = 0; k < K; ++k)
                for (int j = 0; j < N; ++j)
                  op_B[static_cast<std::size_t>(k) * N + j] =
                      trans_b == Trans::no ? p.B[static_cast<std::size_t>(k) * p.ldb + j] : p.B[static_cast<std::size_t>(j) * p.ldb + k];
              std::vector<float> C_plain = p.C;
              gemm(Trans::no, Trans::no, M, N, K, p.A.data(), p.lda, op_B.data(), N, C_plain.data(), p.ldc, accumulate);
              CHECK(same_bits(C_plain, C_panels));
              ++compared_bits;
            }
          }
  CHECK(compared_bits > 0);
  std::vector<float> panels(4 * 8), A(2 * 4), C(2 * 8);
  CHECK_THROWS_AS(gemm_panels(2, 8, 4, A.data(), 4, panels.data(), C.data(), 7, false), std::invalid_argument);
  CHECK_THROWS_AS(pack_column_panels(Trans::no, 4, 8, panels.data(), 7, panels.data()), std::invalid_argument);
}

TEST_CASE("gemm: a product cut over a team has the bits of the uncut product") {
  // Inside ThreadPool::run_teams a task's products are cut into blocks of C,
  // whole strips of 64 columns or tiles of rows, over its team. Sizes with a
  // partial last strip (200, 257, 1000), a narrow N (10), few rows (5) and
  // few columns with many rows (70); each product is big enough to be cut.
  // A weight gradient (the form yes, no) of 260 rows is cut into strips and
  // into two blocks of rows, each of which copies its strips of B first.
  const int sizes[][3] = {{130, 200, 70}, {5, 1000, 300}, {300, 10, 300}, {64, 257, 64}, {1000, 70, 17}, {260, 200, 100}};
  std::mt19937 rng(23);
  for (int threads : {2, 3, 5}) {
    ThreadPool pool(threads);
    for (GemmPath path : gemm_paths_available())
      for (const auto& form : kForms)
        for (const auto& size : sizes) {
          CAPTURE(threads);
          const Product p(form[0], form[1], size[0], size[1], size[2], true, 2, rng);
          INFO(product_case(path, p));
          std::vector<float> C_alone, C_team;
          p.run(path, C_alone);
          pool.run_teams(1, [&](int) { p.run(path, C_team); });
          CHECK(same_bits(C_alone, C_team));
        }
    // The panels' product is cut as gemm's: by rows, or, with fewer than
    // two tiles of rows (M = 3), into blocks of whole strips.
    for (int M : {3, 64})
    for (int N : {200, 1024}) {
      CAPTURE(threads);
      CAPTURE(M);
      CAPTURE(N);
      const int K = 256;
      const Product p(Trans::no, Trans::no, M, N, K, true, 1, rng);
      std::vector<float> panels(static_cast<std::size_t>(K) * N);
      pack_column_panels(Trans::no, K, N, p.B.data(), p.ldb, panels.data());
      std::vector<float> C_alone = p.C, C_team = p.C;
      gemm_panels(M, N, K, p.A.data(), p.lda, panels.data(), C_alone.data(), p.ldc, true);
      pool.run_teams(1, [&](int) {
        gemm_panels(M, N, K, p.A.data(), p.lda, panels.data(), C_team.data(), p.ldc, true);
      });
      CHECK(same_bits(C_alone, C_team));
    }
  }
}

TEST_CASE("gemm: a store with a bias and the rectifier has the bits of copy, accumulate, max") {
  // GemmStore: C = max(0, bias + op(A) op(B)) as the kernels write C, against
  // the steps it replaces: the bias copied into every row of C, the product
  // accumulated, then std::max(x, 0). Every path and form, the edges of the
  // tiles, a narrow N, NaN and -0 in the sums; alone, cut over a team, and
  // on column panels.
  std::mt19937 rng(31);
  const int sizes[][3] = {{1, 1, 1}, {3, 17, 5}, {17, 3, 64}, {64, 65, 255}, {130, 200, 70}, {5, 1000, 300}};
  ThreadPool pool(3);
  for (GemmPath path : gemm_paths_available())
    for (const auto& form : kForms)
      for (const auto& size : sizes)
        for (bool relu : {false, true}) {
          CAPTURE(relu);
          Product p(form[0], form[1], size[0], size[1], size[2], false, 2, rng);
          INFO(product_case(path, p));
          const int M = p.M, N = p.N;
          std::vector<float> bias(N);
          for (int j = 0; j < N; ++j) bias[j] = std::uniform_real_distribution<float>(-1, 1)(rng);
          bias[0] = -0.0f;  // with a zero product (below): -0 + 0 = +0 stays +0; the rectifier keeps -0
          if (N > 1) bias[1] = kNaN;
          // A first row of op(A) of zeros: that row of C is the bias itself.
          for (int k = 0; k < p.K; ++k) (form[0] == Trans::no ? p.A[k] : p.A[static_cast<std::size_t>(k) * p.lda]) = 0;
          std::vector<float> C_steps = p.C;
          for (int i = 0; i < M; ++i) std::copy(bias.begin(), bias.end(), C_steps.begin() + static_cast<std::size_t>(i) * p.ldc);
          gemm_with_path(path, form[0], form[1], M, N, p.K, p.A.data(), p.lda, p.B.data(), p.ldb, C_steps.data(), p.ldc, true);
          if (relu)
            for (int i = 0; i < M; ++i)
              for (int j = 0; j < N; ++j) {
                float& x = C_steps[static_cast<std::size_t>(i) * p.ldc + j];
                x = std::max(x, 0.0f);
              }
          GemmStore<float> store;
          store.bias = bias.data();
          store.relu = relu;
          std::vector<float> C_store = p.C, C_team = p.C;
          gemm_with_path(path, form[0], form[1], M, N, p.K, p.A.data(), p.lda, p.B.data(), p.ldb, C_store.data(), p.ldc, store);
          CHECK(same_bits(C_steps, C_store));
          pool.run_teams(1, [&](int) {
            gemm_with_path(path, form[0], form[1], M, N, p.K, p.A.data(), p.lda, p.B.data(), p.ldb, C_team.data(), p.ldc,
                           store);
          });
          CHECK(same_bits(C_steps, C_team));
          // Accumulating and rectifying: C = max(0, C + op(A) op(B)).
          GemmStore<float> accumulate;
          accumulate.accumulate = true;
          accumulate.relu = relu;
          std::vector<float> C_accumulated = C_store, C_then = C_store;
          gemm_with_path(path, form[0], form[1], M, N, p.K, p.A.data(), p.lda, p.B.data(), p.ldb, C_then.data(), p.ldc, true);
          if (relu)
            for (int i = 0; i < M; ++i)
              for (int j = 0; j < N; ++j) {
                float& x = C_then[static_cast<std::size_t>(i) * p.ldc + j];
                x = std::max(x, 0.0f);
              }
          gemm_with_path(path, form[0], form[1], M, N, p.K, p.A.data(), p.lda, p.B.data(), p.ldb, C_accumulated.data(),
                         p.ldc, accumulate);
          CHECK(same_bits(C_then, C_accumulated));
          if (form[0] == Trans::no && path == gemm_active_path()) {
            // On column panels, strip by strip: each strip's share of the bias.
            std::vector<float> panels(static_cast<std::size_t>(p.K) * N);
            pack_column_panels(form[1], p.K, N, p.B.data(), p.ldb, panels.data());
            std::vector<float> C_panels = p.C, C_plain = p.C;
            gemm_panels(M, N, p.K, p.A.data(), p.lda, panels.data(), C_panels.data(), p.ldc, store);
            for (int i = 0; i < M; ++i) std::copy(bias.begin(), bias.end(), C_plain.begin() + static_cast<std::size_t>(i) * p.ldc);
            gemm_panels(M, N, p.K, p.A.data(), p.lda, panels.data(), C_plain.data(), p.ldc, true);
            if (relu)
              for (int i = 0; i < M; ++i)
                for (int j = 0; j < N; ++j) {
                  float& x = C_plain[static_cast<std::size_t>(i) * p.ldc + j];
                  x = std::max(x, 0.0f);
                }
            CHECK(same_bits(C_plain, C_panels));
          }
        }
  GemmStore<float> both;
  both.accumulate = true;
  float bias = 0, A = 1, B = 1, C = 0;
  both.bias = &bias;
  CHECK_THROWS_AS(gemm(Trans::no, Trans::no, 1, 1, 1, &A, 1, &B, 1, &C, 1, both), std::invalid_argument);
}

TEST_CASE("gemm_step_gradients: the bits of a call per step, on every path, alone and over a team") {
  // A weight gradient summed over steps: S calls of gemm(yes, no, ...,
  // accumulate) against one gemm_step_gradients, the steps walked forwards
  // and backwards. Sizes: a narrow N (10, a call per step), edges of the
  // tiles (17, 257), M past kPackMinRows (so the strips are copied, all the
  // steps' rows in one block), and the glimpse network's 576 x 512 at the
  // K of a shard at batch 32. The padding of A and B is NaN, so a step read
  // from the wrong rows poisons C.
  const int sizes[][3] = {{5, 10, 16}, {17, 257, 3}, {130, 200, 16}, {576, 512, 16}, {2, 128, 7}};
  std::mt19937 rng(31);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (const auto& size : sizes)
    for (int steps : {1, 3, 8})
      for (bool backwards : {false, true}) {
        const int M = size[0], N = size[1], K = size[2];
        const int lda = M + 3, ldb = N + 5, ldc = N + 1;
        const int rows = steps * K + 2;  // two rows of NaN padding after the steps
        std::vector<float> A(static_cast<std::size_t>(rows) * lda, kNaN), B(static_cast<std::size_t>(rows) * ldb, kNaN);
        for (int r = 0; r < steps * K; ++r) {
          for (int i = 0; i < M; ++i) A[static_cast<std::size_t>(r) * lda + i] = uniform(rng);
          for (int j = 0; j < N; ++j) B[static_cast<std::size_t>(r) * ldb + j] = uniform(rng);
        }
        std::vector<float> C0(static_cast<std::size_t>(M) * ldc, kSentinel);
        for (int i = 0; i < M; ++i)
          for (int j = 0; j < N; ++j) C0[static_cast<std::size_t>(i) * ldc + j] = uniform(rng);
        // Step s at rows s * K, or (steps - 1 - s) * K walking backwards.
        const int first = backwards ? steps - 1 : 0;
        const std::ptrdiff_t step_a = (backwards ? -K : K) * static_cast<std::ptrdiff_t>(lda);
        const std::ptrdiff_t step_b = (backwards ? -K : K) * static_cast<std::ptrdiff_t>(ldb);
        const float* A_first = A.data() + static_cast<std::size_t>(first) * K * lda;
        const float* B_first = B.data() + static_cast<std::size_t>(first) * K * ldb;
        for (GemmPath path : gemm_paths_available()) {
          CAPTURE(gemm_path_name(path));
          CAPTURE(M);
          CAPTURE(N);
          CAPTURE(K);
          CAPTURE(steps);
          CAPTURE(backwards);
          std::vector<float> C_calls = C0, C_steps = C0, C_team = C0;
          for (int s = 0; s < steps; ++s)
            gemm_with_path(path, Trans::yes, Trans::no, M, N, K, A_first + s * step_a, lda, B_first + s * step_b, ldb,
                           C_calls.data(), ldc, true);
          gemm_step_gradients_with_path(path, M, N, K, steps, A_first, lda, step_a, B_first, ldb, step_b,
                                        C_steps.data(), ldc);
          CHECK(same_bits(C_calls, C_steps));
          ThreadPool pool(3);
          pool.run_teams(1, [&](int) {
            gemm_step_gradients_with_path(path, M, N, K, steps, A_first, lda, step_a, B_first, ldb, step_b,
                                          C_team.data(), ldc);
          });
          CHECK(same_bits(C_calls, C_team));
        }
      }
  // The steps in the other order sum to other bits: the check above sees the order.
  {
    const int M = 64, N = 64, K = 4, steps = 8;
    std::vector<float> A(static_cast<std::size_t>(steps) * K * M), B(static_cast<std::size_t>(steps) * K * N);
    for (float& x : A) x = uniform(rng);
    for (float& x : B) x = uniform(rng);
    std::vector<float> forwards(static_cast<std::size_t>(M) * N, 0.5f), backwards = forwards;
    gemm_step_gradients(M, N, K, steps, A.data(), M, K * M, B.data(), N, K * N, forwards.data(), N);
    gemm_step_gradients(M, N, K, steps, A.data() + (steps - 1) * K * M, M, -K * M, B.data() + (steps - 1) * K * N, N,
                        -K * N, backwards.data(), N);
    CHECK_FALSE(same_bits(forwards, backwards));
  }
  float C = 0, A = 1, B = 1;
  CHECK_THROWS_AS(gemm_step_gradients(1, 1, 1, -1, &A, 1, 1, &B, 1, 1, &C, 1), std::invalid_argument);
}
