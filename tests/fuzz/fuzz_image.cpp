// fuzz_image.cpp: libFuzzer target for decode_image (image.cpp): the JPEG and
// PNG checks (jpeg_check.cpp, png_check.cpp), then stb_image itself, exactly
// as the CIFAR-10 image-folder reader calls them, for a 32x32 image. Any
// input must decode to 3 x 32 x 32 pixels or be refused with
// std::runtime_error; a crash, a sanitizer report (in the checks or in
// stb_image) or another exception is a finding. Built and run by `make fuzz`.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "datasets/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  try {
    const std::vector<uint8_t> chw = decode_image(bytes, "fuzz-input", 32, 32);
    if (chw.size() != 3 * 32 * 32) __builtin_trap();
  } catch (const std::runtime_error&) {
  }
  return 0;
}
