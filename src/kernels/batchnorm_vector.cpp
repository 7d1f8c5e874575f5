// Vector BatchNorm over [rows, features]: lanes run across features (contiguous), and every pass
// walks the rows in order, so memory is read as it lies (a walk down one column block would stride
// by the row length, which for 1024 features maps every row to the same cache set). Per-feature
// sums live in the output arrays (mean, invstd, dgamma, dbeta) and in one per-thread scratch row,
// so each kernel is two passes over memory and allocates nothing once warm. Large inputs split the
// features into contiguous ranges, one per OpenMP thread: the same result for any thread count.
//
// Accuracy: sums are of deviations from a per-feature shift k close to the mean (the first row in
// the forward, the float mean in the backward), which keeps the variance free of cancellation when
// |mean| >> std. Measured against the double-accumulating reference in tests/batchnorm_vector_test.cpp.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/batchnorm_vector.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/batchnorm_vector.hpp"

#include <omp.h>
#include <vector>

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;

// A run of features [c, c + count): whole vectors, or a shorter last one (masked).
struct Lanes {
  D d;
  std::size_t count;
  bool full;
  V load(const float* p) const { return full ? hn::LoadU(d, p) : hn::MaskedLoad(hn::FirstN(d, count), d, p); }
  void store(V v, float* p) const {
    if (full) hn::StoreU(v, d, p);
    else hn::BlendedStore(v, hn::FirstN(d, count), d, p);
  }
};

// Calls body(lanes, c) for every vector of features in [begin, end).
template <class Body>
void for_each_vector(std::size_t begin, std::size_t end, Body&& body) {
  const D d;
  const std::size_t n = hn::Lanes(d);
  for (std::size_t c = begin; c < end; c += n) {
    const std::size_t count = std::min(n, end - c);
    body(Lanes{d, count, count == n}, c);
  }
}

// Splits the features into contiguous ranges (multiples of 16), one per thread when the work is
// large. Each feature's arithmetic is the same whatever range it falls in, so the split (and the
// thread count) does not change any result; whole rows when alone keep the reads contiguous.
template <class Body>
void for_feature_ranges(const BatchNormShape& s, Body&& body) {
  const bool parallel = s.rows * s.features >= parallel_threshold && omp_get_max_threads() > 1;
  const int parts = parallel ? omp_get_max_threads() : 1;
  const std::size_t width = ((s.features + std::size_t(parts) - 1) / std::size_t(parts) + 15) / 16 * 16;
#pragma omp parallel for schedule(static) if (parallel)
  for (int p = 0; p < parts; ++p) {
    const std::size_t begin = std::size_t(p) * width;
    if (begin < s.features) body(begin, std::min(s.features, begin + width));
  }
}

// Per-thread scratch of one row of features, grown once.
float* scratch_row(std::size_t features) {
  static thread_local std::vector<float> row;
  if (row.size() < features) row.resize(features);
  return row.data();
}

