// actlab's own single-threaded matrix product on packed panels (Highway, dispatched at run time),
// for CPUs where it beats the BLAS: on AVX-512 where OpenBLAS runs its AVX2 kernels (gemm.cpp
// chooses). Row-major, the same contract as gemm():
//   C[m, n] = alpha * op(A) op(B) + beta * C, op(X) = X or its transpose; beta = 0 never reads C.
// Each element is one chain of FMAs over k in order: the same bits however C is split into blocks.
#pragma once

namespace actlab {

void packed_gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc);

// True when packed_gemm now dispatches to an AVX-512 version (none on a CPU without it, or with the
// vector instruction sets capped below it: limit_vector_isa, ACTLAB_ISA).
bool packed_gemm_is_avx512();

}  // namespace actlab
