// tensor.h: the one array type of the project.
//
// A Tensor owns a 64-byte aligned buffer of `real` numbers and a shape, outermost
// dimension first, as the papers and numpy write it: a batch of hidden states is
// [B, H], row b starting at data() + b*H. Slices are plain pointers into it,
// named for what they point at (x_bt points at x[b, t, :]).
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
    std::size_t n = 1;
    int i = 0;
    for (int s : shape) {
      if (s < 0) throw std::invalid_argument("Tensor: negative dimension");
      shape_[i++] = s;
      n *= static_cast<std::size_t>(s);
    }
    for (; i < kMaxRank; ++i) shape_[i] = 0;
    size_ = shape.size() ? n : 0;
    if (size_ > capacity_) {
      buffer_.reset(aligned_alloc_array<real>(size_));
      capacity_ = size_;
      std::memset(buffer_.get(), 0, size_ * sizeof(real));
    }
  }
  void zero() {
    if (buffer_) std::memset(buffer_.get(), 0, size_ * sizeof(real));
  }

  real* data() { return buffer_.get(); }
  const real* data() const { return buffer_.get(); }
  std::size_t size() const { return size_; }
  real& operator[](std::size_t i) { return buffer_.get()[i]; }
  real operator[](std::size_t i) const { return buffer_.get()[i]; }
  // Dimension i of the shape, outermost first; 0 past the rank.
  int dim(int i) const { return shape_[i]; }
  // Element (i, j) of a rank-2 tensor.
  real& at(int i, int j) { return buffer_.get()[static_cast<std::size_t>(i) * shape_[1] + j]; }
  real at(int i, int j) const { return buffer_.get()[static_cast<std::size_t>(i) * shape_[1] + j]; }

 private:
  std::unique_ptr<real, AlignedFree> buffer_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;                 // the product of the shape's dimensions
  int shape_[kMaxRank] = {0, 0, 0, 0};  // outermost first; 0 past the rank
};