void ForwardTrain(float* y, float* mean, float* invstd, float* running_mean, float* running_var,
                  const float* x, const float* gamma, const float* beta, BatchNormShape s, float eps,
                  float momentum) {
  const std::size_t n = s.rows, f = s.features;
  float* mean_d = scratch_row(f);  // mean - k, kept exact for the output pass
  for_feature_ranges(s, [&](std::size_t begin, std::size_t end) {
    // Pass 1: sums of d = x - k and d^2, accumulated in mean and invstd.
    for_each_vector(begin, end, [&](const Lanes& l, std::size_t c) {
      l.store(hn::Zero(l.d), mean + c);
      l.store(hn::Zero(l.d), invstd + c);
    });
    for (std::size_t r = 0; r < n; ++r)
      for_each_vector(begin, end, [&](const Lanes& l, std::size_t c) {
        const V dev = hn::Sub(l.load(x + r * f + c), l.load(x + c));
        l.store(hn::Add(l.load(mean + c), dev), mean + c);
        l.store(hn::MulAdd(dev, dev, l.load(invstd + c)), invstd + c);
      });
    for_each_vector(begin, end, [&](const Lanes& l, std::size_t c) {
      const D d = l.d;
      const V inv_n = hn::Set(d, 1.0f / float(n));
      const V md = hn::Mul(l.load(mean + c), inv_n);
      const V var = hn::Max(hn::NegMulAdd(md, md, hn::Mul(l.load(invstd + c), inv_n)), hn::Zero(d));  // biased
      const V mu = hn::Add(l.load(x + c), md);
      l.store(md, mean_d + c);
      l.store(mu, mean + c);
      l.store(hn::Div(hn::Set(d, 1.0f), hn::Sqrt(hn::Add(var, hn::Set(d, eps)))), invstd + c);
      const V m = hn::Set(d, momentum), keep = hn::Set(d, 1.0f - momentum);
      const V unbiased = hn::Mul(var, hn::Set(d, float(n) / float(n - 1)));
      // A feature whose batch holds a NaN or inf keeps its running statistics untouched.
      const auto finite = hn::And(hn::IsFinite(mu), hn::IsFinite(unbiased));
      const V rm = l.load(running_mean + c), rv = l.load(running_var + c);
      l.store(hn::IfThenElse(finite, hn::MulAdd(keep, rm, hn::Mul(m, mu)), rm), running_mean + c);
      l.store(hn::IfThenElse(finite, hn::MulAdd(keep, rv, hn::Mul(m, unbiased)), rv), running_var + c);
    });
    // Pass 2: y = gamma (x - mean) inv + beta = ((x - k) - mean_d) scale + beta. Row 0 last: it is
    // the shift k, and y may alias x.
    for (std::size_t step = 1; step <= n; ++step) {
      const std::size_t r = step % n;
      for_each_vector(begin, end, [&](const Lanes& l, std::size_t c) {
        const V scale = hn::Mul(l.load(gamma + c), l.load(invstd + c));
        const V dev = hn::Sub(hn::Sub(l.load(x + r * f + c), l.load(x + c)), l.load(mean_d + c));
        l.store(hn::MulAdd(dev, scale, l.load(beta + c)), y + r * f + c);
      });
    }
  });
}

void ForwardEval(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                 const float* running_var, BatchNormShape s, float eps) {
  const std::size_t f = s.features;
  float* scale = scratch_row(f);
  for_feature_ranges(s, [&](std::size_t begin, std::size_t end) {
    for_each_vector(begin, end, [&](const Lanes& l, std::size_t c) {
      const V inv = hn::Div(hn::Set(l.d, 1.0f), hn::Sqrt(hn::Add(l.load(running_var + c), hn::Set(l.d, eps))));
      l.store(hn::Mul(l.load(gamma + c), inv), scale + c);
    });
    for (std::size_t r = 0; r < s.rows; ++r)
      for_each_vector(begin, end, [&](const Lanes& l, std::size_t c) {
        const V dev = hn::Sub(l.load(x + r * f + c), l.load(running_mean + c));
        l.store(hn::MulAdd(dev, l.load(scale + c), l.load(beta + c)), y + r * f + c);
      });
  });
}

void Backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* gamma,
              const float* mean, const float* invstd, BatchNormShape s) {
  const std::size_t n = s.rows, f = s.features;
  float* const sum_dev = scratch_row(4 * f);
  float* const coef_a = sum_dev + f;
  float* const coef_b = coef_a + f;
  float* const coef_c = coef_b + f;
  for_feature_ranges(s, [&](std::size_t begin, std::size_t end) {
    // Pass 1: sums of dy, dy (x - k) and (x - k), with k the float mean, in dbeta, dgamma, sum_dev.
    for_each_vector(begin, end, [&](const Lanes& l, std::size_t c) {
      l.store(hn::Zero(l.d), dbeta + c);
      l.store(hn::Zero(l.d), dgamma + c);
      l.store(hn::Zero(l.d), sum_dev + c);
    });
    for (std::size_t r = 0; r < n; ++r)
      for_each_vector(begin, end, [&](const Lanes& l, std::size_t c) {
        const V g = l.load(dy + r * f + c), dev = hn::Sub(l.load(x + r * f + c), l.load(mean + c));
        l.store(hn::Add(l.load(dbeta + c), g), dbeta + c);
        l.store(hn::MulAdd(g, dev, l.load(dgamma + c)), dgamma + c);
        l.store(hn::Add(l.load(sum_dev + c), dev), sum_dev + c);
      });
    for_each_vector(begin, end, [&](const Lanes& l, std::size_t c) {
      const V inv_n = hn::Set(l.d, 1.0f / float(n));
      const V md = hn::Mul(l.load(sum_dev + c), inv_n);  // the float mean's own rounding error, recovered
      l.store(md, sum_dev + c);
      // sum dy * xhat = (sum dy (x - k) - mean_d sum dy) inv
      l.store(hn::Mul(hn::NegMulAdd(md, l.load(dbeta + c), l.load(dgamma + c)), l.load(invstd + c)), dgamma + c);
    });
    if (!dx) return;
    // dx = gamma inv / n (n dy - dbeta - xhat dgamma), xhat = (x - k - mean_d) inv
    //    = A dy + B (x - k) + C, with A, B, C per feature computed once.
    for_each_vector(begin, end, [&](const Lanes& l, std::size_t c) {
      const V inv_n = hn::Set(l.d, 1.0f / float(n)), inv = l.load(invstd + c);
      const V a = hn::Mul(l.load(gamma + c), inv);
      const V b = hn::Neg(hn::Mul(hn::Mul(a, inv), hn::Mul(l.load(dgamma + c), inv_n)));
      l.store(a, coef_a + c);
      l.store(b, coef_b + c);
      l.store(hn::NegMulAdd(b, l.load(sum_dev + c), hn::Neg(hn::Mul(a, hn::Mul(l.load(dbeta + c), inv_n)))),
              coef_c + c);
    });
    for (std::size_t r = 0; r < n; ++r)
      for_each_vector(begin, end, [&](const Lanes& l, std::size_t c) {
        const V dev = hn::Sub(l.load(x + r * f + c), l.load(mean + c));
        const V rest = hn::MulAdd(l.load(coef_b + c), dev, l.load(coef_c + c));
        l.store(hn::MulAdd(l.load(coef_a + c), l.load(dy + r * f + c), rest), dx + r * f + c);
      });
  });
}

}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace actlab {

HWY_EXPORT(ForwardTrain);
HWY_EXPORT(ForwardEval);
HWY_EXPORT(Backward);

void vector_batchnorm_forward_train(float* y, float* mean, float* invstd, float* running_mean,
                                    float* running_var, const float* x, const float* gamma, const float* beta,
                                    BatchNormShape shape, float eps, float momentum) {
  HWY_DYNAMIC_DISPATCH(ForwardTrain)(y, mean, invstd, running_mean, running_var, x, gamma, beta, shape, eps,
                                     momentum);
}

void vector_batchnorm_forward_eval(float* y, const float* x, const float* gamma, const float* beta,
                                   const float* running_mean, const float* running_var, BatchNormShape shape,
                                   float eps) {
  HWY_DYNAMIC_DISPATCH(ForwardEval)(y, x, gamma, beta, running_mean, running_var, shape, eps);
}

void vector_batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                               const float* gamma, const float* mean, const float* invstd, BatchNormShape shape) {
  HWY_DYNAMIC_DISPATCH(Backward)(dx, dgamma, dbeta, dy, x, gamma, mean, invstd, shape);
}

}  // namespace actlab
#endif
