// The optimizers' vector updates against the reference loops on large tensors: the same values
// whatever the thread count (the kernels run on the calling thread; Optimizer::step shares a model's
// update among the threads, tested in train_test.cpp), and a NaN gradient flagged wherever it is.
#include "kernels/update_kernels.hpp"

#include "actlab/random.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <omp.h>
#include <vector>

namespace actlab {
namespace {

struct Buffers {
  std::vector<float> p, g, m, v;
};

Buffers random_buffers(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  Buffers b{std::vector<float>(n), std::vector<float>(n), std::vector<float>(n), std::vector<float>(n)};
  for (std::size_t i = 0; i < n; ++i) {
    b.p[i] = float(rng.normal());
    b.g[i] = float(rng.normal());
    b.m[i] = float(rng.normal());
    b.v[i] = float(rng.uniform());
  }
  return b;
}

template <class Update>
Buffers run(Buffers b, int threads, bool& finite, Update&& update) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  finite = update(b);
  omp_set_num_threads(saved);
  return b;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want) {
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 4e-6f * (1.0f + std::fabs(want[i]))) << i;  // fused multiply-adds
}

TEST(UpdateKernels, LargeTensorsMatchTheReferenceWithOneAndTwoThreads) {
  const std::size_t n = 200003;  // split into pieces, with a short last one
  const Buffers start = random_buffers(n, 11);
  const SgdStep sgd{0.05f, 0.9f, 1e-4f, true, false};
  const AdamStep adam{0.0f, true, 0.9f, 0.999f, 1e-8f, 1e-3f, 1.2f, 0.99999f};
  bool ok1 = false, ok2 = false, ok_ref = false;
  const auto vec_sgd = [&](Buffers& b) { return vector_sgd_update(b.p.data(), b.g.data(), b.m.data(), n, sgd); };
  const auto ref_sgd = [&](Buffers& b) { return reference_sgd_update(b.p.data(), b.g.data(), b.m.data(), n, sgd); };
  const Buffers one = run(start, 1, ok1, vec_sgd), two = run(start, 2, ok2, vec_sgd);
  const Buffers ref = run(start, 1, ok_ref, ref_sgd);
  EXPECT_TRUE(ok1 && ok2 && ok_ref);
  EXPECT_TRUE(one.p == two.p && one.m == two.m);
  expect_close(one.p, ref.p);
  expect_close(one.m, ref.m);

  const auto vec_adam = [&](Buffers& b) {
    return vector_adam_update(b.p.data(), b.g.data(), b.m.data(), b.v.data(), n, adam);
  };
  const auto ref_adam = [&](Buffers& b) {
    return reference_adam_update(b.p.data(), b.g.data(), b.m.data(), b.v.data(), n, adam);
  };
  const Buffers a1 = run(start, 1, ok1, vec_adam), a2 = run(start, 2, ok2, vec_adam);
  const Buffers aref = run(start, 1, ok_ref, ref_adam);
  EXPECT_TRUE(ok1 && ok2 && ok_ref);
  EXPECT_TRUE(a1.p == a2.p && a1.m == a2.m && a1.v == a2.v);
  expect_close(a1.p, aref.p);
}

TEST(UpdateKernels, NonFiniteGradientIsFlaggedInAnyPiece) {
  const std::size_t n = 200003;
  const SgdStep sgd{0.05f, 0.9f, 0.0f, false, false};
  const AdamStep adam{0.0f, true, 0.9f, 0.999f, 1e-8f, 1e-3f, 1.2f, 0.99999f};
  for (const std::size_t at : {std::size_t(0), std::size_t(100000), n - 1}) {
    for (const float bad : {NAN, INFINITY, -INFINITY}) {
      for (const int threads : {1, 2}) {
        Buffers b = random_buffers(n, 12);
        b.g[at] = bad;
        bool finite = true;
        run(b, threads, finite,
            [&](Buffers& x) { return vector_sgd_update(x.p.data(), x.g.data(), x.m.data(), n, sgd); });
        EXPECT_FALSE(finite) << "sgd, " << bad << " at " << at << ", threads " << threads;
        finite = true;
        run(b, threads, finite, [&](Buffers& x) {
          return vector_adam_update(x.p.data(), x.g.data(), x.m.data(), x.v.data(), n, adam);
        });
        EXPECT_FALSE(finite) << "adam, " << bad << " at " << at << ", threads " << threads;
      }
    }
  }
  // and a finite one is not flagged
  Buffers b = random_buffers(n, 12);
  bool finite = false;
  run(b, 1, finite, [&](Buffers& x) { return vector_sgd_update(x.p.data(), x.g.data(), x.m.data(), n, sgd); });
  EXPECT_TRUE(finite);
}

}  // namespace
}  // namespace actlab
