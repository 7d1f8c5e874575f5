// Vector BatchNorm over [rows, features]: lanes run across features (contiguous), and every pass
// walks the rows in order, so memory is read as it lies (a walk down one column block would stride
// by the row length, which for 1024 features maps every row to the same cache set). Per-feature
// sums and constants live in a scratch block of the calling thread (Slots), so each kernel is two
// passes over memory and allocates nothing once warm. Large inputs split the features into
// contiguous ranges, one per OpenMP thread, each with its own part of the block: the same result
// for any thread count.
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

// Whole vectors of features, and a shorter one (masked): a row's head before an aligned address,
// or its rest. Kernels take either as `auto`, so the loop over whole vectors carries no per-vector
// branch.
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

// The features before row + begin reaches a vector-aligned address (fewer than a vector, 0 when
// already aligned; at most end - begin). The passes take them as a short vector first, so that the
// whole vectors after lie within cache lines: std::vector's data is typically 16 bytes off.
// Measured at 1024x1024, 1 thread, all arrays 16 bytes off, medians of 6 alternated runs: backward
// 0.68 -> 0.52 ns per value, forward + backward 1.00 -> 0.84, eval 0.136 -> 0.128 (64-byte aligned
// arrays: 0.77 and 0.119 before, unchanged). Every row shares the alignment of the first when the
// row length is a multiple of the vector.
std::size_t head_features(const float* row, std::size_t begin, std::size_t end) {
  const std::size_t n = hn::Lanes(D());
  const std::size_t misalign = (reinterpret_cast<std::uintptr_t>(row + begin) / sizeof(float)) % n;
  return misalign ? std::min(n - misalign, end - begin) : 0;
}

// Calls body(lanes, c) for every vector of features in [begin, end): first the `head` features
// (see head_features), then whole vectors, then the shorter rest.
template <class Body>
void for_each_vector(std::size_t begin, std::size_t end, Body&& body, std::size_t head = 0) {
  const D d;
  const std::size_t n = hn::Lanes(d);
  std::size_t c = begin;
  if (head) {
    body(PartLanes{d, head}, c);
    c += head;
  }
  for (; c + n <= end; c += n) body(FullLanes{d}, c);
  if (c < end) body(PartLanes{d, end - c}, c);
}

// The summing passes take rows in tiles of a few: per-feature sums stay in registers across a tile,
// and a tile of rows still reads memory as it lies. Sums keep the row order, so tiling changes no bit.
constexpr std::size_t row_tile = 4;

// Calls body(lanes, c, r0, r1) for each tile of rows [r0, r1) within [first, last), and in each
// tile for every vector of features in [begin, end), the first `head` features alone.
template <class Body>
void for_each_tile(std::size_t first, std::size_t last, std::size_t begin, std::size_t end, std::size_t head,
                   Body&& body) {
  for (std::size_t r0 = first; r0 < last; r0 += row_tile) {
    const std::size_t r1 = std::min(last, r0 + row_tile);
    for_each_vector(begin, end, [&](const auto& l, std::size_t c) { body(l, c, r0, r1); }, head);
  }
}

// Stores out[r][c] = compute(lanes, k, r, c) for rows [first, last) and features [begin, end), where
// k = load_constants(c) holds the per-feature constants of the vector at c, the first `head`
// features alone. Rows go two at a time, walked as they lie (one read and one write stream per row,
// as a plain copy), and each vector's constants are loaded once for both rows; all four vectors of
// a step are computed before any is stored (an output may alias its input). 1 thread, medians of
// 15 alternations in one process: 1024x1024 eval 0.145 ns per value walking single rows, 0.132 in
// pairs, and 0.18-0.22 in the earlier tiles of 4 rows down a vector of features; 128x512 eval
// 0.133 -> 0.103.
template <class LoadConstants, class Compute>
void store_rows(float* out, std::size_t stride, std::size_t first, std::size_t last, std::size_t begin,
                std::size_t end, std::size_t head, LoadConstants&& load_constants, Compute&& compute) {
  const D d;
  const std::size_t n = hn::Lanes(d);
  const FullLanes full{d};
  // Features [c0, c1) of rows [r0, r1), a vector at a time (the first h features alone).
  const auto rest = [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1, std::size_t h) {
    for_each_vector(c0, c1, [&](const auto& l, std::size_t c) {
      const auto k = load_constants(c);
      for (std::size_t r = r0; r < r1; ++r) l.store(compute(l, k, r, c), out + r * stride + c);
    }, h);
  };
  std::size_t r = first;
  for (; r + 2 <= last; r += 2) {
    float* const row0 = out + r * stride;
    float* const row1 = row0 + stride;
    rest(r, r + 2, begin, begin + head, 0);
    std::size_t c = begin + head;
    for (; c + 2 * n <= end; c += 2 * n) {
      const auto k0 = load_constants(c), k1 = load_constants(c + n);
      const V a0 = compute(full, k0, r, c), a1 = compute(full, k1, r, c + n);
      const V b0 = compute(full, k0, r + 1, c), b1 = compute(full, k1, r + 1, c + n);
      hn::StoreU(a0, d, row0 + c);
      hn::StoreU(a1, d, row0 + c + n);
      hn::StoreU(b0, d, row1 + c);
      hn::StoreU(b1, d, row1 + c + n);
    }
    rest(r, r + 2, c, end, 0);
  }
  if (r < last) rest(r, last, begin, end, head);
}

