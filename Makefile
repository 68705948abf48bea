# ram: the Recurrent Attention Model in plain C++17.
#   make          build build/ram
#   make run      fetch MNIST, train a short default run, print the test error,
#                 draw its glimpses (runs/quick/glimpses.png)
#   make test     build and run every unit test (gradients in double precision)
#   make bench    GEMM GFLOP/s, training and inference images/s, the retina alone
#   make debug    build/ram-debug with -g and address/undefined sanitizers
#   make test-sanitize  every unit test and the CLI test, built with address and
#                 undefined-behaviour sanitizers in build/sanitize/ (not in make test)
#   make fuzz     the data loaders' fuzz targets (clang++, libFuzzer) and their
#                 seed files, in build/fuzz/; make fuzz-run FUZZ_SECONDS=S FUZZ_RUNS=N
#                 runs each in turn for S seconds or N inputs
#   make clean    remove build/
#
# Flags: `make CXXFLAGS=...` (or CPPFLAGS, LDFLAGS) adds to the flags the build
# needs, it does not replace them. Headers the compiler does not find by
# itself: CPATH=DIR, CPPFLAGS=-IDIR, or STB_INCLUDE=DIR / DOCTEST_INCLUDE=DIR,
# each the directory holding stb/stb_image.h or doctest/doctest.h.

CXX      ?= g++
CXXFLAGS ?= -O3
# -fno-math-errno: std::sqrt may then skip setting errno for a negative
# argument, which nothing here reads, and the Adam update's loop vectorises
# (with errno it is a branch per element, and stays scalar).
# -fno-trapping-math: nothing here reads the floating-point exception flags;
# without it GCC keeps a branch per element for a float std::min or std::max
# (the clamp in kernels/fast_exp.h), and the LSTM's gate loops stay scalar
# below AVX-512. Neither flag changes a computed value.
override CXXFLAGS += -std=c++17 -Wall -Wextra -pthread -MMD -MP -Isrc -fno-math-errno -fno-trapping-math
override CXXFLAGS += $(addprefix -I,$(STB_INCLUDE) $(DOCTEST_INCLUDE))
override LDFLAGS  += -pthread

# SIMD kernels: x86-64 gets AVX2 and AVX-512 files, chosen at run time by
# CPUID; every machine gets the portable scalar path. Set SIMD=none to build
# the scalar path alone.
ARCH := $(shell $(CXX) -dumpmachine 2>/dev/null | cut -d- -f1)
SIMD ?= $(if $(filter x86_64 amd64,$(ARCH)),x86,none)
SIMD_SRC := src/kernels/gemm_avx2.cpp src/kernels/gemm_avx512.cpp
ifeq ($(SIMD),x86)
  override CXXFLAGS += -DRAM_X86_KERNELS
else
  SIMD_SRC_SKIP := $(SIMD_SRC)
endif

