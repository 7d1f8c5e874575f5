// Optimizer updates: the reference loops, and one Highway body each for the vector versions.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/update_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/load_tail-inl.hpp"
#include "kernels/update_kernels.hpp"

#include <cmath>
#include <cstdint>

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Calls body(d, i, mask_count) for whole vectors, then once for the tail with a shorter count.
template <class Body>
void for_each_vector(std::size_t n, Body&& body) {
  const hn::ScalableTag<float> d;
  const std::size_t lanes = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) body(i, lanes);
  if (i < n) body(i, n - i);
}

// g * 0 is 0 for finite g and NaN for NaN or inf: a sum of those flags any non-finite gradient.
bool SgdUpdate(float* p, const float* g, float* m, std::size_t n, const SgdStep& s) {
  const hn::ScalableTag<float> d;
  auto flags = hn::Zero(d);
  const auto lr = hn::Set(d, s.lr), mom = hn::Set(d, s.momentum), wd = hn::Set(d, s.weight_decay);
  for_each_vector(n, [&](std::size_t i, std::size_t count) {
    const auto mask = hn::FirstN(d, count);
    const auto pv = LoadFirstN(d, p + i, count);
    const auto gv = LoadFirstN(d, g + i, count);
    flags = hn::MulAdd(gv, hn::Zero(d), flags);
    auto step = hn::MulAdd(wd, pv, gv);  // g + wd p
    if (s.momentum != 0.0f) {
      const auto buf = s.first ? step : hn::MulAdd(mom, LoadFirstN(d, m + i, count), step);
      hn::BlendedStore(buf, mask, d, m + i);
      step = s.nesterov ? hn::MulAdd(mom, buf, step) : buf;
    }
    hn::BlendedStore(hn::NegMulAdd(lr, step, pv), mask, d, p + i);
  });
  return hn::AllFalse(d, hn::IsNaN(flags));
}

bool AdamUpdate(float* p, const float* g, float* m, float* v, std::size_t n, const AdamStep& s) {
  const hn::ScalableTag<float> d;
  auto flags = hn::Zero(d);
  const auto b1 = hn::Set(d, s.beta1), b2 = hn::Set(d, s.beta2), one_b1 = hn::Set(d, 1.0f - s.beta1),
             one_b2 = hn::Set(d, 1.0f - s.beta2), wd = hn::Set(d, s.weight_decay), eps = hn::Set(d, s.eps),
             step_size = hn::Set(d, s.step_size), inv_bc2 = hn::Set(d, s.inv_sqrt_bc2),
             decay = hn::Set(d, s.decay_factor);
  for_each_vector(n, [&](std::size_t i, std::size_t count) {
    const auto mask = hn::FirstN(d, count);
    auto pv = LoadFirstN(d, p + i, count);
    auto gv = LoadFirstN(d, g + i, count);
    flags = hn::MulAdd(gv, hn::Zero(d), flags);
    if (s.decoupled) pv = hn::Mul(pv, decay);
    else gv = hn::MulAdd(wd, pv, gv);
    const auto mv = hn::MulAdd(b1, LoadFirstN(d, m + i, count), hn::Mul(one_b1, gv));
    const auto vv = hn::MulAdd(b2, LoadFirstN(d, v + i, count), hn::Mul(one_b2, hn::Mul(gv, gv)));
    hn::BlendedStore(mv, mask, d, m + i);
    hn::BlendedStore(vv, mask, d, v + i);
    const auto denom = hn::MulAdd(hn::Sqrt(vv), inv_bc2, eps);
    hn::BlendedStore(hn::NegMulAdd(step_size, hn::Div(mv, denom), pv), mask, d, p + i);
  });
  return hn::AllFalse(d, hn::IsNaN(flags));
}

}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace actlab {

HWY_EXPORT(SgdUpdate);
HWY_EXPORT(AdamUpdate);

bool vector_sgd_update(float* p, const float* g, float* m, std::size_t n, const SgdStep& s) {
  return HWY_DYNAMIC_DISPATCH(SgdUpdate)(p, g, m, n, s);
}

bool vector_adam_update(float* p, const float* g, float* m, float* v, std::size_t n, const AdamStep& s) {
  return HWY_DYNAMIC_DISPATCH(AdamUpdate)(p, g, m, v, n, s);
}

bool reference_sgd_update(float* p, const float* g, float* m, std::size_t n, const SgdStep& s) {
  bool finite = true;
  for (std::size_t i = 0; i < n; ++i) {
    finite &= std::isfinite(g[i]);
    float step = g[i] + s.weight_decay * p[i];
    if (s.momentum != 0.0f) {
      m[i] = s.first ? step : s.momentum * m[i] + step;
      step = s.nesterov ? step + s.momentum * m[i] : m[i];
    }
    p[i] -= s.lr * step;
  }
  return finite;
}

bool reference_adam_update(float* p, const float* g, float* m, float* v, std::size_t n, const AdamStep& s) {
  bool finite = true;
  for (std::size_t i = 0; i < n; ++i) {
    float grad = g[i];
    finite &= std::isfinite(grad);
    if (s.decoupled) p[i] *= s.decay_factor;
    else grad += s.weight_decay * p[i];
    m[i] = s.beta1 * m[i] + (1.0f - s.beta1) * grad;
    v[i] = s.beta2 * v[i] + (1.0f - s.beta2) * grad * grad;
    p[i] -= s.step_size * (m[i] / (std::sqrt(v[i]) * s.inv_sqrt_bc2 + s.eps));
  }
  return finite;
}

}  // namespace actlab
#endif