// The per-feature values of one range of features, `m` vectors per slot and one slot for each
// vector of features the passes take (the head, the whole vectors, the rest), in whole aligned
// vectors: the values one step reads lie together. Kept in m arrays of one row each, they sat a
// multiple of 4 KB apart, at 1024 features in the same cache set as each other and as every row;
// a standalone output pass (1024x1024, 1 thread) took 0.136 ns per value with them in separate
// rows and 0.105 interleaved. `actlab bench`, 1 thread, 6 alternated runs, against the separate
// rows: 1024x1024 forward + backward 0.83 -> 0.55 ns, eval 0.126 -> 0.107; 128x512 forward +
// backward 0.53 -> 0.45, but eval 0.083 -> 0.097 (in a standalone run with other addresses,
// 0.102 -> 0.092: the separate rows were fast or slow by where they fell).
template <std::size_t kValues>
struct Slots {
  static constexpr std::size_t m = kValues;
  float* base;
  std::size_t head;
  std::size_t bias;  // n - head - begin: the vector at c has slot (c + bias) / n; slot 0 is the head's
                     // (unused when head is 0)
  float* at(std::size_t c, std::size_t i) const {
    const std::size_t n = hn::Lanes(D());  // a constant on fixed-width targets
    return base + ((c + bias) / n * m + i) * n;
  }
  V load(std::size_t c, std::size_t i) const { return hn::Load(D(), at(c, i)); }
  void store(V v, std::size_t c, std::size_t i) const { hn::Store(v, D(), at(c, i)); }
};

// Splits the features into contiguous ranges (multiples of 16), one per thread when the work is
// large, and calls body(begin, end, slots) for each, with `m` values per slot in a scratch block of
// the calling thread, grown once. The head is taken from `rows`, the array whose alignment the
// passes follow. Each feature's arithmetic is the same whatever range or lane it falls in, so
// neither the split, and with it the thread count, nor the alignment changes any result.
template <std::size_t m, class Body>
void for_feature_ranges(const BatchNormShape& s, const float* rows, Body&& body) {
  const std::size_t n = hn::Lanes(D());
  const bool parallel = worth_parallel(double(s.rows * s.features), parallel_threshold);
  const std::size_t parts = parallel ? std::size_t(omp_get_max_threads()) : 1;
  const std::size_t width = parallel ? ((s.features + parts - 1) / parts + 15) / 16 * 16 : s.features;
  const std::size_t block = (width / n + 2) * m * n;  // floats per range: slots 0 to width / n + 1
  static thread_local std::vector<float> scratch;
  const std::size_t need = parts * block + n;
  if (scratch.size() < need) scratch.resize(need);
  float* base = scratch.data();
  while (reinterpret_cast<std::uintptr_t>(base) % (n * sizeof(float))) ++base;
  const auto range = [&](std::size_t p) {
    const std::size_t begin = p * width, end = std::min(s.features, begin + width);
    if (begin >= end) return;
    const std::size_t head = head_features(rows, begin, end);
    body(begin, end, Slots<m>{base + p * block, head, n - head - begin});
  };
  if (!parallel) return range(0);
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t p = 0; p < std::ptrdiff_t(parts); ++p) range(std::size_t(p));
}

