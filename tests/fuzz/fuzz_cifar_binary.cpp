// fuzz_cifar_binary.cpp: libFuzzer target for parse_cifar_binary
// (cifar10.cpp), the parser of CIFAR-10's binary batches. Any input must
// append whole, labelled records or be refused with std::runtime_error.
// Built and run by `make fuzz`.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "datasets/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  Dataset batches;
  try {
    parse_cifar_binary(bytes, "fuzz-input", batches);
    parse_cifar_binary(bytes, "fuzz-input", batches);  // a second batch appends
    if (batches.labels.size() != static_cast<std::size_t>(batches.count) ||
        batches.pixels.size() != static_cast<std::size_t>(batches.count) * 3 * 32 * 32)
      __builtin_trap();
    for (uint8_t label : batches.labels)
      if (label >= 10) __builtin_trap();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
