// The chunked matrix product: right against a double-precision product, and bitwise the same with
// one and two threads for shapes that cut by columns, by rows, or not at all, and for widths that
// do not divide into their chunks (every column computed).
#include "kernels/gemm.hpp"
#include "kernels/packed_gemm.hpp"

#include "every_target.hpp"

#include "actlab/random.hpp"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <omp.h>
#include <vector>

namespace actlab {
namespace {

struct Shape {
  int m, n, k;
  bool trans_a, trans_b;
};

std::vector<float> product(const Shape& s, const std::vector<float>& a, const std::vector<float>& b,
                           const std::vector<float>& c0, int threads) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  std::vector<float> c = c0;
  gemm(s.trans_a, s.trans_b, s.m, s.n, s.k, 0.5f, a.data(), s.trans_a ? s.m : s.k, b.data(), s.trans_b ? s.k : s.n,
       1.0f, c.data(), s.n);
  omp_set_num_threads(saved);
  return c;
}

TEST(Gemm, MatchesDoubleProductAndIsTheSameWithOneAndTwoThreads) {
  const Shape shapes[] = {{128, 256, 784, false, true},  {256, 784, 128, true, false}, {128, 784, 256, false, false},
                          {128, 128, 256, false, true},  {128, 10, 128, false, true},  {1, 256, 784, false, true},
                          {300, 100, 50, true, true},    {2000, 64, 33, false, false},
                          // one row, every layout (a matrix-vector product)
                          {1, 300, 70, true, false},     {1, 129, 64, true, true},    {1, 1000, 50, false, false},
                          // widths whose column chunks round to a multiple of 16 below n / chunks
                          {64, 257, 80, false, true},    {48, 385, 64, false, false}, {32, 1025, 40, true, true}};
  for (const Shape& s : shapes) {
    Rng rng(std::uint64_t(s.m * 7 + s.n * 3 + s.k));
    std::vector<float> a(std::size_t(s.m) * s.k), b(std::size_t(s.k) * s.n), c0(std::size_t(s.m) * s.n);
    for (float& v : a) v = float(rng.normal());
    for (float& v : b) v = float(rng.normal());
    for (float& v : c0) v = float(rng.normal());
    const std::vector<float> one = product(s, a, b, c0, 1), two = product(s, a, b, c0, 2);
    const std::string name = std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
    EXPECT_TRUE(one == two) << name;
    double worst = 0.0;
    for (int i = 0; i < s.m; ++i)
      for (int j = 0; j < s.n; ++j) {
        double sum = 0.0, magnitude = 0.0;
        for (int p = 0; p < s.k; ++p) {
          const double x = s.trans_a ? a[std::size_t(p) * s.m + i] : a[std::size_t(i) * s.k + p];
          const double y = s.trans_b ? b[std::size_t(j) * s.k + p] : b[std::size_t(p) * s.n + j];
          sum += x * y;
          magnitude += std::fabs(x * y);
        }
        const double expected = 0.5 * sum + c0[std::size_t(i) * s.n + j];
        const double bound = 1e-6 * (0.5 * magnitude + std::fabs(c0[std::size_t(i) * s.n + j])) * std::sqrt(s.k);
        worst = std::max(worst, std::fabs(one[std::size_t(i) * s.n + j] - expected) / bound);
      }
    EXPECT_LE(worst, 1.0) << name;  // float accumulation: within sqrt(k) 1e-6 of the magnitude
  }
}

// One row with beta = 0 writes C without reading it (NaN there must not leak in), and takes op(A)'s
// row with any stride: here column 2 of a [k, 3] matrix, op(A) = A^T.
TEST(Gemm, OneRowIgnoresOldOutputAndReadsAStridedRow) {
  const int k = 40, n = 300, lda = 3;
  Rng rng(5);
  std::vector<float> a(std::size_t(k) * lda), b(std::size_t(n) * k);
  for (float& v : a) v = float(rng.normal());
  for (float& v : b) v = float(rng.normal());
  std::vector<float> c(n, std::nanf(""));
  gemm(true, true, 1, n, k, 1.0f, a.data() + 2, lda, b.data(), k, 0.0f, c.data(), n);
  for (int j = 0; j < n; ++j) {
    double sum = 0.0, magnitude = 0.0;
    for (int p = 0; p < k; ++p) {
      sum += double(a[std::size_t(p) * lda + 2]) * b[std::size_t(j) * k + p];
      magnitude += std::fabs(double(a[std::size_t(p) * lda + 2]) * b[std::size_t(j) * k + p]);
    }
    ASSERT_NEAR(c[j], sum, 1e-6 * magnitude * std::sqrt(k)) << "column " << j;
  }
}

// k = 0 or alpha = 0: C = beta C without reading A or B (NaN there must not reach C), whichever
// kernel runs the shape (one row, several rows), as BLAS defines it.
TEST(Gemm, EmptySumOrZeroAlphaOnlyScalesC) {
  const float nan = std::nanf("");
  const std::vector<float> a(4 * 3, nan), b(3 * 5, nan);
  for (const int m : {1, 4}) {
    for (const float beta : {0.0f, 0.5f, 1.0f}) {
      std::vector<float> c(std::size_t(m) * 5, 2.0f);
      gemm(false, false, m, 5, 0, 1.0f, a.data(), 3, b.data(), 5, beta, c.data(), 5);
      for (const float v : c) EXPECT_EQ(v, 2.0f * beta) << "k = 0, m = " << m << ", beta = " << beta;
      std::fill(c.begin(), c.end(), 2.0f);
      gemm(false, false, m, 5, 3, 0.0f, a.data(), 3, b.data(), 5, beta, c.data(), 5);
      for (const float v : c) EXPECT_EQ(v, 2.0f * beta) << "alpha = 0, m = " << m << ", beta = " << beta;
    }
  }
}

// actlab's packed kernel on its own, on every instruction set: tiles cut at every edge (m and n
// not multiples of the tile, n within one vector), both layouts of both operands, leading
// dimensions wider than the matrices, alpha and beta, and beta = 0 over a C full of NaN. Each
// element must be within the float accumulation bound of the double product, and the packed result
// must not depend on how C is split into column blocks.
TEST(PackedGemm, MatchesDoubleProductOnEveryTarget) {
  struct Case {
    int m, n, k;
    bool trans_a, trans_b;
    float alpha, beta;
  };
  const Case cases[] = {{128, 256, 784, false, true, 1, 0}, {256, 784, 128, true, false, 1, 0},
                        {37, 45, 19, false, false, 0.5f, 0.7f}, {9, 10, 33, true, true, 1, 0},
                        {8, 32, 1, false, true, 2, -1},     {7, 17, 100, true, false, 1, 0.3f},
                        {300, 3, 5, false, false, 1, 0},    {1, 70, 64, false, true, 1, 0},
                        {20, 20, 0, false, false, 1, 0.5f}};
  on_every_target([&] {
    for (const Case& t : cases) {
      const int lda = (t.trans_a ? t.m : t.k) + 3, ldb = (t.trans_b ? t.k : t.n) + 2, ldc = t.n + 5;
      Rng rng(std::uint64_t(t.m * 31 + t.n * 7 + t.k));
      std::vector<float> a(std::size_t(t.trans_a ? t.k : t.m) * lda), b(std::size_t(t.trans_b ? t.n : t.k) * ldb);
      std::vector<float> c0(std::size_t(t.m) * ldc);
      for (float& v : a) v = float(rng.normal());
      for (float& v : b) v = float(rng.normal());
      for (float& v : c0) v = t.beta == 0 ? std::nanf("") : float(rng.normal());
      std::vector<float> c = c0;
      packed_gemm(t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, a.data(), lda, b.data(), ldb, t.beta, c.data(), ldc);
      const std::string name = std::to_string(t.m) + "x" + std::to_string(t.n) + "x" + std::to_string(t.k);
      for (int i = 0; i < t.m; ++i) {
        for (int j = 0; j < t.n; ++j) {
          double sum = 0.0, magnitude = 0.0;
          for (int p = 0; p < t.k; ++p) {
            const double x = t.trans_a ? a[std::size_t(p) * lda + i] : a[std::size_t(i) * lda + p];
            const double y = t.trans_b ? b[std::size_t(j) * ldb + p] : b[std::size_t(p) * ldb + j];
            sum += x * y;
            magnitude += std::fabs(x * y);
          }
          const double old = t.beta == 0 ? 0.0 : double(c0[std::size_t(i) * ldc + j]);
          const double expected = t.alpha * sum + t.beta * old;
          const double scale = std::fabs(t.alpha) * magnitude + std::fabs(t.beta * old);
          const double bound = 1e-6 * scale * std::sqrt(t.k + 1) + 1e-30;
          ASSERT_LE(std::fabs(c[std::size_t(i) * ldc + j] - expected), bound) << name << " at " << i << "," << j;
        }
        for (int j = t.n; j < ldc; ++j)  // past n: untouched
          ASSERT_TRUE(std::memcmp(&c[std::size_t(i) * ldc + j], &c0[std::size_t(i) * ldc + j], sizeof(float)) == 0)
              << name << " wrote past column " << t.n;
      }
      // Two column blocks give the same bits as one call.
      if (t.n >= 2) {
        std::vector<float> split = c0;
        const int left = t.n / 2;
        packed_gemm(t.trans_a, t.trans_b, t.m, left, t.k, t.alpha, a.data(), lda, b.data(), ldb, t.beta, split.data(),
                    ldc);
        packed_gemm(t.trans_a, t.trans_b, t.m, t.n - left, t.k, t.alpha, a.data(), lda,
                    t.trans_b ? b.data() + std::size_t(left) * ldb : b.data() + left, ldb, t.beta, split.data() + left,
                    ldc);
        EXPECT_TRUE(std::memcmp(split.data(), c.data(), c.size() * sizeof(float)) == 0) << name;
      }
    }
  });
}

}  // namespace
}  // namespace actlab