void ForwardTrain(float* y, float* mean, float* invstd, float* running_mean, float* running_var,
                  const float* x, const float* gamma, const float* beta, BatchNormShape s, float eps,
                  float momentum) {
  const std::size_t n = s.rows, f = s.features;
  // Slot values: 0 the shift k (row 0 of x); 1 and 2 the sums of d = x - k and d^2, then mean - k
  // (exact for the output pass) and the scale gamma invstd; 3 beta.
  for_feature_ranges<4>(s, y, [&](std::size_t begin, std::size_t end, const Slots<4>& k) {
    for_each_vector(begin, end, [&](const auto& l, std::size_t c) {
      k.store(l.load(x + c), c, 0);
      k.store(hn::Zero(l.d), c, 1);
      k.store(hn::Zero(l.d), c, 2);
      k.store(l.load(beta + c), c, 3);
    }, k.head);
    // Pass 1: the sums.
    for_each_tile(0, n, begin, end, k.head, [&](const auto& l, std::size_t c, std::size_t r0, std::size_t r1) {
      const V shift = k.load(c, 0);
      V sum = k.load(c, 1), sum_sq = k.load(c, 2);
      for (std::size_t r = r0; r < r1; ++r) {
        const V dev = hn::Sub(l.load(x + r * f + c), shift);
        sum = hn::Add(sum, dev);
        sum_sq = hn::MulAdd(dev, dev, sum_sq);
      }
      k.store(sum, c, 1);
      k.store(sum_sq, c, 2);
    });

    for_each_vector(begin, end, [&](const auto& l, std::size_t c) {
      const D d = l.d;
      const V inv_n = hn::Set(d, 1.0f / float(n));
      const V md = hn::Mul(k.load(c, 1), inv_n);
      const V var = hn::Max(hn::NegMulAdd(md, md, hn::Mul(k.load(c, 2), inv_n)), hn::Zero(d));  // biased
      const V mu = hn::Add(k.load(c, 0), md);
      const V inv = hn::Div(hn::Set(d, 1.0f), hn::Sqrt(hn::Add(var, hn::Set(d, eps))));
      l.store(mu, mean + c);
      l.store(inv, invstd + c);
      k.store(md, c, 1);
      k.store(hn::Mul(l.load(gamma + c), inv), c, 2);
      const V m = hn::Set(d, momentum), keep = hn::Set(d, 1.0f - momentum);
      const V unbiased = hn::Mul(var, hn::Set(d, float(n) / float(n - 1)));
      // A feature whose batch holds a NaN or inf keeps its running statistics untouched.
      const auto finite = hn::And(hn::IsFinite(mu), hn::IsFinite(unbiased));
      const V rm = l.load(running_mean + c), rv = l.load(running_var + c);
      l.store(hn::IfThenElse(finite, hn::MulAdd(keep, rm, hn::Mul(m, mu)), rm), running_mean + c);
      l.store(hn::IfThenElse(finite, hn::MulAdd(keep, rv, hn::Mul(m, unbiased)), rv), running_var + c);
    }, k.head);
    // Pass 2: y = gamma (x - mean) inv + beta = ((x - k) - (mean - k)) scale + beta. y may alias x:
    // k is in the slots already.
    struct Constants {
      V shift, mean_d, scale, beta;
    };
    store_rows(
        y, f, 0, n, begin, end, k.head,
        [&](std::size_t c) { return Constants{k.load(c, 0), k.load(c, 1), k.load(c, 2), k.load(c, 3)}; },
        [&](const auto& l, const Constants& q, std::size_t r, std::size_t c) {
          return hn::MulAdd(hn::Sub(hn::Sub(l.load(x + r * f + c), q.shift), q.mean_d), q.scale, q.beta);
        });
  });
}

