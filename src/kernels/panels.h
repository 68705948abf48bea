// panels.h: copies of weight matrices in column panels (gemm.h), kept for
// the products that run on them many times between two changes of the
// weights.
//
// Each matrix W [in, out] (row-major, row stride out) may get two copies:
// W itself in panels, for the forward product y = x W, and W^T in panels,
// so that the backward product dx = dy W^T runs as a plain product (the
// fastest GEMM form) instead of dot products. Only wide matrices get them;
// see the thresholds below. The copies are right only until the weights
// change: whoever changes the weights drops the copies first, and lays them
// out and fills them again after.
#pragma once

#include <cstddef>
#include <vector>

#include "kernels/tensor.h"

// A matrix to copy: W [in, out], row-major with row stride out. W ==
// nullptr is a matrix that is absent, and gets no copies. transposed: whether
// the products run dx = dy W^T on it at all (a layer whose input is not
// trained needs no W^T copy).
struct PanelMatrix {
  const real* W = nullptr;
  int in = 0, out = 0;
  bool transposed = true;
};

class WeightPanels {
 public:
  // Forward panels: on Zen 4 (gemm.h) they paid from rows of 1024 floats (an
  // LSTM's 4H gates) and gained nothing on 256; on Zen 5 `ram bench` ran
  // Y = X W faster on them at 576 x 128 and 256 x 256 in every round (5 to
  // 22 %, 11 to 12 % by the medians), so every layer with 128 outputs or
  // more gets them (docs/performance.md). The
  // transposed copy pays from 128 outputs, where the product it replaces
  // would run on dot tiles.
  static constexpr int kForwardMinOut = 128;
  static constexpr int kBackwardMinOut = 128;

  // Decides which copies each of matrices[0, count) gets and sizes the
  // buffer for them (allocating only when it grows); copies nothing yet.
  void lay_out(const PanelMatrix* matrices, int count);
  // Copies part `part` of `parts`: block `part` of each W copy's strips,
  // and every parts-th strip of the W^T copies, from the part-th on. Called
  // for every part in [0, parts), on any threads at once, it fills them all.
  void fill(int part, int parts);
  // Forgets the matrices: forward(i) and backward(i) become nullptr.
  void drop();

  // Matrix i of the last lay_out: W in column panels (op(B) = W [in, out]),
  // or nullptr when it has none.
  const real* forward(int i) const { return i < static_cast<int>(copies_.size()) ? copies_[i].forward : nullptr; }
  // Matrix i: W^T in column panels (op(B) = W^T [out, in]), or nullptr.
  const real* backward(int i) const { return i < static_cast<int>(copies_.size()) ? copies_[i].backward : nullptr; }

 private:
  struct Copies {
    real* forward = nullptr;
    real* backward = nullptr;
  };
  std::vector<PanelMatrix> matrices_;
  std::vector<Copies> copies_;  // one per matrix, into buffer_
  Tensor buffer_;
};
