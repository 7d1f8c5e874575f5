// The vector BatchNorm kernels against the double-accumulating reference, on every instruction set:
// awkward feature counts (vector tails, unaligned rows), large means, aliasing, and the same bits
// for any thread count.
#include "actlab/batchnorm.hpp"
#include "actlab/kernels.hpp"
#include "actlab/random.hpp"
#include "kernels/batchnorm_vector.hpp"
#include "every_target.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <gtest/gtest.h>
#include <omp.h>

namespace actlab {
namespace {

struct Outputs {
  std::vector<float> y, mean, invstd, rmean, rvar, dx, dgamma, dbeta, y_eval;
};

Outputs run_all(KernelMode mode, const std::vector<float>& x, const std::vector<float>& dy,
                const std::vector<float>& gamma, const std::vector<float>& beta, BatchNormShape s) {
  set_kernel_mode(mode);
  const std::size_t f = s.features, n = x.size();
  Outputs o{std::vector<float>(n), std::vector<float>(f), std::vector<float>(f), std::vector<float>(f, 0.5f),
            std::vector<float>(f, 2.0f), std::vector<float>(n), std::vector<float>(f), std::vector<float>(f),
            std::vector<float>(n)};
  batchnorm_forward_train(o.y, o.mean, o.invstd, o.rmean, o.rvar, x, gamma, beta, s, 1e-5f, 0.1f);
  batchnorm_backward(o.dx, o.dgamma, o.dbeta, dy, x, gamma, o.mean, o.invstd, s);
  batchnorm_forward_eval(o.y_eval, x, gamma, beta, o.rmean, o.rvar, s, 1e-5f);
  set_kernel_mode(KernelMode::vector);
  return o;
}

// |a - e| <= atol + rtol |e| elementwise, reporting the worst.
void expect_close(const std::vector<float>& a, const std::vector<float>& e, const std::string& what,
                  double rtol, double atol) {
  ASSERT_EQ(a.size(), e.size());
  double worst = 0.0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double excess = std::fabs(double(a[i]) - e[i]) / (atol + rtol * std::fabs(e[i]));
    if (!(excess <= worst)) worst = excess, at = i;
  }
  EXPECT_LE(worst, 1.0) << what << "[" << at << "]: expected " << e[at] << ", vector " << a[at];
}

struct Case {
  std::size_t rows, features;
  float mean, spread;
};

TEST(BatchNormVector, AgreesWithReference) {
  // Feature counts around every lane width (4, 8, 16) and a large one; a large-mean case.
  const Case cases[] = {{2, 1, 0, 1},     {3, 7, 0, 1},       {16, 15, 1, 2},    {16, 17, -3, 0.5f},
                        {128, 33, 0, 1},  {64, 256, 2, 3},    {5, 100, 1000, 0.05f}, {300, 129, -50, 10}};
  for (const Case& c : cases) {
    const BatchNormShape s{c.rows, c.features};
    Rng rng(c.rows * 131 + c.features);
    std::vector<float> x(c.rows * c.features), dy(x.size()), gamma(c.features), beta(c.features);
    for (std::size_t i = 0; i < x.size(); ++i) {
      x[i] = c.mean + c.spread * float(rng.normal()) + float(i % c.features) * 0.01f;
      dy[i] = float(rng.normal());
    }
    for (std::size_t j = 0; j < c.features; ++j) gamma[j] = rng.uniform(0.5f, 1.5f), beta[j] = rng.uniform(-1, 1);
    const Outputs r = run_all(KernelMode::reference, x, dy, gamma, beta, s);
    const std::string name = "rows " + std::to_string(c.rows) + " features " + std::to_string(c.features);
    on_every_target([&] {  // rows of 7, 15, 17... features start unaligned: tails on every target
    const Outputs v = run_all(KernelMode::vector, x, dy, gamma, beta, s);
    // Stated bound: float accumulation of shifted values, 1e-5 relative on sums of up to 300 rows.
    expect_close(v.y, r.y, name + " y", 1e-4, 1e-4);
    expect_close(v.mean, r.mean, name + " mean", 1e-6, 1e-6);
    expect_close(v.invstd, r.invstd, name + " invstd", 1e-4, 1e-6);
    expect_close(v.rmean, r.rmean, name + " running_mean", 1e-6, 1e-6);
    expect_close(v.rvar, r.rvar, name + " running_var", 1e-4, 1e-6);
    expect_close(v.dx, r.dx, name + " dx", 1e-3, 1e-4);
    expect_close(v.dgamma, r.dgamma, name + " dgamma", 1e-4, 1e-4);
    expect_close(v.dbeta, r.dbeta, name + " dbeta", 1e-5, 1e-4);
    expect_close(v.y_eval, r.y_eval, name + " eval y", 1e-5, 1e-5);
    });
  }
}

TEST(BatchNormVector, InPlaceAndThreadCountGiveTheSameBits) {
  const BatchNormShape s{2048, 520};  // above the parallel threshold (1M values)
  static_assert(2048 * 520 >= parallel_threshold);
  Rng rng(5);
  std::vector<float> x(s.rows * s.features), dy(x.size()), gamma(s.features, 1.2f), beta(s.features, 0.1f);
  for (float& v : x) v = float(rng.normal());
  for (float& v : dy) v = float(rng.normal());
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const Outputs one = run_all(KernelMode::vector, x, dy, gamma, beta, s);
  omp_set_num_threads(2);
  const Outputs two = run_all(KernelMode::vector, x, dy, gamma, beta, s);
  omp_set_num_threads(saved);
  EXPECT_EQ(one.y, two.y);
  EXPECT_EQ(one.dx, two.dx);
  EXPECT_EQ(one.dgamma, two.dgamma);

  std::vector<float> y = x, mean(s.features), invstd(s.features), rm(s.features, 0.5f), rv(s.features, 2.0f);
  batchnorm_forward_train(y, mean, invstd, rm, rv, y, gamma, beta, s, 1e-5f, 0.1f);  // y aliases x
  EXPECT_EQ(y, one.y);
  std::vector<float> dx = dy, dgamma(s.features), dbeta(s.features);
  batchnorm_backward(dx, dgamma, dbeta, dx, x, gamma, mean, invstd, s);  // dx aliases dy
  EXPECT_EQ(dx, one.dx);
}

// Every output of the three kernels, one after the other, from copies of the inputs placed
// `offset` floats past a 64-byte boundary (the outputs likewise).
std::vector<float> outputs_at(std::size_t offset, const std::vector<float>& x, const std::vector<float>& dy,
                              const std::vector<float>& gamma, const std::vector<float>& beta, BatchNormShape s) {
  const std::size_t n = x.size(), f = s.features;
  std::vector<float> store(5 * (n + 32) + 16);
  const auto at = [&](std::size_t k) {
    float* base = store.data() + k * (n + 32);
    while (reinterpret_cast<std::uintptr_t>(base) % 64) ++base;
    return std::span<float>(base + offset, n);
  };
  const auto xs = at(0), dys = at(1), y = at(2), dx = at(3), y_eval = at(4);
  std::copy(x.begin(), x.end(), xs.begin());
  std::copy(dy.begin(), dy.end(), dys.begin());
  std::vector<float> mean(f), invstd(f), rm(f, 0.5f), rv(f, 2.0f), dgamma(f), dbeta(f);
  batchnorm_forward_train(y, mean, invstd, rm, rv, xs, gamma, beta, s, 1e-5f, 0.1f);
  batchnorm_backward(dx, dgamma, dbeta, dys, xs, gamma, mean, invstd, s);
  batchnorm_forward_eval(y_eval, xs, gamma, beta, rm, rv, s, 1e-5f);
  std::vector<float> out;
  for (const std::span<float> a : {y, dx, y_eval}) out.insert(out.end(), a.begin(), a.end());
  for (const auto* v : {&mean, &invstd, &rm, &rv, &dgamma, &dbeta}) out.insert(out.end(), v->begin(), v->end());
  return out;
}

// The passes start each row with the features before a vector-aligned address. Where a row starts
// must not change a bit: every offset from a 64-byte boundary, with rows that keep it (48 features)
// and rows that do not (40), on every target.
TEST(BatchNormVector, SameBitsAtEveryAlignment) {
  for (const std::size_t features : {std::size_t(48), std::size_t(40)}) {
    const BatchNormShape s{37, features};
    Rng rng(features);
    std::vector<float> x(s.rows * features), dy(x.size()), gamma(features), beta(features);
    for (float& v : x) v = 0.5f + 2.0f * float(rng.normal());
    for (float& v : dy) v = float(rng.normal());
    for (std::size_t j = 0; j < features; ++j) gamma[j] = rng.uniform(0.5f, 1.5f), beta[j] = rng.uniform(-1, 1);
    on_every_target([&] {
      const std::vector<float> aligned = outputs_at(0, x, dy, gamma, beta, s);
      for (std::size_t offset = 1; offset < 16; ++offset)
        EXPECT_EQ(outputs_at(offset, x, dy, gamma, beta, s), aligned) << features << " features, " << offset
                                                                      << " floats off";
    });
  }
}

// Above the parallel threshold the features split into one range per thread, each starting with
// its own short vector when the rows are unaligned: 1 thread aligned and 2 threads at 3 floats off
// give the same bits, on every target.
TEST(BatchNormVector, SameBitsInRangesOfUnalignedRows) {
  const BatchNormShape s{1024, 1032};
  static_assert(1024 * 1032 >= parallel_threshold);
  Rng rng(9);
  std::vector<float> x(s.rows * s.features), dy(x.size()), gamma(s.features, 0.9f), beta(s.features, -0.2f);
  for (float& v : x) v = float(rng.normal());
  for (float& v : dy) v = float(rng.normal());
  const int saved = omp_get_max_threads();
  on_every_target([&] {
    omp_set_num_threads(1);
    const std::vector<float> one = outputs_at(0, x, dy, gamma, beta, s);
    omp_set_num_threads(2);
    EXPECT_EQ(outputs_at(3, x, dy, gamma, beta, s), one);
  });
  omp_set_num_threads(saved);
}

}  // namespace
}  // namespace actlab
