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
#include "kernels/load_tail-inl.hpp"
#include "kernels/parallel_policy.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;

// Whole vectors of features, and the shorter last one (masked). Kernels take either as `auto`,
// so the loop over whole vectors carries no per-vector branch.
struct FullLanes {
  D d;
  V load(const float* p) const { return hn::LoadU(d, p); }
  void store(V v, float* p) const { hn::StoreU(v, d, p); }
};
struct PartLanes {
  D d;
  std::size_t count;
  V load(const float* p) const { return LoadFirstN(d, p, count); }
  void store(V v, float* p) const { hn::BlendedStore(v, hn::FirstN(d, count), d, p); }
};
// The first `count` lanes of a whole vector that lies within the range being worked on (the head
// before an aligned address): loads read the whole vector and zero the other lanes, stores write
// the other lanes back as they were (before any later vector writes them). Whole-vector moves
// where PartLanes copies lane by lane, which once per row would cost a third of the pass.
struct HeadLanes {
  D d;
  std::size_t count;
  V load(const float* p) const { return hn::IfThenElseZero(hn::FirstN(d, count), hn::LoadU(d, p)); }
  void store(V v, float* p) const { hn::StoreU(hn::IfThenElse(hn::FirstN(d, count), v, hn::LoadU(d, p)), d, p); }
};

// The features before row + begin reaches a vector-aligned address (fewer than a vector; 0 when
// already aligned, or when [begin, end) is shorter than a vector). The passes take them as a
// HeadLanes vector first, so that the whole vectors after lie within cache lines: std::vector's
// data is typically 16 bytes off. Measured at 1024x1024, 1 thread, all arrays 16 bytes off, medians
// of 6 alternated runs: backward 0.68 -> 0.52 ns per value, forward + backward 1.00 -> 0.84, eval
// 0.136 -> 0.128 (64-byte aligned arrays: 0.77 and 0.119 before, unchanged). Every row shares the
// alignment of the first when the row length is a multiple of the vector.
std::size_t head_features(const float* row, std::size_t begin, std::size_t end) {
  const std::size_t n = hn::Lanes(D());
  const std::size_t misalign = (reinterpret_cast<std::uintptr_t>(row + begin) / sizeof(float)) % n;
  return misalign && end - begin >= n ? n - misalign : 0;
}

// Calls body(lanes, c) for every vector of features in [begin, end): first the `head` features
// (see head_features), then whole vectors, then the shorter rest.
template <class Body>
void for_each_vector(std::size_t begin, std::size_t end, Body&& body, std::size_t head = 0) {
  const D d;
  const std::size_t n = hn::Lanes(d);
  std::size_t c = begin;
  if (head) {
    body(HeadLanes{d, head}, c);
    c += head;
  }
  for (; c + n <= end; c += n) body(FullLanes{d}, c);
  if (c < end) body(PartLanes{d, end - c}, c);
}

// The summing passes take rows in tiles of a few: per-feature sums stay in registers across a tile,
// and a tile of rows still reads memory as it lies. Sums keep the row order, so tiling changes no bit.
constexpr std::size_t row_tile = 4;

// Calls body(lanes, c, r0, r1) for each tile of rows [r0, r1) within [first, last), and in each
// tile for every vector of features in [begin, end), aligned as `data`'s rows.
template <class Body>
void for_each_tile(const float* data, std::size_t first, std::size_t last, std::size_t begin, std::size_t end,
                   Body&& body) {
  const std::size_t head = head_features(data, begin, end);
  for (std::size_t r0 = first; r0 < last; r0 += row_tile) {
    const std::size_t r1 = std::min(last, r0 + row_tile);
    for_each_vector(begin, end, [&](const auto& l, std::size_t c) { body(l, c, r0, r1); }, head);
  }
}

