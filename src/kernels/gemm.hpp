// Matrix products for the layers, on OpenBLAS, with results that do not depend on the thread count.
//
// OpenBLAS splits some shapes differently for different thread counts, and then rounds differently
// (seen for 128x256x784 between 1 and 2 threads). Here C is cut into chunks (of columns, or of rows
// when the columns are few) whose number depends only on the shape; each chunk is one
// single-threaded OpenBLAS call, and the chunks run in parallel when the work is large enough.
// Same inputs, same bits, for any number of threads.
#pragma once

namespace actlab {

// Row-major C[m, n] = alpha * op(A) op(B) + beta * C, op(X) = X or its transpose.
// A is [m, k] (or [k, m] when trans_a) with leading dimension lda; B is [k, n] (or [n, k]) with ldb.
void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc);

// Wall seconds spent inside gemm() on the calling thread since it started: the trainer reports an
// epoch's matrix-product time from it (two clock reads per call, ~50 ns against microseconds).
double gemm_seconds();

}  // namespace actlab
