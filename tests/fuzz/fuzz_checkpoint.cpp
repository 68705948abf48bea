// fuzz_checkpoint.cpp: libFuzzer target for the checkpoint reader
// (checkpoint.cpp), the code load_checkpoint runs on a file's bytes: every
// format version, the settings records, the counts and the training state.
// Any input must either parse into a consistent checkpoint or be refused
// with std::runtime_error; anything else (a crash, a sanitizer report,
// another exception, memory beyond the input's own size) is a finding.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "train/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  try {
    const Checkpoint ck = parse_checkpoint(data, size, "fuzz-input");
    // What parsed is what the configuration needs, and fits in the input.
    const std::size_t count = parameter_count(ck.config.model);
    if (ck.params.size() != count || 4 * ck.params.size() > size) __builtin_trap();
    if (ck.has_training_state) {
      if (ck.optimizer_first.size() != count) __builtin_trap();
      const bool adam = ck.config.optimizer.kind == OptimizerKind::adam;
      if (ck.optimizer_second.size() != (adam ? count : 0)) __builtin_trap();
    } else if (!ck.optimizer_first.empty() || !ck.optimizer_second.empty()) {
      __builtin_trap();
    }
    // The weights fit the model the settings describe.
    Parameters params(ck.config.model);
    restore_parameters(ck, params);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
