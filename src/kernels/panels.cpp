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
  int strip = 0;  // counts the strips of the W^T copies, in the order of lay_out
  for (std::size_t i = 0; i < matrices_.size(); ++i) {
    const PanelMatrix& m = matrices_[i];
    // op(B) = W [in, out] into forward: each part takes a block of whole
    // strips, W's columns [j0, j1), and copies it along W's rows.
    if (real* panels = copies_[i].forward) {
      const int strips = (m.out + kPanelColumns - 1) / kPanelColumns;
      const int j0 = strips * part / parts * kPanelColumns;
      const int j1 = std::min(m.out, strips * (part + 1) / parts * kPanelColumns);
      if (j0 < j1)
        pack_column_panels(Trans::no, m.in, j1 - j0, m.W + j0, m.out, panels + static_cast<std::size_t>(j0) * m.in);
    }
    // op(B) = W^T [out, in] into backward: strip j0 is W's rows j0 ..; the
    // parts take the strips in turn.
    if (real* panels = copies_[i].backward) {
      for (int j0 = 0; j0 < m.in; j0 += kPanelColumns, ++strip) {
        if (strip % parts != part) continue;
        pack_column_panels(Trans::yes, m.out, std::min(kPanelColumns, m.in - j0),
                           m.W + static_cast<std::size_t>(j0) * m.out, m.out,
                           panels + static_cast<std::size_t>(j0) * m.out);
      }
    }
  }
}

void WeightPanels::drop() {
  matrices_.clear();
  copies_.clear();
}