# The layers of src/, lowest first (tests/include_layers.sh checks that
# includes point downward): kernels, datasets and model, train, tools.
LIB_SRC  := $(filter-out src/tools/main.cpp $(SIMD_SRC_SKIP),$(wildcard src/*/*.cpp))
F32_OBJ  := $(LIB_SRC:src/%.cpp=build/f32/%.o)
F64_OBJ  := $(LIB_SRC:src/%.cpp=build/f64/%.o)
TEST_F32 := $(wildcard tests/test_*.cpp) tests/doctest_main.cpp
# test_parameters.cpp runs in both: the parameter layout must not depend on real.
TEST_F64 := $(wildcard tests/grad_*.cpp) tests/test_parameters.cpp tests/doctest_main.cpp

all: build/ram

# stb and doctest (Debian's libstb-dev and doctest-dev): a compile probe with
# these flags finds them, or installs them when missing and root, or says
# which header is missing and how to get it.
DEPS_STAMP := build/.deps
$(DEPS_STAMP):
	@mkdir -p build
	@CXX="$(CXX)" PROBE_FLAGS="$(CPPFLAGS) $(filter-out -MMD -MP,$(CXXFLAGS))" sh data/install_deps.sh
	@touch $@

build/ram: $(F32_OBJ) build/f32/tools/main.o
	$(CXX) $(LDFLAGS) -o $@ $^

# Every object also depends on this file, so that a change of flags rebuilds it.
build/f32/%.o: src/%.cpp Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<
build/f64/%.o: src/%.cpp Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -DRAM_DOUBLE -c -o $@ $<
build/f32/tests/%.o: tests/%.cpp Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<
build/f64/tests/%.o: tests/%.cpp Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -DRAM_DOUBLE -c -o $@ $<

# Only the kernel files are compiled for the wider instruction sets.
AVX2_OBJ   := $(foreach b,f32 f64 sanitize/f32 sanitize/f64,build/$(b)/kernels/gemm_avx2.o)
AVX512_OBJ := $(foreach b,f32 f64 sanitize/f32 sanitize/f64,build/$(b)/kernels/gemm_avx512.o)
$(AVX2_OBJ): override CXXFLAGS += -mavx2 -mfma
$(AVX512_OBJ): override CXXFLAGS += -mavx512f -mavx512vl -mfma

build/test_f32: $(TEST_F32:tests/%.cpp=build/f32/tests/%.o) $(F32_OBJ)
	$(CXX) $(LDFLAGS) -o $@ $^
build/test_f64: $(TEST_F64:tests/%.cpp=build/f64/tests/%.o) $(F64_OBJ)
	$(CXX) $(LDFLAGS) -o $@ $^

# Gradient checks (double build), the float program's tests, the links and
# function names in the docs, the command line.
test: build/test_f64 build/test_f32 build/ram
	build/test_f64
	build/test_f32
	sh tests/include_layers.sh
	sh tests/doc_links.sh
	sh tests/cli.sh build/ram
	build/ram report --check

bench: build/ram
	build/ram bench

MNIST_DIR ?= data/mnist
RUN_DIR   ?= runs/quick
run: build/ram
	sh data/fetch_mnist.sh $(MNIST_DIR)
	build/ram train --dataset mnist --data $(MNIST_DIR) --scales 3 --lr 0.0005 --epochs 60 --max-minutes 7 --out $(RUN_DIR)
	build/ram show --checkpoint $(RUN_DIR)/model.bin --count 16 --out $(RUN_DIR)/glimpses.png

DEBUG_FLAGS := -std=c++17 -Wall -Wextra -pthread -Isrc -g -O1 -fsanitize=address,undefined \
               $(if $(filter x86,$(SIMD)),-DRAM_X86_KERNELS) $(CPPFLAGS) $(addprefix -I,$(STB_INCLUDE) $(DOCTEST_INCLUDE))
DEBUG_OBJ   := $(patsubst src/%.cpp,build/debug/%.o,$(filter-out $(SIMD_SRC_SKIP),$(wildcard src/*/*.cpp)))
build/debug/%.o: src/%.cpp | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(DEBUG_FLAGS) -c -o $@ $<
build/debug/kernels/gemm_avx2.o: DEBUG_FLAGS += -mavx2 -mfma
build/debug/kernels/gemm_avx512.o: DEBUG_FLAGS += -mavx512f -mavx512vl -mfma
debug: build/ram-debug
build/ram-debug: $(DEBUG_OBJ)
	$(CXX) $(DEBUG_FLAGS) -o $@ $^

# The whole test suite with address and undefined-behaviour sanitizers: the
# same sources as make test, in build/sanitize/, -O1 -g; any report fails it.
SAN_FLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all
SAN_DIR    := build/sanitize
build/sanitize/f32/%.o: src/%.cpp Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) $(SAN_FLAGS) -c -o $@ $<
build/sanitize/f64/%.o: src/%.cpp Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) $(SAN_FLAGS) -DRAM_DOUBLE -c -o $@ $<
build/sanitize/f32/tests/%.o: tests/%.cpp Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) $(SAN_FLAGS) -c -o $@ $<
build/sanitize/f64/tests/%.o: tests/%.cpp Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) $(SAN_FLAGS) -DRAM_DOUBLE -c -o $@ $<
$(SAN_DIR)/test_f32: $(TEST_F32:tests/%.cpp=$(SAN_DIR)/f32/tests/%.o) $(F32_OBJ:build/%=$(SAN_DIR)/%)
	$(CXX) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^
$(SAN_DIR)/test_f64: $(TEST_F64:tests/%.cpp=$(SAN_DIR)/f64/tests/%.o) $(F64_OBJ:build/%=$(SAN_DIR)/%)
	$(CXX) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^
$(SAN_DIR)/ram: $(F32_OBJ:build/%=$(SAN_DIR)/%) $(SAN_DIR)/f32/tools/main.o
	$(CXX) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^
test-sanitize: $(SAN_DIR)/test_f64 $(SAN_DIR)/test_f32 $(SAN_DIR)/ram
	$(SAN_DIR)/test_f64
	$(SAN_DIR)/test_f32
	sh tests/cli.sh $(SAN_DIR)/ram

