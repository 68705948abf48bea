// vectorize.h: RAM_VECTORIZE, for the elementwise loops (the LSTM's gates,
// the optimizer's update). The program is built for baseline x86-64, whose
// vectors are 4 floats wide (SSE2); marked functions are compiled once more
// for AVX2 and once for AVX-512 (GCC's function multi-versioning), and the
// loader picks the widest clone the CPU runs, as gemm.cpp does for the matrix
// product. Elsewhere (ARM, other compilers) the mark is empty and the
// function is compiled once, as usual.
//
// The clones may round differently (the wider ones contract a * b + c into
// one FMA), so numbers can differ between machines; on one machine a run
// stays fixed by its seed.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define RAM_VECTORIZE __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RAM_VECTORIZE
#endif