// Stores out[r][c] = compute(lanes, k, r, c) for rows [first, last) and features [begin, end), where
// k = load_constants(lanes, c) holds the per-feature constants of the vector at c. Rows go two at a
// time, walked as they lie (one read and one write stream per row, as a plain copy), and each
// vector's constants are loaded once for both rows; all four vectors of a step are computed before
// any is stored (an output may alias its input). 1 thread, medians of 15 alternations in one
// process: 1024x1024 eval 0.145 ns per value walking single rows, 0.132 in pairs, and 0.18-0.22 in
// the earlier tiles of 4 rows down a vector of features; 128x512 eval 0.133 -> 0.103.
template <class LoadConstants, class Compute>
void store_rows(float* out, std::size_t stride, std::size_t first, std::size_t last, std::size_t begin,
                std::size_t end, LoadConstants&& load_constants, Compute&& compute) {
  const D d;
  const std::size_t n = hn::Lanes(d);
  const FullLanes full{d};
  // Features [c0, c1) of rows [r0, r1), a vector at a time.
  const auto rest = [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
    for_each_vector(c0, c1, [&](const auto& l, std::size_t c) {
      const auto k = load_constants(l, c);
      for (std::size_t r = r0; r < r1; ++r) l.store(compute(l, k, r, c), out + r * stride + c);
    });
  };
  const std::size_t head = head_features(out + first * stride, begin, end);
  std::size_t r = first;
  for (; r + 2 <= last; r += 2) {
    float* const row0 = out + r * stride;
    float* const row1 = row0 + stride;
    if (head) {
      const HeadLanes l{d, head};
      const auto k = load_constants(l, begin);
      l.store(compute(l, k, r, begin), row0 + begin);
      l.store(compute(l, k, r + 1, begin), row1 + begin);
    }
    std::size_t c = begin + head;
    for (; c + 2 * n <= end; c += 2 * n) {
      const auto k0 = load_constants(full, c), k1 = load_constants(full, c + n);
      const V a0 = compute(full, k0, r, c), a1 = compute(full, k1, r, c + n);
      const V b0 = compute(full, k0, r + 1, c), b1 = compute(full, k1, r + 1, c + n);
      hn::StoreU(a0, d, row0 + c);
      hn::StoreU(a1, d, row0 + c + n);
      hn::StoreU(b0, d, row1 + c);
      hn::StoreU(b1, d, row1 + c + n);
    }
    rest(r, r + 2, c, end);
  }
  if (r < last) rest(r, last, begin, end);
}

