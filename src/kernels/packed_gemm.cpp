// actlab's own single-threaded matrix product (packed_gemm.hpp), written once on Highway and
// dispatched at run time.
//
// A packed scheme without cache blocks of K, as the layer shapes here have K <= a few thousand:
// op(B) is copied into panels of 2 vectors of columns (k x 2N each, zero-padded), op(A)'s rows are
// read where they lie, and a kMr x 2N tile of C is kept in 2 kMr vector accumulators while k runs:
// per k, two loads of B, kMr broadcasts of A and 2 kMr FMAs. Each element of C is one chain of FMAs
// over p = 0..k-1 in order, so its bits depend neither on the tiling nor on how a caller splits C
// into blocks.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/packed_gemm.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/aligned_allocator.h>
#include <hwy/highway.h>

#include "kernels/packed_gemm.hpp"

#include <algorithm>
#include <cstddef>
#include <new>

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace {

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Rows per tile: 2 kMr accumulators, 2 B vectors and a broadcast fit AVX-512's 32 registers with 8
// rows; the 16 of AVX2 and below with 6.
#if HWY_TARGET <= HWY_AVX3
constexpr std::size_t kMr = 8;
#else
constexpr std::size_t kMr = 6;
#endif

// One growing buffer per thread for the packed panels: nothing allocated once the shapes repeat.
float* scratch(std::size_t floats) {
  thread_local hwy::AlignedFreeUniquePtr<float[]> buffer;
  thread_local std::size_t capacity = 0;
  if (floats > capacity) {
    buffer = hwy::AllocateAligned<float>(floats);
    if (!buffer) throw std::bad_alloc();
    capacity = floats;
  }
  return buffer.get();
}

// tile[r][c] = sum_p op(A)[i0 + r][p] b_panel[p][c] for r < kMr, c < kVecs N (one FMA chain per
// element), op(A)'s rows read where they are (`a` at row i0): a row of A, or with kTransA a column.
// Rows past `height` repeat the last one (their results are not stored).
// Out of line, into `tile` (kMr rows of kVecs N): inlined into the loops around it, GCC kept the B
// vectors on the stack and read them from there for every FMA (half the speed).
template <std::size_t kVecs, bool kTransA>
HWY_NOINLINE void Tile(const float* HWY_RESTRICT a, std::size_t lda, std::size_t height,
                       const float* HWY_RESTRICT b_panel, std::size_t k, float* HWY_RESTRICT tile) {
  const DF d;
  const std::size_t N = hn::Lanes(d);
  const float* rows[kMr];  // op(A)[i0 + r][p] = rows[r][p * step]
  for (std::size_t r = 0; r < kMr; ++r) rows[r] = a + std::min(r, height - 1) * (kTransA ? 1 : lda);
  const std::size_t step = kTransA ? lda : 1;
  VF acc[kMr][2];
  for (std::size_t r = 0; r < kMr; ++r) acc[r][0] = acc[r][1] = hn::Zero(d);
  if constexpr (kVecs == 2) {
    for (std::size_t p = 0; p < k; ++p) {
      const VF b0 = hn::Load(d, b_panel + p * 2 * N), b1 = hn::Load(d, b_panel + p * 2 * N + N);
      for (std::size_t r = 0; r < kMr; ++r) {
        const VF v = hn::Set(d, rows[r][p * step]);
        acc[r][0] = hn::MulAdd(v, b0, acc[r][0]);
        acc[r][1] = hn::MulAdd(v, b1, acc[r][1]);
      }
    }
  } else {
    for (std::size_t p = 0; p < k; ++p) {
      const VF b0 = hn::Load(d, b_panel + p * N);
      for (std::size_t r = 0; r < kMr; ++r) acc[r][0] = hn::MulAdd(hn::Set(d, rows[r][p * step]), b0, acc[r][0]);
    }
  }
  for (std::size_t r = 0; r < kMr; ++r) {
    hn::Store(acc[r][0], d, tile + r * kVecs * N);
    if constexpr (kVecs == 2) hn::Store(acc[r][1], d, tile + r * kVecs * N + N);
  }
}

// The product with panels of kVecs vectors of columns.
template <std::size_t kVecs>
void Product(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
             std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  const DF d;
  const std::size_t N = hn::Lanes(d), nr = kVecs * N;
  // Rows of A taken at a time: about 256 KB of them, so that they stay in the core's L2 while every
  // B panel passes over them (all of A at once ran 1000x256x784 at half the speed).
  const std::size_t block_rows = std::max(kMr, (std::size_t(65536) / std::max<std::size_t>(k, 1)) / kMr * kMr);
  const std::size_t b_panels = (n + nr - 1) / nr;
  float* const packed_b = scratch(b_panels * nr * k);
  // op(B)[p][j] into panels [panel][p][column], zero past n.
  for (std::size_t panel = 0; panel < b_panels; ++panel) {
    float* out = packed_b + panel * nr * k;
    const std::size_t j0 = panel * nr, width = std::min(nr, n - j0);
    for (std::size_t p = 0; p < k; ++p, out += nr) {
      std::size_t col = 0;
      if (trans_b)
        for (; col < width; ++col) out[col] = b[(j0 + col) * ldb + p];
      else
        for (; col < width; ++col) out[col] = b[p * ldb + j0 + col];
      for (; col < nr; ++col) out[col] = 0.0f;
    }
  }
  const VF valpha = hn::Set(d, alpha), vbeta = hn::Set(d, beta);
  HWY_ALIGN float tile[kMr * 2 * HWY_MAX_BYTES / sizeof(float)];
  HWY_ALIGN float edge[2 * HWY_MAX_BYTES / sizeof(float)] = {};  // one row of a cut tile
  for (std::size_t block = 0; block < m; block += block_rows) {
    const std::size_t a_panels = (std::min(block_rows, m - block) + kMr - 1) / kMr;
    // Column panels outside, so that one B panel (k x nr) stays in the nearest cache while the A
    // panels pass under it.
    for (std::size_t bp = 0; bp < b_panels; ++bp) {
      const std::size_t j0 = bp * nr, width = std::min(nr, n - j0);
      const float* const b_panel = packed_b + bp * nr * k;
      for (std::size_t ap = 0; ap < a_panels; ++ap) {
        const std::size_t i0 = block + ap * kMr, height = std::min(kMr, m - i0);
        // op(A)'s rows are read in place: packing them cost a third of the products' time on
        // 10000 rows (they are used once per column panel, and broadcast one value at a time).
        if (trans_a)
          Tile<kVecs, true>(a + i0, lda, height, b_panel, k, tile);
        else
          Tile<kVecs, false>(a + i0 * lda, lda, height, b_panel, k, tile);
        // C = alpha tile + beta C; with beta = 0, C is not read (it may hold anything). A tile cut
        // by n's edge goes through `edge`, with the same vector operations, so that a column rounds
        // the same wherever the tiles fall (MulAdd is two roundings where there is no FMA).
        for (std::size_t r = 0; r < height; ++r) {
          float* row = c + (i0 + r) * ldc + j0;
          float* const out = width == nr ? row : edge;
          if (out == edge && beta != 0.0f) std::copy_n(row, width, edge);
          for (std::size_t h = 0; h < kVecs; ++h) {
            VF v = hn::Mul(valpha, hn::Load(d, tile + r * nr + h * N));
            if (beta != 0.0f) v = hn::MulAdd(vbeta, hn::LoadU(d, out + h * N), v);
            hn::StoreU(v, d, out + h * N);
          }
          if (out == edge) std::copy_n(edge, width, row);
        }
      }
    }
  }
}

}  // namespace

void PackedGemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                const float* b, int ldb, float beta, float* c, int ldc) {
  const DF d;
  // Columns that fit one vector take panels of one (n = 10: 10 of 16 lanes used, not 10 of 32).
  const auto product = std::size_t(n) <= hn::Lanes(d) ? Product<1> : Product<2>;
  product(trans_a, trans_b, std::size_t(m), std::size_t(n), std::size_t(k), alpha, a, std::size_t(lda), b,
          std::size_t(ldb), beta, c, std::size_t(ldc));
}

// Whether this copy was compiled for AVX-512 (Highway numbers better x86 targets with lower bits:
// AVX3 and everything above it).
bool PackedIsAvx512() { return HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3; }

}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace actlab {
HWY_EXPORT(PackedGemm);
HWY_EXPORT(PackedIsAvx512);

bool packed_gemm_is_avx512() { return HWY_DYNAMIC_DISPATCH(PackedIsAvx512)(); }

void packed_gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc) {
  if (m <= 0 || n <= 0) return;
  HWY_DYNAMIC_DISPATCH(PackedGemm)(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
}  // namespace actlab
#endif
