// linear.cpp: the affine map and the rectifier every component is built from.
//
// Not a paper component: these are the two layers that the glimpse network,
// the core, the location, action and baseline networks all share.
#include "kernels/gemm.h"
#include "kernels/thread_pool.h"
#include "kernels/vectorize.h"
#include "model/linear.h"

namespace {

// y = store(x W), on W's panels when they are made.
void multiply(int B, const real* x, int ldx, const LinearParams& p, real* y, int ldy, const GemmStore<real>& store) {
  if (p.W_panels)  // W in column panels: Parameters::refresh_panels
    gemm_panels(B, p.out, p.in, x, ldx, p.W_panels, y, ldy, store);
  else
    gemm(Trans::no, Trans::no, B, p.out, p.in, x, ldx, p.W, p.out, y, ldy, store);
}

// db[j] += dy[r, j] for r = 0 .. B-1 in turn: each element's sum keeps the
// order of the rows, the clones only go across j (vectorize.h).
RAM_VECTORIZE void add_row_sums(int B, int n, const real* dy, int lddy, real* db) {
  for (int r = 0; r < B; ++r) {
    const real* dy_r = dy + static_cast<std::size_t>(r) * lddy;
    for (int j = 0; j < n; ++j) db[j] += dy_r[j];
  }
}

}  // namespace

// y[B, out] = x[B, in] W[in, out] + b[out], then relu if asked: the product
// starts each row from b instead of 0, and rectifies as it stores. The same
// bits as copying b into y, accumulating x W, then max(0, y).
void linear_forward(int B, const real* x, int ldx, const LinearParams& p, real* y, int ldy, Activation activation) {
  GemmStore<real> store;
  store.bias = p.b;
  store.relu = activation == Activation::relu;
  multiply(B, x, ldx, p, y, ldy, store);
}

void linear_multiply(int B, const real* x, int ldx, const LinearParams& p, real* y, int ldy, bool accumulate,
                     Activation activation) {
  GemmStore<real> store;
  store.accumulate = accumulate;
  store.relu = activation == Activation::relu;
  multiply(B, x, ldx, p, y, ldy, store);
}

// Forward was y = x W + b, so
//   dW += x^T dy      (every row of the batch contributes)
//   db += sum_r dy_r
//   dx  = dy W^T
void linear_backward(int B, const real* x, int ldx, const real* dy, int lddy,
                     const LinearParams& p, const LinearParams& grad,
                     real* dx, int lddx, bool accumulate_dx) {
  gemm(Trans::yes, Trans::no, p.in, p.out, B, x, ldx, dy, lddy, grad.W, p.out, true);
  if (grad.b) add_row_sums(B, p.out, dy, lddy, grad.b);
  if (dx) linear_backward_input(B, dy, lddy, p, dx, lddx, accumulate_dx);
}

void linear_backward_weight_steps(int B, int steps, const real* x, int ldx, std::ptrdiff_t step_x, const real* dy,
                                  int lddy, std::ptrdiff_t step_dy, const LinearParams& p, const LinearParams& grad) {
  gemm_step_gradients(p.in, p.out, B, steps, x, ldx, step_x, dy, lddy, step_dy, grad.W, p.out);
  if (grad.b)
    for (int s = 0; s < steps; ++s) add_row_sums(B, p.out, dy + s * step_dy, lddy, grad.b);
}

void linear_backward_input(int B, const real* dy, int lddy, const LinearParams& p, real* dx, int lddx,
                           bool accumulate_dx) {
  if (p.Wt_panels)  // the same product with W^T stored: Parameters::refresh_panels
    gemm_panels(B, p.in, p.out, dy, lddy, p.Wt_panels, dx, lddx, accumulate_dx);
  else
    gemm(Trans::no, Trans::yes, B, p.in, p.out, dy, lddy, p.W, p.out, dx, lddx, accumulate_dx);
}

namespace {

RAM_VECTORIZE void relu_backward_rows(int B, int n, const real* y, int ldy, real* dy, int lddy) {
  for (int r = 0; r < B; ++r) {
    const real* y_r = y + static_cast<std::size_t>(r) * ldy;
    real* dy_r = dy + static_cast<std::size_t>(r) * lddy;
    for (int j = 0; j < n; ++j) dy_r[j] = y_r[j] > 0 ? dy_r[j] : real(0);
  }
}

}  // namespace

// Forward was y = max(0, a), so da = dy * [y > 0]. Reading the output rather
// than the input saves storing a; at a == 0 exactly both give 0.
void relu_backward(int B, int n, const real* y, int ldy, real* dy, int lddy) {
  team_rows(B, n, [&](int r0, int r1) {
    relu_backward_rows(r1 - r0, n, row_at(y, r0, ldy), ldy, row_at(dy, r0, lddy), lddy);
  });
}
