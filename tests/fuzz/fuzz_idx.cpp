// fuzz_idx.cpp: libFuzzer target for the IDX parsers (dataset.cpp), the same
// code read_idx_images and read_idx_labels run on a file's bytes, gzip
// unpacking included. Any input must either parse into a consistent data set
// or be refused with std::runtime_error; anything else (a crash, a sanitizer
// report, another exception) is a finding. Built and run by `make fuzz`.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "datasets/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  try {
    const Dataset images = parse_idx_images(bytes, "fuzz-input");
    const std::size_t expected = static_cast<std::size_t>(images.count) * images.height * images.width;
    if (images.count < 1 || images.pixels.size() != expected) __builtin_trap();
  } catch (const std::runtime_error&) {
  }
  try {
    const std::vector<uint8_t> labels = parse_idx_labels(bytes, "fuzz-input", 10);
    for (uint8_t label : labels)
      if (label >= 10) __builtin_trap();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
