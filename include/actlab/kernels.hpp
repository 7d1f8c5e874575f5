// Which implementation of the elementwise and BatchNorm kernels runs.
//
// The scalar reference kernels are the specification; the vector kernels (Highway, dispatched at
// run time to the best instruction set this CPU has) are tested against them. The reference can
// be forced for comparison with the environment variable ACTLAB_KERNELS=reference, the CLI's
// `--kernels reference`, or set_kernel_mode.
#pragma once

#include <string>

namespace actlab {

enum class KernelMode { vector, reference };

// The mode in force: ACTLAB_KERNELS (vector | reference) when set, vector otherwise, until
// set_kernel_mode changes it. Throws std::invalid_argument for another value of ACTLAB_KERNELS (or
// a bad ACTLAB_ISA, below).
KernelMode kernel_mode();
void set_kernel_mode(KernelMode mode);
// Parses "vector" or "reference"; throws std::invalid_argument naming the bad value.
KernelMode parse_kernel_mode(const std::string& text);

// The instruction set the vector kernels dispatch to on this CPU, e.g. "AVX2", "SSE4", "EMU128".
std::string vector_isa();

// Caps the instruction set the vector kernels may use at `name` (case-insensitive: "avx3",
// "avx2", "sse4", "ssse3", "emu128" or "scalar" as built, or "best" for no cap), from the next
// kernel call on: to compare instruction sets on one machine, or to run what a CPU without
// AVX-512 runs. A CPU without the named set runs the best one it has below it. The environment
// variable ACTLAB_ISA does the same before the first kernel call (an explicit call wins). Call it
// while no kernel runs: it changes what every later call dispatches to. Throws
// std::invalid_argument naming the value and the choices; kernel_mode() throws the same for a bad
// ACTLAB_ISA.
void limit_vector_isa(const std::string& name);

// The kernels the matrix products run on, for reports: "OpenBLAS, SkylakeX kernels", or on a CPU
// with AVX-512 where OpenBLAS runs older kernels, actlab's own packed AVX-512 kernel for all but
// one-row products. "(OPENBLAS_CORETYPE=...)" when that variable chose OpenBLAS's
// kernels. The environment variable ACTLAB_GEMM=blas keeps every product on the BLAS,
// ACTLAB_GEMM=packed puts all but one-row products on actlab's kernel, auto (the default) chooses
// as above. Different kernels round differently: the same seed gives the same bits on the same
// kernels. Throws std::invalid_argument for another value of ACTLAB_GEMM (kernel_mode() too).
std::string describe_matrix_products();

}  // namespace actlab
