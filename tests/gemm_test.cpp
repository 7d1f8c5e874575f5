// The chunked matrix product: right against a double-precision product, and bitwise the same with
// one and two threads for shapes that cut by columns, by rows, or not at all, and for widths that
// do not divide into their chunks (every column computed).
#include "kernels/gemm.hpp"

#include "actlab/random.hpp"

#include <cmath>
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

}  // namespace
}  // namespace actlab
