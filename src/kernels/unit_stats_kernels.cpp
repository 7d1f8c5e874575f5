// Per-unit health statistics: the reference loops, and one Highway body for the vector versions.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/unit_stats_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/unit_stats_kernels.hpp"

#include <cmath>

#ifndef ACTLAB_UNIT_STATS_DETAIL  // this file is compiled once per target; define this once
#define ACTLAB_UNIT_STATS_DETAIL
namespace actlab::unit_stats_detail {

// One unit of one row, as both versions do it for the units past the last whole vector.
inline void update_unit(const UnitStatsRefs& s, std::size_t u, float x, float abs_derivative) {
  s.max_input[u] = x > s.max_input[u] ? x : s.max_input[u];
  s.max_derivative[u] = abs_derivative > s.max_derivative[u] ? abs_derivative : s.max_derivative[u];
  s.saturated[u] += abs_derivative < s.threshold ? 1u : 0u;
}

}  // namespace actlab::unit_stats_detail
#endif

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Whole vectors of units, row after row; abs_derivative(r, u, x) gives |f'(x)| as a vector. The
// units' statistics stay in registers over all rows, kBlock vectors at a time: one vector's
// compare-and-select chain would wait on its own latency every row.
template <std::size_t kBlock, class AbsDerivative>
std::size_t UnitStatsBlocks(const UnitStatsRefs& s, const float* x, std::size_t rows, std::size_t u,
                            AbsDerivative&& abs_derivative) {
  const hn::ScalableTag<float> d;
  const hn::RebindToUnsigned<decltype(d)> du;
  using VF = hn::Vec<decltype(d)>;
  using VU = hn::Vec<decltype(du)>;
  const std::size_t lanes = hn::Lanes(d), width = kBlock * lanes;
  const auto threshold = hn::Set(d, s.threshold);
  const auto one = hn::Set(du, 1u);
  for (; u + width <= s.units; u += width) {
    VF max_in[kBlock], max_der[kBlock];
    VU sat[kBlock];
    for (std::size_t k = 0; k < kBlock; ++k) {
      max_in[k] = hn::LoadU(d, s.max_input + u + k * lanes);
      max_der[k] = hn::LoadU(d, s.max_derivative + u + k * lanes);
      sat[k] = hn::LoadU(du, s.saturated + u + k * lanes);
    }
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t k = 0; k < kBlock; ++k) {
        const std::size_t unit = u + k * lanes;
        const auto xv = hn::LoadU(d, x + r * s.units + unit);
        const auto dv = abs_derivative(r, unit, xv);
        max_in[k] = hn::IfThenElse(hn::Gt(xv, max_in[k]), xv, max_in[k]);
        max_der[k] = hn::IfThenElse(hn::Gt(dv, max_der[k]), dv, max_der[k]);
        sat[k] = hn::Add(sat[k], hn::IfThenElseZero(hn::RebindMask(du, hn::Lt(dv, threshold)), one));
      }
    for (std::size_t k = 0; k < kBlock; ++k) {
      hn::StoreU(max_in[k], d, s.max_input + u + k * lanes);
      hn::StoreU(max_der[k], d, s.max_derivative + u + k * lanes);
      hn::StoreU(sat[k], du, s.saturated + u + k * lanes);
    }
  }
  return u;
}

// Blocks of four vectors, then single vectors; returns the first unit left for the scalar tail.
template <class AbsDerivative>
std::size_t UnitStatsBody(const UnitStatsRefs& s, const float* x, std::size_t rows, AbsDerivative&& abs_derivative) {
  const std::size_t u = UnitStatsBlocks<4>(s, x, rows, 0, abs_derivative);
  return UnitStatsBlocks<1>(s, x, rows, u, abs_derivative);
}

void UnitStats(const UnitStatsRefs& s, const float* x, const float* derivative, std::size_t rows) {
  const hn::ScalableTag<float> d;
  const std::size_t tail = UnitStatsBody(s, x, rows, [&](std::size_t r, std::size_t u, auto) {
    return hn::Abs(hn::LoadU(d, derivative + r * s.units + u));
  });
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t u = tail; u < s.units; ++u)
      unit_stats_detail::update_unit(s, u, x[r * s.units + u], std::fabs(derivative[r * s.units + u]));
}

