// linear.h: the affine layer and the relu, the building blocks the components share (linear.cpp).
#pragma once

#include <cstddef>

#include "model/parameters.h"

// Building blocks shared by the components (linear.cpp).

// What a layer applies to its sum as the product stores it: nothing, or the
// rectifier relu(a) = max(0, a).
enum class Activation { none, relu };

// y = x W + b, or relu(x W + b): the bias and the rectifier are applied by
// the product as it writes y (kernels/gemm.h, GemmStore), not in passes of
// their own.
void linear_forward(int B, const real* x, int ldx, const LinearParams& p, real* y, int ldy,
                    Activation activation = Activation::none);
// y = x W, or y += x W if accumulate (then the activation, if any): the
// product alone, on W's panels when they are made.
void linear_multiply(int B, const real* x, int ldx, const LinearParams& p, real* y, int ldy, bool accumulate,
                     Activation activation = Activation::none);
// Forward was y = x W + b. Adds dW += x^T dy and db += sum_rows dy; writes
// dx = dy W^T when dx is given (adds into it if accumulate_dx).
void linear_backward(int B, const real* x, int ldx, const real* dy, int lddy,
                     const LinearParams& p, const LinearParams& grad,
                     real* dx, int lddx, bool accumulate_dx);
// The weights' share of linear_backward for a layer applied at `steps`
// steps, taken in turn: for s = 0, 1, ..., steps - 1, with x_s = x + s *
// step_x and dy_s = dy + s * step_dy (in elements, negative to walk back),
//   dW += x_s^T dy_s,   db += sum_rows dy_s
// The same bits as linear_backward step by step, in one pass over dW
// (gemm_step_gradients, kernels/gemm.h).
void linear_backward_weight_steps(int B, int steps, const real* x, int ldx, std::ptrdiff_t step_x, const real* dy,
                                  int lddy, std::ptrdiff_t step_dy, const LinearParams& p, const LinearParams& grad);
// dx = dy W^T alone (adding into dx if accumulate_dx): the input's share of
// linear_backward, for callers that sum the weights' share separately.
void linear_backward_input(int B, const real* dy, int lddy, const LinearParams& p, real* dx, int lddx,
                           bool accumulate_dx);
// Forward was y = max(0, a) (Activation::relu): da = dy where y > 0, else 0
// (in place on dy).
void relu_backward(int B, int n, const real* y, int ldy, real* dy, int lddy);
