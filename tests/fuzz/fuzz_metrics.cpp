// fuzz_metrics.cpp: libFuzzer target for the metrics.csv reader of a resumed
// run (kept_metrics, train.cpp). The first input byte is the last finished
// epoch (0..255), the rest is the file. Any input must either give the
// header and the rows of epochs 1..last, or be refused with
// std::runtime_error; anything else is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>

#include "train/train.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int last_epoch = data[0];
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    const std::string kept = kept_metrics(text, last_epoch, "fuzz-input");
    // The header, then only rows whose epoch is 1..last_epoch, none longer
    // than the input.
    std::istringstream rows(kept);
    std::string line;
    std::getline(rows, line);
    if (line.rfind("epoch,", 0) != 0) __builtin_trap();
    while (std::getline(rows, line)) {
      const long epoch = std::strtol(line.c_str(), nullptr, 10);
      if (epoch < 1 || epoch > last_epoch || line.size() > size) __builtin_trap();
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