void PreluUnitStats(const UnitStatsRefs& s, const float* x, const float* abs_slope, std::size_t rows) {
  const hn::ScalableTag<float> d;
  const auto one = hn::Set(d, 1.0f);
  const std::size_t tail = UnitStatsBody(s, x, rows, [&](std::size_t, std::size_t u, auto xv) {
    return hn::IfThenElse(hn::Gt(xv, hn::Zero(d)), one, hn::LoadU(d, abs_slope + u));
  });
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t u = tail; u < s.units; ++u) {
      const float xv = x[r * s.units + u];
      unit_stats_detail::update_unit(s, u, xv, xv > 0.0f ? 1.0f : abs_slope[u]);
    }
}

Moments VectorMoments(const float* v, std::size_t n) {
  const hn::ScalableTag<double> dd;
  const hn::Rebind<float, decltype(dd)> df;  // half a float vector: one double per float
  const std::size_t lanes = hn::Lanes(dd);
  // Two accumulators of each: one add's latency would otherwise pace the loop.
  auto sum0 = hn::Zero(dd), sum1 = hn::Zero(dd), sq0 = hn::Zero(dd), sq1 = hn::Zero(dd);
  std::size_t i = 0;
  for (; i + 2 * lanes <= n; i += 2 * lanes) {
    const auto a = hn::PromoteTo(dd, hn::LoadU(df, v + i)), b = hn::PromoteTo(dd, hn::LoadU(df, v + i + lanes));
    sum0 = hn::Add(sum0, a);
    sum1 = hn::Add(sum1, b);
    sq0 = hn::MulAdd(a, a, sq0);
    sq1 = hn::MulAdd(b, b, sq1);
  }
  Moments m{hn::GetLane(hn::SumOfLanes(dd, hn::Add(sum0, sum1))), hn::GetLane(hn::SumOfLanes(dd, hn::Add(sq0, sq1)))};
  for (; i < n; ++i) {
    m.sum += double(v[i]);
    m.sum_squares += double(v[i]) * double(v[i]);
  }
  return m;
}

}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace actlab {

HWY_EXPORT(UnitStats);
HWY_EXPORT(PreluUnitStats);
HWY_EXPORT(VectorMoments);

Moments vector_moments(const float* v, std::size_t n) { return HWY_DYNAMIC_DISPATCH(VectorMoments)(v, n); }

Moments reference_moments(const float* v, std::size_t n) {
  Moments m;
  for (std::size_t i = 0; i < n; ++i) {
    m.sum += double(v[i]);
    m.sum_squares += double(v[i]) * double(v[i]);
  }
  return m;
}

void vector_unit_stats(const UnitStatsRefs& s, const float* x, const float* derivative, std::size_t rows) {
  HWY_DYNAMIC_DISPATCH(UnitStats)(s, x, derivative, rows);
}

void vector_prelu_unit_stats(const UnitStatsRefs& s, const float* x, const float* abs_slope, std::size_t rows) {
  HWY_DYNAMIC_DISPATCH(PreluUnitStats)(s, x, abs_slope, rows);
}

void reference_unit_stats(const UnitStatsRefs& s, const float* x, const float* derivative, std::size_t rows) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t u = 0; u < s.units; ++u)
      unit_stats_detail::update_unit(s, u, x[r * s.units + u], std::fabs(derivative[r * s.units + u]));
}

void reference_prelu_unit_stats(const UnitStatsRefs& s, const float* x, const float* abs_slope, std::size_t rows) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t u = 0; u < s.units; ++u) {
      const float xv = x[r * s.units + u];
      unit_stats_detail::update_unit(s, u, xv, xv > 0.0f ? 1.0f : abs_slope[u]);
    }
}

}  // namespace actlab
#endif
