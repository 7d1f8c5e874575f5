// Vector math for the activation kernels, written once against Highway and compiled per target
// (included from vector_activations.cpp under hwy/foreach_target.h; hence the toggling guard).
//
// Highway 1.0.3's own Exp/Expm1 return garbage above about 177 and Exp(NaN) = 0, and it has no
// erf; these replace them with range reduction + polynomial (the oneDNN approach):
//   n = round(x log2 e), r = x - n ln2 (two-constant Cody-Waite, |r| <= ln2/2; one constant in
//   Expm1NonPositive, whose n stays small),
//   e^r - 1 = r + r^2 P(r), P of degree 4, scaled by 2^n through the exponent bits (or, on
//   AVX-512, by vscalefps).
// The polynomials were fitted for this file (minimax by Lawson's iteration on Chebyshev points,
// relative weight), then rounded to float; softplus's table is fitted and measured by its own
// script (tools/fit_softplus_table.py). "Measured" bounds: every 13th float of the stated range
// against double, AVX2 with FMA (the activations' bounds are re-checked on every compiled target
// by tests/activation_vector_test.cpp).
// Arguments go through MaxKeepNaN/ClampKeepNaN, so NaN inputs give NaN outputs.
#if defined(ACTLAB_VECTOR_MATH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ACTLAB_VECTOR_MATH_INL_H_
#undef ACTLAB_VECTOR_MATH_INL_H_
#else
#define ACTLAB_VECTOR_MATH_INL_H_
#endif

#include <cstddef>
#include <iterator>

#include "hwy/highway.h"
#include "kernels/softplus_table.hpp"
#include "kernels/vector_bundle-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// max(x, lo) and min(max(x, lo), hi), NaN kept. x86's minps/maxps return their second operand
// when either is NaN, so with x second the NaN passes through; elsewhere an explicit select.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V MaxKeepNaN(D d, V x, float lo) {
#if HWY_ARCH_X86 && HWY_TARGET != HWY_EMU128 && HWY_TARGET != HWY_SCALAR
  return vx::Max(vx::Set(d, lo), x);
#else
  return vx::IfThenElse(vx::IsNaN(x), x, vx::Max(x, vx::Set(d, lo)));
#endif
}

// min(x, hi), NaN kept (as MaxKeepNaN).
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V MinKeepNaN(D d, V x, float hi) {
#if HWY_ARCH_X86 && HWY_TARGET != HWY_EMU128 && HWY_TARGET != HWY_SCALAR
  return vx::Min(vx::Set(d, hi), x);
#else
  return vx::IfThenElse(vx::IsNaN(x), x, vx::Min(x, vx::Set(d, hi)));
#endif
}

template <class D, class V = hn::VFromD<D>>
HWY_INLINE V ClampKeepNaN(D d, V x, float lo, float hi) {
#if HWY_ARCH_X86 && HWY_TARGET != HWY_EMU128 && HWY_TARGET != HWY_SCALAR
  return vx::Min(vx::Set(d, hi), MaxKeepNaN(d, x, lo));
#else
  return vx::IfThenElse(vx::IsNaN(x), x, vx::Min(vx::Max(x, vx::Set(d, lo)), vx::Set(d, hi)));
#endif
}

// t / 6 with the bits of the division, where the FMA is native: q = t (1/6), then q - (6q - t)/6,
// 6q - t exact in one FMA (Markstein's correction by the rounded reciprocal). Checked on every float
// by tools/check_divide_by_six.cpp: the division's bits, zeros' signs included, wherever t = 0 or
// |t| >= 6 2^-126 (the quotient normal); where t/6 is denormal, 1 in 21 differs, and an infinite t
// gives NaN, so callers keep such lanes away. Three FMA-pipe operations instead of the divider:
// AVX2 hardsigmoid forward at 256K floats 0.088 -> 0.077 ns per value (Zen 5, 1 thread; AVX3
// unchanged at the cache's rate). hardswish's forward measured no faster with it: its division is
// not what holds it. Elsewhere (SSE4, no FMA) the division.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V DivideBySix(D d, V t) {
#if HWY_NATIVE_FMA
  const auto sixth = vx::Set(d, 1.0f / 6.0f);
  const V q = vx::Mul(t, sixth);
  return vx::NegMulAdd(vx::MulSub(q, vx::Set(d, 6.0f), t), sixth, q);
#else
  return vx::Div(t, vx::Set(d, 6.0f));
