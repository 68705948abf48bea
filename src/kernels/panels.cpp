// panels.cpp: weight matrices copied into column panels (panels.h), for
// gemm_panels.
#include "kernels/panels.h"

#include <algorithm>

#include "kernels/gemm.h"

namespace {
// W^T in panels: for a matrix whose products form dy W^T, from
// kBackwardMinOut outputs on.
bool wants_backward(const PanelMatrix& m) { return m.transposed && m.out >= WeightPanels::kBackwardMinOut; }
}  // namespace

void WeightPanels::lay_out(const PanelMatrix* matrices, int count) {
  matrices_.assign(matrices, matrices + count);  // keeps its capacity: no allocation after the first
  std::size_t total = 0;
  for (const PanelMatrix& m : matrices_) {
    if (!m.W) continue;
    const std::size_t size = static_cast<std::size_t>(m.in) * m.out;
    total += (m.out >= kForwardMinOut ? size : 0) + (wants_backward(m) ? size : 0);
  }
  if (buffer_.size() != total) buffer_.reshape({static_cast<int>(total)});
  copies_.assign(matrices_.size(), Copies{});
  real* next = buffer_.data();
  for (std::size_t i = 0; i < matrices_.size(); ++i) {
    const PanelMatrix& m = matrices_[i];
    if (!m.W) continue;
    const std::size_t size = static_cast<std::size_t>(m.in) * m.out;
    if (m.out >= kForwardMinOut) {
      copies_[i].forward = next;
      next += size;
    }
    if (wants_backward(m)) {
      copies_[i].backward = next;
      next += size;
    }
  }
}

void WeightPanels::fill(int part, int parts) {
  int strip = 0;  // counts the strips of all copies, in the order of lay_out
  for (std::size_t i = 0; i < matrices_.size(); ++i) {
    const PanelMatrix& m = matrices_[i];
    // op(B) = W [in, out] into forward: strip j0 is W's columns j0 ..;
    // op(B) = W^T [out, in] into backward: strip j0 is W's rows j0 ...
    for (const Trans form : {Trans::no, Trans::yes}) {
      real* panels = form == Trans::no ? copies_[i].forward : copies_[i].backward;
      if (!panels) continue;
      const int K = form == Trans::no ? m.in : m.out, N = form == Trans::no ? m.out : m.in;
      for (int j0 = 0; j0 < N; j0 += kPanelColumns, ++strip) {
        if (strip % parts != part) continue;
        const real* source = form == Trans::no ? m.W + j0 : m.W + static_cast<std::size_t>(j0) * m.out;
        pack_column_panels(form, K, std::min(kPanelColumns, N - j0), source, m.out,
                           panels + static_cast<std::size_t>(j0) * K);
      }
    }
  }
}

void WeightPanels::drop() {
  matrices_.clear();
  copies_.clear();
}
