// fuzz_gzip.cpp: libFuzzer target for gunzip and the raw DEFLATE inflater
// (gzip.cpp), which Fashion-MNIST's files and PNG image data go through. Any
// input must unpack within its limit or be refused with std::runtime_error.
// Built and run by `make fuzz`.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "datasets/gzip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  try {
    const std::vector<uint8_t> out = gunzip(bytes, "fuzz-input", std::size_t{1} << 20);
    if (out.size() > kDeflateMaxRatio * size) __builtin_trap();
  } catch (const std::runtime_error&) {
  }
  // The same bytes as a bare DEFLATE stream, with a small limit.
  const std::size_t limit = 1 << 16;
  std::vector<uint8_t> out;
  try {
    const std::size_t used = inflate(data, size, limit, out, "fuzz-input", "the fuzz limit");
    if (used > size || out.size() > limit) __builtin_trap();
  } catch (const std::runtime_error&) {
    if (out.size() > limit) __builtin_trap();
  }
  return 0;
}
