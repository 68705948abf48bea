// gemm_bench.h: how fast each GEMM path runs the model's products (`ram bench`).
//
// Single-thread numbers, as gemm itself runs: the caller splits a batch over
// threads, each with its own gemm calls.
#pragma once

#include "kernels/gemm.h"
#include "model/model.h"

// The single-core fp32 peak of a path in GFLOP/s, measured with a loop of
// independent multiply-add chains that never touches memory: the ceiling any
// GEMM on that path can reach. 0 if the path is not available.
double fma_peak_gflops(GemmPath path);

class ThreadPool;

// The same loop on every thread of the pool at once: the flops of all of them
// over the wall time. Below threads x the one-thread peak when the threads
// share FMA units (two hardware threads of one core, or a virtual machine
// whose CPUs are that); training on all threads is measured against this.
double fma_peak_gflops(GemmPath path, ThreadPool& pool);

// Prints a table to stdout: for every available path and every layer shape of
// the model `config`, with M = batch, the GFLOP/s of the forward product
// Y = X W and of the backward ones dX = dY W^T and dW += X^T dY, best and
// median of several timed repetitions, as a fraction of the path's peak; on
// the active path also the first two on W's and W^T's column panels.
void print_gemm_benchmark(const ModelConfig& config, int batch);
