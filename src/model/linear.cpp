// linear.cpp: the affine map and the rectifier every component is built from.
//
// Not a paper component: these are the two layers that the glimpse network,
// the core, the location, action and baseline networks all share.
#include <algorithm>

#include "kernels/gemm.h"
#include "kernels/vectorize.h"
#include "model/linear.h"

// y[B, out] = x[B, in] W[in, out] + b[out]
void linear_forward(int B, const real* x, int ldx, const LinearParams& p, real* y, int ldy) {
  for (int r = 0; r < B; ++r) {
    real* y_r = y + static_cast<std::size_t>(r) * ldy;
    if (p.b)
      std::copy(p.b, p.b + p.out, y_r);
    else
      std::fill(y_r, y_r + p.out, real(0));
  }
  linear_multiply(B, x, ldx, p, y, ldy, /*accumulate=*/true);
}

void linear_multiply(int B, const real* x, int ldx, const LinearParams& p, real* y, int ldy, bool accumulate) {
  if (p.W_panels)  // W in column panels: Parameters::refresh_panels
    gemm_panels(B, p.out, p.in, x, ldx, p.W_panels, y, ldy, accumulate);
  else
    gemm(Trans::no, Trans::no, B, p.out, p.in, x, ldx, p.W, p.out, y, ldy, accumulate);
}

// Forward was y = x W + b, so
//   dW += x^T dy      (every row of the batch contributes)
//   db += sum_r dy_r
//   dx  = dy W^T
void linear_backward(int B, const real* x, int ldx, const real* dy, int lddy,
                     const LinearParams& p, const LinearParams& grad,
                     real* dx, int lddx, bool accumulate_dx) {
  gemm(Trans::yes, Trans::no, p.in, p.out, B, x, ldx, dy, lddy, grad.W, p.out, true);
  if (grad.b) {
    for (int r = 0; r < B; ++r) {
      const real* dy_r = dy + static_cast<std::size_t>(r) * lddy;
      for (int j = 0; j < p.out; ++j) grad.b[j] += dy_r[j];
    }
  }
  if (dx) linear_backward_input(B, dy, lddy, p, dx, lddx, accumulate_dx);
}

void linear_backward_input(int B, const real* dy, int lddy, const LinearParams& p, real* dx, int lddx,
                           bool accumulate_dx) {
  if (p.Wt_panels)  // the same product with W^T stored: Parameters::refresh_panels
    gemm_panels(B, p.in, p.out, dy, lddy, p.Wt_panels, dx, lddx, accumulate_dx);
  else
    gemm(Trans::no, Trans::yes, B, p.in, p.out, dy, lddy, p.W, p.out, dx, lddx, accumulate_dx);
}

RAM_VECTORIZE void relu_forward(int B, int n, real* y, int ldy) {
  for (int r = 0; r < B; ++r) {
    real* y_r = y + static_cast<std::size_t>(r) * ldy;
    // max, not a branch: the sign of a unit is a coin toss, and a mispredicted
    // branch per element cost more than the rest of the layer.
    for (int j = 0; j < n; ++j) y_r[j] = std::max(y_r[j], real(0));
  }
}

// Forward was y = max(0, a), so da = dy * [y > 0]. Reading the output rather
// than the input saves storing a; at a == 0 exactly both give 0.
RAM_VECTORIZE void relu_backward(int B, int n, const real* y, int ldy, real* dy, int lddy) {
  for (int r = 0; r < B; ++r) {
    const real* y_r = y + static_cast<std::size_t>(r) * ldy;
    real* dy_r = dy + static_cast<std::size_t>(r) * lddy;
    for (int j = 0; j < n; ++j) dy_r[j] = y_r[j] > 0 ? dy_r[j] : real(0);
  }
}