#endif
}

// -|x| in one operation (NaN stays NaN).
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V NegAbs(D d, V x) {
  return vx::Or(x, vx::SignBit(d));
}

// ln2 = kLn2Hi + kLn2Lo to float precision, kLn2Hi with 9 bits: n kLn2Hi is exact for |n| < 2^8.
inline constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;

// r = x - n ln2 in two steps, the first exact.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V ReduceLn2(D d, V x, V n) {
  const V r = vx::NegMulAdd(n, vx::Set(d, kLn2Hi), x);
  return vx::NegMulAdd(n, vx::Set(d, kLn2Lo), r);
}

// P with e^r = 1 + r + r^2 P(r): relative error 1.3e-8 on |r| <= ln2/2 (fit). Constant term first.
inline constexpr float kExpPoly[5] = {0.4999999701976776f, 0.1666654348373413f, 4.166720062494278e-2f,
                                      8.366547524929047e-3f, 1.3882516650483012e-3f};
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V ExpPoly(D d, V r) {
  V p = vx::MulAdd(vx::Set(d, kExpPoly[4]), r, vx::Set(d, kExpPoly[3]));
  p = vx::MulAdd(p, r, vx::Set(d, kExpPoly[2]));
  p = vx::MulAdd(p, r, vx::Set(d, kExpPoly[1]));
  return vx::MulAdd(p, r, vx::Set(d, kExpPoly[0]));
}

// The shared reduction: returns q = e^r - 1 and scale = 2^(n + kExtra) with e^x = 2^n (1 + q),
// for x with n + kExtra in [-126, 127].
// Adding 1.5 * 2^23 + 127 + kExtra rounds x log2 e to an integer held in the low mantissa bits of
// t, so that shifting t's bits left by 23 gives the scale's exponent field: no conversions.
// kOneStep: r = x - n ln2 in one FMA with ln2 rounded to float, for callers whose n is small
// enough that the constant's error (1.9e-9 per unit of n) stays far below an ulp of the result.
template <int kExtra, bool kOneStep = false, class D, class V = hn::VFromD<D>>
HWY_INLINE V ExpReduce(D d, V x, V& scale) {
  const hn::RebindToSigned<D> di;
  const auto shifter = vx::Set(d, 12582912.0f + float(127 + kExtra));
  const V t = vx::MulAdd(x, vx::Set(d, 1.44269504088896341f), shifter);
  const V n = vx::Sub(t, shifter);
  scale = vx::BitCast(d, vx::ShiftLeft<23>(vx::BitCast(di, t)));
  V r;
  if constexpr (kOneStep) {
    r = vx::NegMulAdd(n, vx::Set(d, 0.693147182f), x);
  } else {
    r = ReduceLn2(d, x, n);
  }
  return vx::MulAdd(vx::Mul(r, r), ExpPoly(d, r), r);
}

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3  // AVX3 and the AVX-512 targets above it
// Where vscalefps and the two-table permutes exist; #undef'd at the end of this file, so the code
// that tests it stays here.
#define ACTLAB_HAVE_AVX512 1
// p 2^n with one rounding (vscalefps): correct into the denormals, 0 or inf beyond the range.
template <class V>
HWY_INLINE V ScaleByPow2(V p, V n) {
  if constexpr (sizeof(V) == 64) return V{_mm512_scalef_ps(p.raw, n.raw)};
  else if constexpr (sizeof(V) == 32) return V{_mm256_scalef_ps(p.raw, n.raw)};
  else return V{_mm_scalef_ps(p.raw, n.raw)};
}
template <class V, std::size_t K>
HWY_INLINE Bundle<V, K> ScaleByPow2(const Bundle<V, K>& p, const Bundle<V, K>& n) {
  Bundle<V, K> r;
  _Pragma("GCC unroll 16") for (std::size_t k = 0; k < K; ++k) r.part[k] = ScaleByPow2(p.part[k], n.part[k]);
  return r;
}

// e^x on AVX-512: the same reduction and P, e^r = (P r + 1) r + 1 by Horner, then vscalefps by n.
// Two operations fewer than ExpReduce's scale from the exponent bits and the 2^-64 step after it.
// Callers clamp x as below. Measured (AVX3): 0.91 ulp over [-104, 43], denormal results within
// 0.85 of a denormal step.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V ExpScalef(D d, V x) {
  const auto shifter = vx::Set(d, 12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const V n = vx::Sub(vx::MulAdd(x, vx::Set(d, 1.44269504088896341f), shifter), shifter);
  const V r = ReduceLn2(d, x, n);
  const auto one = vx::Set(d, 1.0f);
  return ScaleByPow2(vx::MulAdd(vx::MulAdd(ExpPoly(d, r), r, one), r, one), n);
}
#endif

