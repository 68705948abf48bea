# ram: the Recurrent Attention Model in plain C++17.
#   make          build build/ram
#   make run      fetch MNIST, train a short default run, print the test error,
#                 draw its glimpses (runs/quick/glimpses.png)
#   make test     build and run every unit test (gradients in double precision)
#   make bench    GEMM GFLOP/s, training and inference images/s
#   make debug    build/ram-debug with -g and address/undefined sanitizers
#   make clean    remove build/

CXX      ?= g++
CXXFLAGS ?= -O3
# -fno-math-errno: std::sqrt may then skip setting errno for a negative
# argument, which nothing here reads, and the Adam update's loop vectorises
# (with errno it is a branch per element, and stays scalar).
# -fno-trapping-math: nothing here reads the floating-point exception flags;
# without it GCC keeps a branch per element for a float std::min or std::max
# (the clamp in kernels/fast_exp.h), and the LSTM's gate loops stay scalar
# below AVX-512. Neither flag changes a computed value.
CXXFLAGS += -std=c++17 -Wall -Wextra -pthread -MMD -MP -Isrc -fno-math-errno -fno-trapping-math
LDFLAGS  += -pthread

# SIMD kernels: x86-64 gets AVX2 and AVX-512 files, chosen at run time by
# CPUID; every machine gets the portable scalar path. Set SIMD=none to build
# the scalar path alone.
ARCH := $(shell $(CXX) -dumpmachine 2>/dev/null | cut -d- -f1)
SIMD ?= $(if $(filter x86_64 amd64,$(ARCH)),x86,none)
SIMD_SRC := src/kernels/gemm_avx2.cpp src/kernels/gemm_avx512.cpp
ifeq ($(SIMD),x86)
  CXXFLAGS += -DRAM_X86_KERNELS
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

# Debian's libstb-dev and doctest-dev: installed here when missing and root.
DEPS_STAMP := build/.deps
$(DEPS_STAMP):
	@mkdir -p build
	@sh data/install_deps.sh
	@touch $@

build/ram: $(F32_OBJ) build/f32/tools/main.o
	$(CXX) $(LDFLAGS) -o $@ $^

# Every object also depends on this file, so that a change of flags rebuilds it.
build/f32/%.o: src/%.cpp Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c -o $@ $<
build/f64/%.o: src/%.cpp Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -DRAM_DOUBLE -c -o $@ $<
build/f32/tests/%.o: tests/%.cpp Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c -o $@ $<
build/f64/tests/%.o: tests/%.cpp Makefile | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -DRAM_DOUBLE -c -o $@ $<

# Only the kernel files are compiled for the wider instruction sets.
build/f32/kernels/gemm_avx2.o build/f64/kernels/gemm_avx2.o: CXXFLAGS += -mavx2 -mfma
build/f32/kernels/gemm_avx512.o build/f64/kernels/gemm_avx512.o: CXXFLAGS += -mavx512f -mavx512vl -mfma

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
               $(if $(filter x86,$(SIMD)),-DRAM_X86_KERNELS)
DEBUG_OBJ   := $(patsubst src/%.cpp,build/debug/%.o,$(filter-out $(SIMD_SRC_SKIP),$(wildcard src/*/*.cpp)))
build/debug/%.o: src/%.cpp | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(DEBUG_FLAGS) -c -o $@ $<
build/debug/kernels/gemm_avx2.o: DEBUG_FLAGS += -mavx2 -mfma
build/debug/kernels/gemm_avx512.o: DEBUG_FLAGS += -mavx512f -mavx512vl -mfma
debug: build/ram-debug
build/ram-debug: $(DEBUG_OBJ)
	$(CXX) $(DEBUG_FLAGS) -o $@ $^

clean:
	rm -rf build

.PHONY: all test bench run debug clean
-include $(wildcard build/*/*/*.d build/*/tests/*.d)
