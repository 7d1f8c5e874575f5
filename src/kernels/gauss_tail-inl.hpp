// The standard normal's tail Phi(-|x|) and the density's exponential, for exact gelu (included
// from vector_ops-inl.hpp under hwy/foreach_target.h; hence the toggling guard).
#if defined(ACTLAB_GAUSS_TAIL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ACTLAB_GAUSS_TAIL_INL_H_
#undef ACTLAB_GAUSS_TAIL_INL_H_
#else
#define ACTLAB_GAUSS_TAIL_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/vector_math-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// e^(-(sq + sq_lo)/2) scaled by 2^64, for sq = a^2 rounded and sq_lo its exact rounding error, a in
// [0, 15] (so 2^(n+63) stays normal). ExpReduce's reduction and P, worked in u = -2r = sq + n 2 ln2
// (+ sq_lo) so that the -1/2 costs no operation: n = round(-sq/2 log2 e); u's first step is exact
// (2 ln2_hi has 9 bits, |n| < 2^8); 2q = -u + u^2 P(-u/2)/2, whose coefficients are P's times
// powers of -1/2 (exact); then 2^n (1 + q) 2^64 = 2^(n+63) (2 + 2q). One FMA-pipe operation fewer
// than forming -a^2/2 in two parts and calling ExpReduce, and on FMA targets the same bits.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V ExpHalfNegSquareScaled(D d, V sq, V sq_lo) {
  const hn::RebindToSigned<D> di;
  const auto shifter = vx::Set(d, 12582912.0f + float(127 + 63));  // as in ExpReduce
  const V t = vx::MulAdd(sq, vx::Set(d, -0.5f * 1.44269504088896341f), shifter);
  const V n = vx::Sub(t, shifter);
  const V half_scale = vx::BitCast(d, vx::ShiftLeft<23>(vx::BitCast(di, t)));  // 2^(n + 63)
  V u = vx::MulAdd(n, vx::Set(d, 2.0f * kLn2Hi), sq);  // exact
  u = vx::Add(u, sq_lo);
  u = vx::MulAdd(n, vx::Set(d, 2.0f * kLn2Lo), u);
  // kExpPoly's coefficients times (-1/2)^k / 2.
  const auto coefficient = [&](int k) {
    return vx::Set(d, kExpPoly[k] * (k % 2 ? -1.0f : 1.0f) / float(2 << k));
  };
  V p = vx::MulAdd(coefficient(4), u, coefficient(3));
  p = vx::MulAdd(p, u, coefficient(2));
  p = vx::MulAdd(p, u, coefficient(1));
  p = vx::MulAdd(p, u, coefficient(0));
  const V two_q = vx::MulSub(vx::Mul(u, u), p, u);
  return vx::MulAdd(half_scale, two_q, vx::Add(half_scale, half_scale));
}

// The standard normal's lower tail Phi(-a) = erfc(a/sqrt2)/2 for a = |x|, with bounded relative
// error, and the density's exponential (phi(x) = E / sqrt(2 pi), E = exp(-x^2/2)):
//   Phi(-a) = E G(t), t = 2.5/(2.5 + a), G a degree-8 polynomial (relative error 9.8e-8 for a in
//   [0, 13.3] with its coefficients rounded to float, 6.7e-8 before; beyond 13.3, E underflows).
// Against the former t = 4/(4 + a) at degree 9 (fit 1.2e-8): one FMA fewer, and smaller
// coefficients, whose Horner steps round less near a = 0, where the worst error is: the float
// evaluation (numpy) 5.6 ulp against 6.4, and gelu's forward 5.5 ulp against 6.8 (tested bound 9).
// -x^2 enters the exponential as two parts (ExpHalfNegSquareScaled), so that E keeps its relative
// accuracy in the far tail. E is held as E 2^64 (`e_scaled`) and G's coefficients carry the 2^-64,
// so that the one rounding of E G is correct into the denormals. NaN -> NaN.
template <class D, class V = hn::VFromD<D>>
struct GaussTail {
  static constexpr float kUnscale = 5.42101086242752217e-20f;  // 2^-64
  V tail, e_scaled;  // Phi(-|x|), exp(-x^2/2) 2^64
  HWY_INLINE GaussTail(D d, V x) {
    const V a = MinKeepNaN(d, vx::Abs(x), 15.0f);  // E = 0 from 14.5 on
    const V sq = vx::Mul(a, a);
#if HWY_NATIVE_FMA
    const V sq_lo = vx::MulSub(a, a, sq);  // a^2 - sq, exactly
#else
    // Dekker's exact product where there is no FMA: a_hi keeps a's top 12 bits.
    const hn::RebindToUnsigned<D> du;
    const V a_hi = vx::And(a, vx::BitCast(d, vx::Set(du, 0xFFFFF000u)));
    const V a_lo = vx::Sub(a, a_hi);
    V sq_lo = vx::Sub(vx::Mul(a_hi, a_hi), sq);
    sq_lo = vx::Add(sq_lo, vx::Mul(vx::Add(a_hi, a_hi), a_lo));
    sq_lo = vx::Add(sq_lo, vx::Mul(a_lo, a_lo));
#endif
    e_scaled = ExpHalfNegSquareScaled(d, sq, sq_lo);
    const auto pivot = vx::Set(d, 2.5f);
    const V t = vx::Div(pivot, vx::Add(pivot, a));
    const auto c = [&](float v) { return vx::Set(d, v * kUnscale); };
    V g = vx::MulAdd(c(-4.007468745112419e-2f), t, c(0.2026457041501999f));
    g = vx::MulAdd(g, t, c(-0.37739282846450806f));
    g = vx::MulAdd(g, t, c(0.2546556293964386f));
    g = vx::MulAdd(g, t, c(-1.4564619399607182e-2f));
    g = vx::MulAdd(g, t, c(0.15920080244541168f));
    g = vx::MulAdd(g, t, c(0.15561944246292114f));
    g = vx::MulAdd(g, t, c(0.15992343425750732f));
    g = vx::MulAdd(g, t, c(-1.2904440154670738e-5f));
    tail = vx::Mul(e_scaled, g);
  }
};

}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // ACTLAB_GAUSS_TAIL_INL_H_
