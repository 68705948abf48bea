// tensor.h: the one array type of the project.
//
// A Tensor owns a 64-byte aligned buffer of `real` numbers and a shape, outermost
// dimension first, as the papers and numpy write it: a batch of hidden states is
// [B, H], row b starting at data() + b*H. A TensorView is the same without
// ownership: a pointer and a shape, cheap to pass and to slice along dimension 0.
//
// `real` is float in the program and double in the gradient-test build
// (compiled with -DRAM_DOUBLE), so the finite-difference checks run the very
// code that trains, in double precision.
//
// Size legend used in shape comments everywhere:
//   B batch   T glimpses   K scales   P patch side   C channels
//   G glimpse features (K*C*P*P)   H hidden units   A classes
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#ifdef RAM_DOUBLE
using real = double;
#else
using real = float;
#endif

constexpr int kMaxRank = 4;
constexpr std::size_t kAlignBytes = 64;  // one cache line, one AVX-512 register

// Allocates `count` elements of T aligned to kAlignBytes; frees with std::free.
template <class T>
T* aligned_alloc_array(std::size_t count) {
  std::size_t bytes = (count * sizeof(T) + kAlignBytes - 1) / kAlignBytes * kAlignBytes;
  if (bytes == 0) bytes = kAlignBytes;
  void* p = std::aligned_alloc(kAlignBytes, bytes);
  if (!p) throw std::bad_alloc();
  return static_cast<T*>(p);
}

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

// A non-owning window on a tensor: pointer plus shape, rows contiguous.
struct TensorView {
  real* ptr = nullptr;
  int shape[kMaxRank] = {0, 0, 0, 0};
  int rank = 0;

  std::size_t size() const {
    std::size_t n = rank ? 1 : 0;
    for (int i = 0; i < rank; ++i) n *= static_cast<std::size_t>(shape[i]);
    return n;
  }
  int dim(int i) const { return shape[i]; }
  real* data() const { return ptr; }
  // Elements per index of dimension 0, e.g. H for a [B, H] view.
  std::size_t stride0() const { return rank ? size() / static_cast<std::size_t>(shape[0]) : 0; }
  // The i-th slice along dimension 0: [B, H] -> [H].
  TensorView operator[](int i) const {
    TensorView v;
    v.ptr = ptr + static_cast<std::size_t>(i) * stride0();
    v.rank = rank - 1;
    for (int d = 1; d < rank; ++d) v.shape[d - 1] = shape[d];
    return v;
  }
  // Rows [begin, end) along dimension 0: [B, H] -> [end-begin, H].
  TensorView rows(int begin, int end) const {
    TensorView v = *this;
    v.ptr = ptr + static_cast<std::size_t>(begin) * stride0();
    v.shape[0] = end - begin;
    return v;
  }
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::initializer_list<int> shape) { reshape(shape); }

  // Sets the shape; reallocates only when the new size exceeds the capacity,
  // so per-step workspaces stop allocating after the first step. Zero-filled
  // when (re)allocated, otherwise the contents are left as they were.
  void reshape(std::initializer_list<int> shape) {
    if (shape.size() > static_cast<std::size_t>(kMaxRank))
      throw std::invalid_argument("Tensor: rank above " + std::to_string(kMaxRank));
    view_.rank = static_cast<int>(shape.size());
    int i = 0;
    for (int s : shape) {
      if (s < 0) throw std::invalid_argument("Tensor: negative dimension");
      view_.shape[i++] = s;
    }
    for (; i < kMaxRank; ++i) view_.shape[i] = 0;
    std::size_t n = view_.size();
    if (n > capacity_) {
      buffer_.reset(aligned_alloc_array<real>(n));
      capacity_ = n;
      std::memset(buffer_.get(), 0, n * sizeof(real));
    }
    view_.ptr = buffer_.get();
  }
  void zero() {
    if (view_.ptr) std::memset(view_.ptr, 0, size() * sizeof(real));
  }

  real* data() { return view_.ptr; }
  const real* data() const { return view_.ptr; }
  std::size_t size() const { return view_.size(); }
  int dim(int i) const { return view_.shape[i]; }
  int rank() const { return view_.rank; }
  real& operator[](std::size_t i) { return view_.ptr[i]; }
  real operator[](std::size_t i) const { return view_.ptr[i]; }
  // Element (i, j) of a rank-2 tensor.
  real& at(int i, int j) { return view_.ptr[static_cast<std::size_t>(i) * view_.shape[1] + j]; }
  real at(int i, int j) const { return view_.ptr[static_cast<std::size_t>(i) * view_.shape[1] + j]; }
  TensorView view() const { return view_; }
  TensorView operator()(int i) const { return view_[i]; }

 private:
  std::unique_ptr<real, AlignedFree> buffer_;
  std::size_t capacity_ = 0;
  TensorView view_;
};
