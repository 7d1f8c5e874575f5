#include "kernels/gemm.hpp"
#include "actlab/kernels.hpp"
#include "kernels/packed_gemm.hpp"
#include "kernels/parallel_policy.hpp"

#include <algorithm>
#include <chrono>
#include <cblas.h>
#include <omp.h>

namespace actlab {
namespace {

// Column chunks of at least 128 columns (narrower ones waste the kernel's register blocking), at
// most 8, each a multiple of 16 columns; when the columns give one chunk, row chunks of at least
// 64 rows instead. A function of the shape alone.
struct Grid {
  int row_chunks, col_chunks;
};
Grid chunk_grid(int m, int n) {
  const int cols = std::clamp(n / 128, 1, 8);
  return {cols == 1 ? std::clamp(m / 64, 1, 8) : 1, cols};
}

// Multiply-adds from which the chunks run on parallel threads (about 20 us of work); whether they
// do changes no result, since each chunk is the same single-threaded call either way. One row
// through the seed model's first layer (200K) stays on one thread: its first parallel region in a
// fresh process took 7 ms on the development VM (waking the idle core), the product alone 10 us.
constexpr double parallel_multiply_adds = 1048576.0;

thread_local double seconds_in_gemm = 0.0;

}  // namespace

// Per call: a cap on the vector instruction sets (limit_vector_isa) may change what the packed
// kernel dispatches to.
bool gemm_uses_packed_kernel() {
  (void)kernel_mode();  // applies ACTLAB_ISA first, which decides what the packed kernel dispatches to
  switch (gemm_kernels_setting()) {
    case GemmKernels::blas: return false;
    case GemmKernels::packed: return true;
    case GemmKernels::automatic: break;
  }
  return !blas_has_avx512_kernels() && packed_gemm_is_avx512();
}

namespace {

// The packed kernel's bits do not depend on how C is cut, so its parts are what runs best: one
// call on one thread, one part per thread otherwise. Parts of columns each pack only their own
// columns of B (A is read in place); parts of rows would each pack all of B, so rows are cut only
// where there are too few columns for a 32-column panel per thread.
void packed_in_parts(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                     const float* b, int ldb, float beta, float* c, int ldc) {
  const bool parallel = worth_parallel(double(m) * double(n) * double(k), parallel_multiply_adds);
  const int parts = parallel ? omp_get_max_threads() : 1;
  if (parts == 1) return packed_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  const bool by_rows = n < 32 * parts;
  const int unit = by_rows ? 8 : 32;  // whole tiles of the AVX-512 kernel
  const int size = ((by_rows ? m : n) + parts - 1) / parts, step = (size + unit - 1) / unit * unit;
#pragma omp parallel for schedule(static)
  for (int part = 0; part < parts; ++part) {
    const int begin = part * step, end = std::min((by_rows ? m : n), begin + step);
    if (begin >= end) continue;
    if (by_rows)
      packed_gemm(trans_a, trans_b, end - begin, n, k, alpha, trans_a ? a + begin : a + std::ptrdiff_t(begin) * lda,
                  lda, b, ldb, beta, c + std::ptrdiff_t(begin) * ldc, ldc);
    else
      packed_gemm(trans_a, trans_b, m, end - begin, k, alpha, a, lda,
                  trans_b ? b + std::ptrdiff_t(begin) * ldb : b + begin, ldb, beta, c + begin, ldc);
  }
}

}  // namespace

double gemm_seconds() { return seconds_in_gemm; }

void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float beta, float* c, int ldc) {
  using clock = std::chrono::steady_clock;
  struct Timed {  // adds this call's time on every way out
    clock::time_point start = clock::now();
    ~Timed() { seconds_in_gemm += std::chrono::duration<double>(clock::now() - start).count(); }
  } timed;
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    // C = beta C, A and B not read, as BLAS defines it (sgemv returns before scaling y when k = 0,
    // and the packed kernel would compute 0 x NaN); beta = 0 writes zeros without reading C.
    for (int i = 0; i < m; ++i) {
      float* const row = c + std::ptrdiff_t(i) * ldc;
      if (beta == 0.0f) std::fill_n(row, n, 0.0f);
      else if (beta != 1.0f) std::transform(row, row + n, row, [beta](float v) { return beta * v; });
    }
    return;
  }
  if (m > 1 && gemm_uses_packed_kernel())
    return packed_in_parts(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  const Grid grid = chunk_grid(m, n);
  // n / chunks rounded up, then to a multiple of 16: rounding n / chunks down first lost the last
  // columns where it was already a multiple of 16 (n = 257 in 2 chunks: 2 x 128).
  const int width = ((n + grid.col_chunks - 1) / grid.col_chunks + 15) / 16 * 16;
  const int height = (m + grid.row_chunks - 1) / grid.row_chunks;
  const auto run_chunk = [&](int chunk) {
    const int row = (chunk / grid.col_chunks) * height, col = (chunk % grid.col_chunks) * width;
    const int rows = std::min(height, m - row), cols = std::min(width, n - col);
    if (rows <= 0 || cols <= 0) return;
    // Row block of op(A) and column block of op(B), whichever way each is stored.
    const float* a_block = trans_a ? a + row : a + std::ptrdiff_t(row) * lda;
    const float* b_block = trans_b ? b + std::ptrdiff_t(col) * ldb : b + col;
    float* const c_block = c + std::ptrdiff_t(row) * ldc + col;
    if (rows == 1) {
      // One row of op(A) times op(B) is a matrix-vector product. sgemm would first copy op(B)'s
      // block into its packed layout, all k x cols of it, to use it once: one image through the
      // seed model's first layer took 55 us that way on OpenBLAS's AVX2 kernels, 8-9 as sgemv.
      const int a_step = trans_a ? lda : 1;  // op(A)'s row: a row of A, or a column of A
      // beta = 0 must not read C (it may hold anything); some OpenBLAS versions scale y by beta
      // instead, and 0 * NaN is NaN.
      if (beta == 0.0f) std::fill_n(c_block, cols, 0.0f);
      if (trans_b)  // op(B) = B^T, B stored [n, k]: c = B_block a
        cblas_sgemv(CblasRowMajor, CblasNoTrans, cols, k, alpha, b_block, ldb, a_block, a_step, beta, c_block, 1);
      else  // B stored [k, n]: c = B_block^T a
        cblas_sgemv(CblasRowMajor, CblasTrans, k, cols, alpha, b_block, ldb, a_block, a_step, beta, c_block, 1);
      return;
    }
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, rows, cols,
                k, alpha, a_block, lda, b_block, ldb, beta, c_block, ldc);
  };
  const int chunks = grid.row_chunks * grid.col_chunks;
  if (chunks > 1 && worth_parallel(double(m) * double(n) * double(k), parallel_multiply_adds)) {
    // Inside an active parallel region OpenBLAS runs each call on one thread.
#pragma omp parallel for schedule(static)
    for (int chunk = 0; chunk < chunks; ++chunk) run_chunk(chunk);
    return;
  }
  // Outside any OpenMP construct (an inactive region would make OpenBLAS's own region a nested
  // team with threads of its own), and on one thread, as the parallel chunks run.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  for (int chunk = 0; chunk < chunks; ++chunk) run_chunk(chunk);
  omp_set_num_threads(threads);
}

}  // namespace actlab