// e^x for x in [-104, 43] (the callers below clamp it), with results correct into the denormals:
// the scale is built as 2^(n+64) and the product multiplied by 2^-64 (exact unless the result is
// denormal), or on AVX-512 ExpScalef. Measured: 1.04 ulp over [-87.3, 43]; below (denormal
// results) 0.75 of a denormal step.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V ExpInRange(D d, V x) {
#ifdef ACTLAB_HAVE_AVX512
  return ExpScalef(d, x);
#else
  V scale;
  const V q = ExpReduce<64>(d, x, scale);
  return vx::Mul(vx::MulAdd(scale, q, scale), vx::Set(d, 5.42101086242752217e-20f));  // 2^-64
#endif
}

// e^x for x <= 43 (callers guarantee it). x <= -104 gives 0 (e^-104 is below half the smallest
// denormal). NaN -> NaN. kHi <= 43 clamps the argument lower where the caller needs no more.
template <int kHi = 43, class D, class V = hn::VFromD<D>>
HWY_INLINE V Exp(D d, V x) {
  static_assert(kHi <= 43);
  return ExpInRange(d, ClampKeepNaN(d, x, -104.0f, float(kHi)));
}

// The same for x <= 0 (one clamp less); lanes with x > 0 give unspecified values.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V ExpNonPositive(D d, V x) {
  return ExpInRange(d, MaxKeepNaN(d, x, -104.0f));
}

// 2^w for w <= 0, for an exponent already in the log2 domain: n = round(w) by the shifter, f = w - n
// exactly (|f| <= 1/2; Sterbenz), 2^f = 1 + f Q(f), Q of degree 5 (fitted for this file, each
// coefficient refitted after rounding the ones before it), scaled by 2^n as in ExpInRange (so
// correct into the denormals; w <= -150 gives 0). Against e^x's reduction, the three operations that
// form r = x - n ln2 leave the FMA pipes: the shifter's add and f are on the add pipes. The price
// is that the caller multiplies log2 e into its argument, which costs relative accuracy in
// proportion to the argument: only for callers whose bound already grows with it (gelu-tanh).
// 2^f within 0.78 ulp over 2M points of [-1/2, 1/2] (the Horner steps rounded to float in numpy,
// FMAs as one rounding); the kernel's bound is tested in tests/activation_vector_test.cpp. NaN -> NaN.
// kShort: Q of degree 4, 1.94 ulp the same way, one FMA fewer: for gelu-tanh's backward, which
// uses a quarter of its bound (1.04x faster, 1 thread, 16K floats, Zen 5).
template <bool kShort = false, class D, class V = hn::VFromD<D>>
HWY_INLINE V Exp2NonPositive(D d, V w) {
  w = MaxKeepNaN(d, w, -150.0f);
#ifdef ACTLAB_HAVE_AVX512
  const auto shifter = vx::Set(d, 12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const V n = vx::Sub(vx::Add(w, shifter), shifter);
#else
  const hn::RebindToSigned<D> di;
  const auto shifter = vx::Set(d, 12582912.0f + float(127 + 64));  // as in ExpReduce<64>
  const V t = vx::Add(w, shifter);
  const V n = vx::Sub(t, shifter);
  const V scale = vx::BitCast(d, vx::ShiftLeft<23>(vx::BitCast(di, t)));  // 2^(n + 64)
#endif
  const V f = vx::Sub(w, n);
  V q;
  if constexpr (kShort) {
    q = vx::MulAdd(vx::Set(d, 1.3269407209008932e-3f), f, vx::Set(d, 9.671294130384922e-3f));
    q = vx::MulAdd(q, f, vx::Set(d, 5.55071122944355e-2f));
    q = vx::MulAdd(q, f, vx::Set(d, 0.24022246897220612f));
    q = vx::MulAdd(q, f, vx::Set(d, 0.6931470036506653f));
  } else {
    q = vx::MulAdd(vx::Set(d, 1.5326470020227134e-4f), f, vx::Set(d, 1.3390807434916496e-3f));
    q = vx::MulAdd(q, f, vx::Set(d, 9.618505835533142e-3f));
    q = vx::MulAdd(q, f, vx::Set(d, 5.550359934568405e-2f));
    q = vx::MulAdd(q, f, vx::Set(d, 0.24022647738456726f));
    q = vx::MulAdd(q, f, vx::Set(d, 0.6931471824645996f));
  }
#ifdef ACTLAB_HAVE_AVX512
  return ScaleByPow2(vx::MulAdd(q, f, vx::Set(d, 1.0f)), n);
#else
  const V fq = vx::Mul(f, q);
  return vx::Mul(vx::MulAdd(scale, fq, scale), vx::Set(d, 5.42101086242752217e-20f));  // 2^-64
#endif
}

// e^x - 1 for x <= 0: 2^n q + (2^n - 1), exact when n = 0, and -1 below x = -18 (e^-18 is under
// half an ulp of 1, so the float result is -1 from there on). Lanes with x > 0 give unspecified
// values (callers select them away).
// The clamp keeps n in [-26, 0], so r = x - n ln2 is one FMA with ln2 rounded to float: that
// constant is 1.9e-9 off, so r is off by |n| 1.9e-9, and e^x - 1 by e^x |n| 1.9e-9: at most 0.045
// ulp of the result (at n = -1, x = -0.35; less for larger |n|, as e^x shrinks faster than |n|
// grows). One FMA less than the two-step reduction.
// Measured: 0.95 ulp over [-18, 0] (every 13th float; the worst at x = -0.286, where n = 0). NaN -> NaN.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V Expm1NonPositive(D d, V x) {
  x = MaxKeepNaN(d, x, -18.0f);
  V scale;
  const V q = ExpReduce<0, /*kOneStep=*/true>(d, x, scale);
  return vx::MulAdd(scale, q, vx::Sub(scale, vx::Set(d, 1.0f)));
}

