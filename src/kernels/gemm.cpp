#include "kernels/gemm.hpp"
#include "kernels/parallel_policy.hpp"

#include <algorithm>
#include <cblas.h>

namespace actlab {
namespace {

// Chunks of at least 128 columns (narrower ones waste the kernel's register blocking), at most 8,
// each a multiple of 16 columns: a function of n alone.
int column_chunks(int n) { return std::clamp(n / 128, 1, 8); }

// Multiply-adds from which the chunks run on parallel threads (about 1 us of work); whether they
// do changes no result, since each chunk is one call either way.
constexpr double parallel_multiply_adds = 65536.0;

}  // namespace

void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc) {
  const int chunks = column_chunks(n);
  const int width = (n / chunks + 15) / 16 * 16;
  const bool parallel =
      chunks > 1 && double(m) * double(n) * double(k) >= parallel_multiply_adds * double(parallel_size_scale());
#pragma omp parallel for schedule(static) if (parallel)
  for (int chunk = 0; chunk < chunks; ++chunk) {
    const int first = chunk * width, cols = std::min(width, n - first);
    if (cols <= 0) continue;
    // Column block of op(B): rows of B when it is transposed, columns otherwise.
    const float* b_block = trans_b ? b + std::ptrdiff_t(first) * ldb : b + first;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, cols, k,
                alpha, a, lda, b_block, ldb, beta, c + first, ldc);
  }
}

}  // namespace actlab
