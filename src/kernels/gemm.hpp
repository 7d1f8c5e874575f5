// Matrix products for the layers, on OpenBLAS or actlab's packed kernel (below), with results that
// do not depend on the thread count.
//
// OpenBLAS splits some shapes differently for different thread counts, and then rounds differently
// (seen for 128x256x784 between 1 and 2 threads). Here C is cut into chunks (of columns, or of rows
// when the columns are few) whose number depends only on the shape; each chunk is one
// single-threaded OpenBLAS call, and the chunks run in parallel when the work is large enough.
// actlab's packed kernel gives the same bits however C is cut, so it runs one part per thread.
// Same inputs, same bits, for any number of threads.
#pragma once

#include <string>

namespace actlab {

// Row-major C[m, n] = alpha * op(A) op(B) + beta * C, op(X) = X or its transpose.
// A is [m, k] (or [k, m] when trans_a) with leading dimension lda; B is [k, n] (or [n, k]) with ldb.
void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc);

// Wall seconds spent inside gemm() on the calling thread since it started: the trainer reports an
// epoch's matrix-product time from it (two clock reads per call, ~50 ns against microseconds).
double gemm_seconds();

// Which kernels run the products (blas_kernels.cpp). By default actlab's packed kernel
// (packed_gemm.hpp) where it dispatches to AVX-512 and OpenBLAS runs AVX2 or older kernels (OpenBLAS
// does on AVX-512 CPUs it does not know, or when OPENBLAS_CORETYPE names an older core): there it
// ran every product of the seed model 1.4-2.1x faster than OpenBLAS's Haswell kernels (AMD Zen 5,
// one core). One-row products stay on OpenBLAS's sgemv. ACTLAB_GEMM=blas or =packed forces one.
enum class GemmKernels { automatic, blas, packed };
GemmKernels gemm_kernels_setting();  // ACTLAB_GEMM, read once; throws std::invalid_argument for a bad value
const std::string& openblas_core_name();  // "" where the BLAS does not say
bool blas_has_avx512_kernels();
// Whether products of more than one row run on the packed kernel now (a cap on the vector
// instruction sets, limit_vector_isa, may change it).
bool gemm_uses_packed_kernel();

}  // namespace actlab
