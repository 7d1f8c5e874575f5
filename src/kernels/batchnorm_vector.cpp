// Vector BatchNorm over [rows, features]: lanes run across features (contiguous), the loops run
// down the rows of one block of features with the per-feature sums in registers, so each kernel is
// two passes over memory (statistics, then output) and allocates nothing. Feature blocks are
// independent, so large inputs split them over OpenMP threads with the same result for any count.
//
// Accuracy: sums are of deviations from a per-feature shift k close to the mean (the first row in
// the forward, the float mean in the backward), which keeps the variance free of cancellation when
// |mean| >> std. Measured against the double-accumulating reference in tests/batchnorm_vector_test.cpp.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/batchnorm_vector.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/batchnorm_vector.hpp"

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;

// Loads and stores of one block of features: whole vectors, or the first `count` lanes at the end.
struct Block {
  D d;
  std::size_t count;
  bool full;
  V load(const float* p) const { return full ? hn::LoadU(d, p) : hn::MaskedLoad(hn::FirstN(d, count), d, p); }
  void store(V v, float* p) const {
    if (full) hn::StoreU(v, d, p);
    else hn::BlendedStore(v, hn::FirstN(d, count), d, p);
  }
};

// Runs body(block, c) for every block of features, in parallel when the work is large enough.
template <class Body>
void for_each_block(const BatchNormShape& s, Body&& body) {
  const D d;
  const std::size_t lanes = hn::Lanes(d);
  const auto blocks = std::ptrdiff_t((s.features + lanes - 1) / lanes);
  const bool parallel = s.rows * s.features >= parallel_threshold;
#pragma omp parallel for schedule(static) if (parallel)
  for (std::ptrdiff_t b = 0; b < blocks; ++b) {
    const std::size_t c = std::size_t(b) * lanes, count = std::min(lanes, s.features - c);
    body(Block{d, count, count == lanes}, c);
  }
}

void ForwardTrain(float* y, float* mean, float* invstd, float* running_mean, float* running_var,
                  const float* x, const float* gamma, const float* beta, BatchNormShape s, float eps,
                  float momentum) {
  const std::size_t n = s.rows, f = s.features;
  for_each_block(s, [&](const Block& blk, std::size_t c) {
    const D d = blk.d;
    const V k = blk.load(x + c);
    V s1 = hn::Zero(d), s2 = hn::Zero(d);
    for (std::size_t r = 0; r < n; ++r) {
      const V dev = hn::Sub(blk.load(x + r * f + c), k);
      s1 = hn::Add(s1, dev);
      s2 = hn::MulAdd(dev, dev, s2);
    }
    const V inv_n = hn::Set(d, 1.0f / float(n));
    const V mean_d = hn::Mul(s1, inv_n);
    const V var = hn::Max(hn::NegMulAdd(mean_d, mean_d, hn::Mul(s2, inv_n)), hn::Zero(d));  // biased
    const V inv = hn::Div(hn::Set(d, 1.0f), hn::Sqrt(hn::Add(var, hn::Set(d, eps))));
    const V mu = hn::Add(k, mean_d);
    blk.store(mu, mean + c);
    blk.store(inv, invstd + c);
    const V m = hn::Set(d, momentum), keep = hn::Set(d, 1.0f - momentum);
    const V unbiased = hn::Mul(var, hn::Set(d, float(n) / float(n - 1)));
    // A feature whose batch holds a NaN or inf keeps its running statistics untouched.
    const auto finite = hn::And(hn::IsFinite(mu), hn::IsFinite(unbiased));
    const V rm = blk.load(running_mean + c), rv = blk.load(running_var + c);
    blk.store(hn::IfThenElse(finite, hn::MulAdd(keep, rm, hn::Mul(m, mu)), rm), running_mean + c);
    blk.store(hn::IfThenElse(finite, hn::MulAdd(keep, rv, hn::Mul(m, unbiased)), rv), running_var + c);
    // y = gamma (x - mean) inv + beta = (x - k) scale + (beta - mean_d scale)
    const V scale = hn::Mul(blk.load(gamma + c), inv);
    const V shift = hn::NegMulAdd(mean_d, scale, blk.load(beta + c));
    for (std::size_t r = 0; r < n; ++r)
      blk.store(hn::MulAdd(hn::Sub(blk.load(x + r * f + c), k), scale, shift), y + r * f + c);
  });
}

void ForwardEval(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                 const float* running_var, BatchNormShape s, float eps) {
  const std::size_t f = s.features;
  for_each_block(s, [&](const Block& blk, std::size_t c) {
    const D d = blk.d;
    const V inv = hn::Div(hn::Set(d, 1.0f), hn::Sqrt(hn::Add(blk.load(running_var + c), hn::Set(d, eps))));
    const V scale = hn::Mul(blk.load(gamma + c), inv);
    const V mu = blk.load(running_mean + c);
    const V b = blk.load(beta + c);
    for (std::size_t r = 0; r < s.rows; ++r)
      blk.store(hn::MulAdd(hn::Sub(blk.load(x + r * f + c), mu), scale, b), y + r * f + c);
  });
}

void Backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* gamma,
              const float* mean, const float* invstd, BatchNormShape s) {
  const std::size_t n = s.rows, f = s.features;
  for_each_block(s, [&](const Block& blk, std::size_t c) {
    const D d = blk.d;
    const V k = blk.load(mean + c), inv = blk.load(invstd + c);
    V sum_dy = hn::Zero(d), sum_dy_dev = hn::Zero(d), sum_dev = hn::Zero(d);
    for (std::size_t r = 0; r < n; ++r) {
      const V g = blk.load(dy + r * f + c), dev = hn::Sub(blk.load(x + r * f + c), k);
      sum_dy = hn::Add(sum_dy, g);
      sum_dy_dev = hn::MulAdd(g, dev, sum_dy_dev);
      sum_dev = hn::Add(sum_dev, dev);
    }
    const V inv_n = hn::Set(d, 1.0f / float(n));
    const V mean_d = hn::Mul(sum_dev, inv_n);  // the float mean's own rounding error, recovered
    const V dg = hn::Mul(hn::NegMulAdd(mean_d, sum_dy, sum_dy_dev), inv);  // sum dy * xhat
    blk.store(dg, dgamma + c);
    blk.store(sum_dy, dbeta + c);
    if (!dx) return;
    // dx = gamma inv / n (n dy - dbeta - xhat dgamma), xhat = (x - k - mean_d) inv
    //    = A dy + B (x - k) + C
    const V a = hn::Mul(blk.load(gamma + c), inv);
    const V b = hn::Neg(hn::Mul(hn::Mul(a, inv), hn::Mul(dg, inv_n)));
    const V cc = hn::NegMulAdd(b, mean_d, hn::Neg(hn::Mul(a, hn::Mul(sum_dy, inv_n))));
    for (std::size_t r = 0; r < n; ++r) {
      const V dev = hn::Sub(blk.load(x + r * f + c), k);
      blk.store(hn::MulAdd(a, blk.load(dy + r * f + c), hn::MulAdd(b, dev, cc)), dx + r * f + c);
    }
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