// sigmoid(x) and its derivative s (1 - s), both without cancellation: with e = exp(-|x|) <= 1 and
// r = 1/(1 + e), s is r or e r by the sign of x, and s (1 - s) = e r^2 for either sign.
// Measured: 2.8 ulp (s) and 4.9 ulp (s (1 - s)) over [-88, 88]. NaN -> NaN.
template <class D, class V = hn::VFromD<D>>
struct SigmoidSlope {
  V s, slope;  // sigmoid(x), sigmoid(x) (1 - sigmoid(x))
  HWY_INLINE SigmoidSlope(D d, V x) : SigmoidSlope(d, x, ExpNonPositive(d, NegAbs(d, x))) {}
  // With e = exp(-|x|) computed by the caller.
  HWY_INLINE SigmoidSlope(D d, V x, V e) {
    const V r = vx::Div(vx::Set(d, 1.0f), vx::Add(vx::Set(d, 1.0f), e));
    const V er = vx::Mul(e, r);
    s = vx::IfThenElse(vx::Lt(x, vx::Zero(d)), er, r);
    slope = vx::Mul(er, r);
  }
};

// sigmoid(x) alone: one division of (x < 0 ? e : 1) by 1 + e, e = exp(-|x|). Same bound.
// With e computed by the caller:
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V Sigmoid(D d, V x, V e) {
  const auto one = vx::Set(d, 1.0f);
  return vx::Div(vx::IfThenElse(vx::Lt(x, vx::Zero(d)), e, one), vx::Add(one, e));
}
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V Sigmoid(D d, V x) {
  return Sigmoid(d, x, ExpNonPositive(d, NegAbs(d, x)));
}

// log(1 + t) for t in [0, 1] as t R(t), R of degree 9 (fit's relative error 4.7e-9): no range
// reduction, no division. Measured: 1.45 ulp over [0, 1].
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V Log1pUnit(D d, V t) {
  V p = vx::MulAdd(vx::Set(d, -3.2440233044326305e-3f), t, vx::Set(d, 1.9851453602313995e-2f));
  p = vx::MulAdd(p, t, vx::Set(d, -5.695951730012894e-2f));
  p = vx::MulAdd(p, t, vx::Set(d, 0.10603653639554977f));
  p = vx::MulAdd(p, t, vx::Set(d, -0.15305592119693756f));
  p = vx::MulAdd(p, t, vx::Set(d, 0.1967593878507614f));
  p = vx::MulAdd(p, t, vx::Set(d, -0.24954134225845337f));
  p = vx::MulAdd(p, t, vx::Set(d, 0.3332996368408203f));
  p = vx::MulAdd(p, t, vx::Set(d, -0.4999990165233612f));
  return vx::MulAdd(vx::Mul(p, t), t, t);
}