// Splits the features into contiguous ranges (multiples of 16), one per thread when the work is
// large. Each feature's arithmetic is the same whatever range it falls in, so the split (and the
// thread count) does not change any result; whole rows when alone keep the reads contiguous.
template <class Body>
void for_feature_ranges(const BatchNormShape& s, Body&& body) {
  if (!worth_parallel(double(s.rows * s.features), parallel_threshold)) {
    body(std::size_t(0), s.features);
    return;
  }
  const int parts = omp_get_max_threads();
  const std::size_t width = ((s.features + std::size_t(parts) - 1) / std::size_t(parts) + 15) / 16 * 16;
#pragma omp parallel for schedule(static)
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
  float* mean_d = scratch_row(2 * f);  // mean - k, kept exact for the output pass; then the scale
  for_feature_ranges(s, [&](std::size_t begin, std::size_t end) {
    // Pass 1: sums of d = x - k and d^2, accumulated in mean and invstd.
    for_each_vector(begin, end, [&](const auto& l, std::size_t c) {
      l.store(hn::Zero(l.d), mean + c);
      l.store(hn::Zero(l.d), invstd + c);
    });
    for_each_tile(x, 0, n, begin, end, [&](const auto& l, std::size_t c, std::size_t r0, std::size_t r1) {
      const V k = l.load(x + c);
      V sum = l.load(mean + c), sum_sq = l.load(invstd + c);
      for (std::size_t r = r0; r < r1; ++r) {
        const V dev = hn::Sub(l.load(x + r * f + c), k);
        sum = hn::Add(sum, dev);
        sum_sq = hn::MulAdd(dev, dev, sum_sq);
      }
      l.store(sum, mean + c);
      l.store(sum_sq, invstd + c);
    });

    for_each_vector(begin, end, [&](const auto& l, std::size_t c) {
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
    // The scale gamma invstd, computed once per feature into the scratch row's second half.
    float* const scale = mean_d + f;
    for_each_vector(begin, end, [&](const auto& l, std::size_t c) {
      l.store(hn::Mul(l.load(gamma + c), l.load(invstd + c)), scale + c);
    });
    struct Constants {
      V k, mean_d, scale, beta;
    };
    const auto constants = [&](const auto& l, std::size_t c) {
      return Constants{l.load(x + c), l.load(mean_d + c), l.load(scale + c), l.load(beta + c)};
    };
    const auto normalize = [&](const auto& l, const Constants& k, std::size_t r, std::size_t c) {
      return hn::MulAdd(hn::Sub(hn::Sub(l.load(x + r * f + c), k.k), k.mean_d), k.scale, k.beta);
    };
    store_rows(y, f, 1, n, begin, end, constants, normalize);
    store_rows(y, f, 0, 1, begin, end, constants, normalize);
  });
}

void ForwardEval(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                 const float* running_var, BatchNormShape s, float eps) {
  const std::size_t f = s.features;
  float* scale = scratch_row(f);
  for_feature_ranges(s, [&](std::size_t begin, std::size_t end) {
    for_each_vector(begin, end, [&](const auto& l, std::size_t c) {
      const V inv = hn::Div(hn::Set(l.d, 1.0f), hn::Sqrt(hn::Add(l.load(running_var + c), hn::Set(l.d, eps))));
      l.store(hn::Mul(l.load(gamma + c), inv), scale + c);
    });
    struct Constants {
      V mu, scale, beta;
    };
    store_rows(
        y, f, 0, s.rows, begin, end,
        [&](const auto& l, std::size_t c) {
          return Constants{l.load(running_mean + c), l.load(scale + c), l.load(beta + c)};
        },
        [&](const auto& l, const Constants& k, std::size_t r, std::size_t c) {
          return hn::MulAdd(hn::Sub(l.load(x + r * f + c), k.mu), k.scale, k.beta);
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
    for_each_vector(begin, end, [&](const auto& l, std::size_t c) {
      l.store(hn::Zero(l.d), dbeta + c);
      l.store(hn::Zero(l.d), dgamma + c);
      l.store(hn::Zero(l.d), sum_dev + c);
    });
    for_each_tile(dy, 0, n, begin, end, [&](const auto& l, std::size_t c, std::size_t r0, std::size_t r1) {
      const V k = l.load(mean + c);
      V sum_g = l.load(dbeta + c), sum_gd = l.load(dgamma + c), sum_d = l.load(sum_dev + c);
      for (std::size_t r = r0; r < r1; ++r) {
        const V g = l.load(dy + r * f + c), dev = hn::Sub(l.load(x + r * f + c), k);
        sum_g = hn::Add(sum_g, g);
        sum_gd = hn::MulAdd(g, dev, sum_gd);
        sum_d = hn::Add(sum_d, dev);
      }
      l.store(sum_g, dbeta + c);
      l.store(sum_gd, dgamma + c);
      l.store(sum_d, sum_dev + c);
    });

    for_each_vector(begin, end, [&](const auto& l, std::size_t c) {
      const V inv_n = hn::Set(l.d, 1.0f / float(n));
      const V md = hn::Mul(l.load(sum_dev + c), inv_n);  // the float mean's own rounding error, recovered
      l.store(md, sum_dev + c);
      // sum dy * xhat = (sum dy (x - k) - mean_d sum dy) inv
      l.store(hn::Mul(hn::NegMulAdd(md, l.load(dbeta + c), l.load(dgamma + c)), l.load(invstd + c)), dgamma + c);
    });
    if (!dx) return;
    // dx = gamma inv / n (n dy - dbeta - xhat dgamma), xhat = (x - k - mean_d) inv
    //    = A dy + B (x - k) + C, with A, B, C per feature computed once.
    for_each_vector(begin, end, [&](const auto& l, std::size_t c) {
      const V inv_n = hn::Set(l.d, 1.0f / float(n)), inv = l.load(invstd + c);
      const V a = hn::Mul(l.load(gamma + c), inv);
      const V b = hn::Neg(hn::Mul(hn::Mul(a, inv), hn::Mul(l.load(dgamma + c), inv_n)));
      l.store(a, coef_a + c);
      l.store(b, coef_b + c);
      l.store(hn::NegMulAdd(b, l.load(sum_dev + c), hn::Neg(hn::Mul(a, hn::Mul(l.load(dbeta + c), inv_n)))),
              coef_c + c);
    });
    struct Constants {
      V k, a, b, c;
    };
    store_rows(
        dx, f, 0, n, begin, end,
        [&](const auto& l, std::size_t c) {
          return Constants{l.load(mean + c), l.load(coef_a + c), l.load(coef_b + c), l.load(coef_c + c)};
        },
        [&](const auto& l, const Constants& k, std::size_t r, std::size_t c) {
          return hn::MulAdd(k.a, l.load(dy + r * f + c), hn::MulAdd(k.b, hn::Sub(l.load(x + r * f + c), k.k), k.c));
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