# Fuzz targets for the loaders (tests/fuzz/): the data sets' files,
# checkpoints and metrics.csv, built with clang++ and libFuzzer with address
# and undefined-behaviour sanitizers; each calls the same parsing code the
# program runs on a file's bytes. make_seeds and make_checkpoint_seeds write
# small real files of each kind as their starting inputs.
FUZZ_CXX     ?= clang++
FUZZ_FLAGS   := -std=c++17 -g -O1 -Isrc -Itests -MMD -MP -fsanitize=address,undefined -fno-sanitize-recover=all \
                $(CPPFLAGS) $(addprefix -I,$(STB_INCLUDE) $(DOCTEST_INCLUDE))
FUZZ_TARGETS := idx gzip cifar_binary image checkpoint metrics
# Every layer below the tools, on the portable GEMM path.
FUZZ_SRC     := $(filter-out src/kernels/gemm_avx2.cpp src/kernels/gemm_avx512.cpp,\
                  $(wildcard src/kernels/*.cpp src/model/*.cpp src/datasets/*.cpp src/train/*.cpp))
FUZZ_OBJ     := $(patsubst src/%.cpp,build/fuzz/%.o,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= -1
build/fuzz/.libfuzzer:
	@mkdir -p build/fuzz
	@printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
	  >build/fuzz/probe.cpp
	@$(FUZZ_CXX) -fsanitize=fuzzer,address build/fuzz/probe.cpp -o build/fuzz/probe 2>/dev/null || { \
	  echo "error: make fuzz needs clang++ with libFuzzer ('$(FUZZ_CXX) -fsanitize=fuzzer' failed). Install it:" >&2; \
	  echo "  Debian/Ubuntu: apt-get install clang libclang-rt-dev   (older releases: libclang-common-N-dev)" >&2; \
	  echo "  Fedora: dnf install clang compiler-rt    Arch: pacman -S clang compiler-rt" >&2; \
	  echo "  macOS: Apple's clang has no libFuzzer: brew install llvm, then" >&2; \
	  echo "         make fuzz FUZZ_CXX=\$$(brew --prefix llvm)/bin/clang++" >&2; \
	  exit 1; }
	@touch $@
build/fuzz/%.o: src/%.cpp Makefile build/fuzz/.libfuzzer | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.cpp $(FUZZ_OBJ) Makefile build/fuzz/.libfuzzer
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) -pthread
build/fuzz/make_seeds: tests/fuzz/make_seeds.cpp src/datasets/gzip.cpp Makefile build/fuzz/.libfuzzer | $(DEPS_STAMP)
	$(FUZZ_CXX) -std=c++17 -O1 -Isrc -Itests $(CPPFLAGS) $(addprefix -I,$(STB_INCLUDE)) -o $@ \
	  tests/fuzz/make_seeds.cpp src/datasets/gzip.cpp
build/fuzz/make_checkpoint_seeds: tests/fuzz/make_checkpoint_seeds.cpp $(FUZZ_SRC) Makefile build/fuzz/.libfuzzer | $(DEPS_STAMP)
	$(FUZZ_CXX) -std=c++17 -O1 -Isrc -Itests $(CPPFLAGS) $(addprefix -I,$(STB_INCLUDE)) -o $@ \
	  tests/fuzz/make_checkpoint_seeds.cpp $(FUZZ_SRC) -pthread
build/fuzz/seeds/.made: build/fuzz/make_seeds build/fuzz/make_checkpoint_seeds
	rm -rf build/fuzz/seeds
	build/fuzz/make_seeds build/fuzz/seeds
	build/fuzz/make_checkpoint_seeds build/fuzz/seeds
	@touch $@
.SECONDARY: $(FUZZ_OBJ)
fuzz: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%) build/fuzz/seeds/.made
# One target at a time, in one process, for FUZZ_SECONDS or FUZZ_RUNS inputs
# (-1: no limit), whichever ends first; new inputs are kept in
# build/fuzz/corpus/<target>/, findings written to build/fuzz/.
fuzz-run: fuzz
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t; \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s, $(FUZZ_RUNS) runs"; \
	  build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -runs=$(FUZZ_RUNS) -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/$$t- build/fuzz/corpus/$$t build/fuzz/seeds/$$t || exit 1; \
	done

clean:
	rm -rf build

.PHONY: all test bench run debug test-sanitize fuzz fuzz-run clean
-include $(wildcard build/*/*/*.d build/*/tests/*.d build/sanitize/*/*/*.d build/fuzz/*.d)