#ifdef ACTLAB_HAVE_AVX512
// row[i & 31] in each lane, for the low 5 bits i of each lane of `index` (the higher bits are
// ignored): one two-table permute (vpermt2ps) of the 32 floats of `row`, 64-byte aligned. The
// intrinsic, as in ScaleByPow2: Highway 1.0.3's TableLookupLanes takes one vector of 16.
template <class V, class VI>
HWY_INLINE V Lookup32(const float* row, VI index) {
  static_assert(sizeof(V) == 64);
  return V{_mm512_permutex2var_ps(_mm512_load_ps(row), index.raw, _mm512_load_ps(row + 16))};
}
template <class V, class VI, std::size_t K>
HWY_INLINE Bundle<V, K> Lookup32(const float* row, const Bundle<VI, K>& index) {
  Bundle<V, K> r;
  _Pragma("GCC unroll 16") for (std::size_t k = 0; k < K; ++k) r.part[k] = Lookup32<V>(row, index.part[k]);
  return r;
}
#endif

// log(1 + e^-|x|), softplus's smooth part; NaN -> NaN. In general: Log1pUnit of e^-|x| (1.74 ulp
// for softplus's forward, measured). On AVX-512, for vectors (all of a bundle's) with no lane below
// -15.5 and no NaN, instead one polynomial per interval of a = min(|x|, 15.5): P_k(a - k/2) for
// k = round(2a), P_k of degree 5 from kSoftplusTable (tools/fit_softplus_table.py), its
// coefficients picked per lane by two-table permutes: 16 vector operations instead of 24 (6 of them
// permutes, which cost about an FMA's slot here); softplus forward 1.57x faster at 256K floats, 1
// thread, Zen 5. Lanes with |x| >= 15.5 get log(1 + e^-15.5) = 1.86e-7 from the table: only right
// where x > 0, for softplus's x + that, which rounds to x there anyway (under half an ulp of 15.5).
// The clamp keeps k <= 31: at a = 15.75, k would round to 32 and its low 5 bits pick interval 0.
// Vectors with a lane below -15.5 or NaN take both ways and keep the table's result where
// x >= -15.5, so that a lane's bits do not depend on its neighbours. Such inputs are rare in
// practice (a normal of deviation 3 gives one in 10^7).
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V Log1pExpNegAbsGeneral(D d, V x) {
  return Log1pUnit(d, ExpNonPositive(d, NegAbs(d, x)));
}
// (A function, not a lambda: GCC did not inline such a lambda into the AVX2 loop, which then ran
// 2.3x slower.)
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V Log1pExpNegAbs(D d, V x) {
#ifdef ACTLAB_HAVE_AVX512
  if constexpr (hn::MaxLanes(D()) == 16) {
    constexpr std::size_t kTerms = std::size(kSoftplusTable);
    static_assert(std::size(kSoftplusTable[0]) == 32 && kTerms >= 2, "Lookup32 picks 1 of 32");
    const hn::RebindToSigned<D> di;
    using VF = hn::VFromD<D>;
    const V a = vx::Min(vx::Set(d, 15.5f), vx::Abs(x));  // 15.5 = interval 31's centre
    const auto shifter = vx::Set(d, 12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
    const V t = vx::MulAdd(a, vx::Set(d, 2.0f), shifter);  // k = round(2a) in the low mantissa bits
    const V z = vx::NegMulAdd(vx::Sub(t, shifter), vx::Set(d, 0.5f), a);  // a - k/2, exact
    const auto k = vx::BitCast(di, t);
    V p = Lookup32<VF>(kSoftplusTable[kTerms - 1], k);
    for (std::size_t i = kTerms - 1; i-- > 0;)
      p = vx::MulAdd(p, z, Lookup32<VF>(kSoftplusTable[i], k));
    const auto inside = vx::Ge(x, vx::Set(d, -15.5f));
    if (vx::AllTrue(d, inside)) return p;
    return vx::IfThenElse(inside, p, Log1pExpNegAbsGeneral(d, x));
  }
#endif
  return Log1pExpNegAbsGeneral(d, x);
}

#undef ACTLAB_HAVE_AVX512
}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // ACTLAB_VECTOR_MATH_INL_H_