void ForwardEval(float* y, const float* x, const float* gamma, const float* beta, const float* running_mean,
                 const float* running_var, BatchNormShape s, float eps) {
  const std::size_t f = s.features;
  // Slot values: the running mean, the scale gamma / sqrt(running_var + eps), beta.
  for_feature_ranges<3>(s, y, [&](std::size_t begin, std::size_t end, const Slots<3>& k) {
    for_each_vector(begin, end, [&](const auto& l, std::size_t c) {
      const V inv = hn::Div(hn::Set(l.d, 1.0f), hn::Sqrt(hn::Add(l.load(running_var + c), hn::Set(l.d, eps))));
      k.store(l.load(running_mean + c), c, 0);
      k.store(hn::Mul(l.load(gamma + c), inv), c, 1);
      k.store(l.load(beta + c), c, 2);
    }, k.head);
    struct Constants {
      V mu, scale, beta;
    };
    store_rows(
        y, f, 0, s.rows, begin, end, k.head,
        [&](std::size_t c) { return Constants{k.load(c, 0), k.load(c, 1), k.load(c, 2)}; },
        [&](const auto& l, const Constants& q, std::size_t r, std::size_t c) {
          return hn::MulAdd(hn::Sub(l.load(x + r * f + c), q.mu), q.scale, q.beta);
        });
  });
}

void Backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* gamma,
              const float* mean, const float* invstd, BatchNormShape s) {
  const std::size_t n = s.rows, f = s.features;
  // Slot values: 0 the shift k (the float mean); 1, 2, 3 the sums of dy, dy (x - k) and x - k, then
  // the per-feature coefficients A, B, C of dx (below).
  for_feature_ranges<4>(s, dx ? dx : dy, [&](std::size_t begin, std::size_t end, const Slots<4>& k) {
    for_each_vector(begin, end, [&](const auto& l, std::size_t c) {
      k.store(l.load(mean + c), c, 0);
      for (std::size_t i = 1; i < 4; ++i) k.store(hn::Zero(l.d), c, i);
    }, k.head);
    // Pass 1: the sums.
    for_each_tile(0, n, begin, end, k.head, [&](const auto& l, std::size_t c, std::size_t r0, std::size_t r1) {
      const V shift = k.load(c, 0);
      V sum_g = k.load(c, 1), sum_gd = k.load(c, 2), sum_d = k.load(c, 3);
      for (std::size_t r = r0; r < r1; ++r) {
        const V g = l.load(dy + r * f + c), dev = hn::Sub(l.load(x + r * f + c), shift);
        sum_g = hn::Add(sum_g, g);
        sum_gd = hn::MulAdd(g, dev, sum_gd);
        sum_d = hn::Add(sum_d, dev);
      }
      k.store(sum_g, c, 1);
      k.store(sum_gd, c, 2);
      k.store(sum_d, c, 3);
    });

    // dbeta = sum dy; dgamma = sum dy xhat = (sum dy (x - k) - mean_d sum dy) inv, where mean_d is
    // the float mean's own rounding error, recovered. Then
    // dx = gamma inv / n (n dy - dbeta - xhat dgamma), xhat = (x - k - mean_d) inv
    //    = A dy + B (x - k) + C, with A, B, C per feature.
    for_each_vector(begin, end, [&](const auto& l, std::size_t c) {
      const V inv_n = hn::Set(l.d, 1.0f / float(n)), inv = l.load(invstd + c);
      const V md = hn::Mul(k.load(c, 3), inv_n), sum_g = k.load(c, 1);
      const V dg = hn::Mul(hn::NegMulAdd(md, sum_g, k.load(c, 2)), inv);
      l.store(sum_g, dbeta + c);
      l.store(dg, dgamma + c);
      const V a = hn::Mul(l.load(gamma + c), inv);
      const V b = hn::Neg(hn::Mul(hn::Mul(a, inv), hn::Mul(dg, inv_n)));
      k.store(a, c, 1);
      k.store(b, c, 2);
      k.store(hn::NegMulAdd(b, md, hn::Neg(hn::Mul(a, hn::Mul(sum_g, inv_n)))), c, 3);
    }, k.head);
    if (!dx) return;
    struct Constants {
      V shift, a, b, c;
    };
    store_rows(
        dx, f, 0, n, begin, end, k.head,
        [&](std::size_t c) { return Constants{k.load(c, 0), k.load(c, 1), k.load(c, 2), k.load(c, 3)}; },
        [&](const auto& l, const Constants& q, std::size_t r, std::size_t c) {
          return hn::MulAdd(q.a, l.load(dy + r * f + c), hn::MulAdd(q.b, hn::Sub(l.load(x + r * f + c), q.shift), q.c));
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
