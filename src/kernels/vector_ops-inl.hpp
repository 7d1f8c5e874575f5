// One Highway body per activation: Fwd(d, x) = f(x) and Bwd(d, dy, in) = dy * f'(.), where `in`
// is y = f(x) when kFromY, else x. Each mirrors its scalar entry in activation_table.cpp (the
// specification), with the same comparisons so that NaN, the kinks and +-inf go the same way.
// V is a vector or a bundle of vectors (vector_bundle-inl.hpp): the bodies call vx::, which takes
// both, and hold constants as single vectors (auto).
//
// Bounds, tested in tests/activation_vector_test.cpp on every compiled instruction set against the
// double reference at the same float inputs (and, for from-y bodies, the same float y):
// "exact" = bitwise equal to the float reference; "k ulp" = |actual - expected| <= k ulp(expected)
// + 2^-126; "+ A abs" adds A |dy| where f' is a sum of terms that cancel. [m] is the worst measured
// fraction of the bound on AVX3 over the test's special values and 520K-point sweeps.
#if defined(ACTLAB_VECTOR_OPS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ACTLAB_VECTOR_OPS_INL_H_
#undef ACTLAB_VECTOR_OPS_INL_H_
#else
#define ACTLAB_VECTOR_OPS_INL_H_
#endif

#include "kernels/gauss_tail-inl.hpp"
#include "kernels/vector_math-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {

#define ACTLAB_FWD template <class D, class V> HWY_INLINE V Fwd(D d, V x) const
#define ACTLAB_BWD template <class D, class V> HWY_INLINE V Bwd(D d, V dy, V in) const

inline float f32(double v) { return static_cast<float>(v); }

// identity: exact.
struct IdentityOp {
  static constexpr bool kFromY = false;
  ACTLAB_FWD { (void)d; return x; }
  ACTLAB_BWD { (void)d, (void)in; return dy; }
};

// sigmoid: forward 3 ulp [0.75]; backward dy * y (1 - y) from y: exact.
struct SigmoidOp {
  static constexpr bool kFromY = true;
  // Exp-based, a long chain per vector: Loop takes more vectors a step (BundleFor).
  static constexpr bool kLongChains = true;
  ACTLAB_FWD { return Sigmoid(d, x); }
  ACTLAB_BWD { return vx::Mul(dy, vx::Mul(in, vx::Sub(vx::Set(d, 1.0f), in))); }
};

// tanh(|x|) = -u / (2 + u), u = expm1(-2|x|): no cancellation near 0. Forward 3 ulp [0.83];
// backward dy (1 - y^2) from y: exact.
struct TanhOp {
  static constexpr bool kFromY = true;
  static constexpr bool kLongChains = true;
  ACTLAB_FWD {
    const V u = Expm1NonPositive(d, vx::Mul(vx::Set(d, 2.0f), NegAbs(d, x)));
    return vx::CopySignToAbs(vx::Div(vx::Neg(u), vx::Add(vx::Set(d, 2.0f), u)), x);
  }
  ACTLAB_BWD { return vx::Mul(dy, vx::Sub(vx::Set(d, 1.0f), vx::Mul(in, in))); }
};

// relu: exact (backward from y: y > 0 exactly where x > 0).
struct ReluOp {
  static constexpr bool kFromY = true;
  ACTLAB_FWD { return vx::IfThenZeroElse(vx::Lt(x, vx::Zero(d)), x); }
  ACTLAB_BWD { return vx::Mul(dy, vx::IfThenElseZero(vx::Gt(in, vx::Zero(d)), vx::Set(d, 1.0f))); }
};

// leaky_relu, prelu (shared slope) and rrelu in evaluation (slope (lower + upper)/2): exact.
// rrelu's forward keeps x at x = -0 (x >= 0), the others take slope * x (x > 0).
template <bool kKeepAtZero>
struct SlopeOp {
  static constexpr bool kFromY = false;
  float slope;
  ACTLAB_FWD {
    const auto keep = kKeepAtZero ? vx::Ge(x, vx::Zero(d)) : vx::Gt(x, vx::Zero(d));
    return vx::IfThenElse(keep, x, vx::Mul(x, vx::Set(d, slope)));
  }
  ACTLAB_BWD { return vx::Mul(dy, vx::IfThenElse(vx::Gt(in, vx::Zero(d)), vx::Set(d, 1.0f), vx::Set(d, slope))); }
};

// elu: x > 0 ? x : alpha expm1(x). Forward 2 ulp [0.45]. Backward from y for alpha >= 0 (y > 0
// exactly where x > 0): dy (y + alpha), 2 ulp + |alpha| 2^-24 abs [0.71] (y's rounding, where
// y + alpha cancels: there alpha e^x is tiny); from x for alpha < 0: alpha e^x, 2 ulp [0.85].
template <bool kY>
struct EluOp {
  static constexpr bool kFromY = kY;
  static constexpr bool kLongChains = true;
  float alpha;
  ACTLAB_FWD {
    const V em1 = vx::Mul(vx::Set(d, alpha), Expm1NonPositive(d, x));
    return vx::IfThenElse(vx::Lt(x, vx::Zero(d)), em1, x);
  }
  ACTLAB_BWD {
    const auto a = vx::Set(d, alpha), one = vx::Set(d, 1.0f);
    if constexpr (kY) return vx::Mul(dy, vx::IfThenElse(vx::Gt(in, vx::Zero(d)), one, vx::Add(in, a)));
    else return vx::Mul(dy, vx::IfThenElse(vx::Gt(in, vx::Zero(d)), one, vx::Mul(a, Exp(d, in))));
  }
};

// selu: scale (x > 0 ? x : alpha expm1(x)), PyTorch's constants rounded to float as in the table.
// Forward 3 ulp [0.66]; backward (from x) scale alpha e^x: 3 ulp [0.81].
struct SeluOp {
  static constexpr bool kFromY = false;
  static constexpr bool kLongChains = true;
  ACTLAB_FWD {
    const V em1 = vx::Mul(vx::Set(d, f32(1.6732632423543772848)), Expm1NonPositive(d, x));
    return vx::Mul(vx::Set(d, f32(1.0507009873554804934)), vx::IfThenElse(vx::Lt(x, vx::Zero(d)), em1, x));
  }
  ACTLAB_BWD {
    const V tail = vx::Mul(vx::Set(d, f32(1.0507009873554804934 * 1.6732632423543772848)),
                           Exp(d, in));
    return vx::Mul(dy, vx::IfThenElse(vx::Gt(in, vx::Zero(d)), vx::Set(d, f32(1.0507009873554804934)), tail));
  }
};

// celu: x > 0 ? x : alpha expm1(x / alpha); backward (from x) e^(x / alpha). 2 ulp each [0.76],
// + 2 ulp per unit of |x / alpha| when alpha is not a power of two (alpha and x / alpha are
// rounded in float, as in the table) [0.82 for alpha = 0.3].
// kPowerOfTwo: alpha = 2^k, whose reciprocal is exact, so x (1 / alpha) is the same real number as
// x / alpha and rounds to the same float: the division's bits at a multiplication's cost (the
// default alpha = 1; a division a vector made the forward 1.36x slower than elu's at 256K).
template <bool kPowerOfTwo>
struct CeluOp {
  static constexpr bool kFromY = false;
  static constexpr bool kLongChains = true;
  float alpha, inverse;  // inverse = 1 / alpha, used only when it is exact
  template <class D, class V>
  HWY_INLINE V Scaled(D d, V x) const {
    return kPowerOfTwo ? vx::Mul(x, vx::Set(d, inverse)) : vx::Div(x, vx::Set(d, alpha));
  }
  ACTLAB_FWD {
    const V em1 = vx::Mul(vx::Set(d, alpha), Expm1NonPositive(d, Scaled(d, x)));
    return vx::IfThenElse(vx::Lt(x, vx::Zero(d)), em1, x);
  }
  ACTLAB_BWD {
    const V e = Exp(d, Scaled(d, in));
    return vx::Mul(dy, vx::IfThenElse(vx::Gt(in, vx::Zero(d)), vx::Set(d, 1.0f), e));
  }
};

// gelu, exact: x Phi(x), Phi(x) = tail for x < 0, 1 - tail otherwise (GaussTail): forward 9 ulp
// [0.61], relative also in the negative tail. Backward Phi(x) + x phi(x), from x: 9 ulp + 9 2^-24
// abs [0.21] (the two terms cancel near x = -0.75, where gelu' = 0).
struct GeluErfOp {
  static constexpr bool kFromY = false;
  static constexpr bool kLongChains = true;
  // At 8 its values spill (vector_activations.cpp).
  static constexpr std::size_t kMaxForwardBundle = 6, kMaxBackwardBundle = 6;
  template <class D, class V>
  HWY_INLINE V Cdf(D d, V x, const GaussTail<D, V>& g) const {
    return vx::IfThenElse(vx::Lt(x, vx::Zero(d)), g.tail, vx::Sub(vx::Set(d, 1.0f), g.tail));
  }
  ACTLAB_FWD { return vx::Mul(x, Cdf(d, x, GaussTail<D, V>(d, x))); }
  ACTLAB_BWD {
    const GaussTail<D, V> g(d, in);
    const V pdf = vx::Mul(g.e_scaled, vx::Set(d, 0.398942280401432678f * GaussTail<D, V>::kUnscale));  // 1/sqrt(2 pi)
    return vx::Mul(dy, vx::MulAdd(in, pdf, Cdf(d, in, g)));
  }
};

// gelu, approximate=tanh: x sigmoid(2u), 2u = x (2k + 2kc x^2), k = sqrt(2/pi), c = 0.044715 (the
// table's x/2 (1 + tanh(u))). e^-|2u| = 2^w with w = -|2u| log2 e formed in float, constants
// included (Exp2NonPositive: 1.11x faster forward, 1.07x backward than e^x's exact reduction of
// 2u, 1 thread, AVX3). Forward 4 ulp + 3 ulp per unit of |2u| [0.69] (w is rounded in float, as 2u
// is in the table, and 2^w amplifies that). Backward s + x s (1 - s) 2k (1 + 3c x^2): the same + 4
// 2^-24 abs [0.25] (the terms cancel near x = -0.75), with Exp2NonPositive's shorter Q. The
// backward clamps x to [-20, 20] first: beyond, e^-|2u| is 0 in float, so the gradient is exactly 1
// or 0 as in the table.
struct GeluTanhOp {
  static constexpr bool kFromY = false;
  static constexpr bool kLongChains = true;
  // The backward at 4 a step (and so without the prefetch): 1.04x faster than at 8 at 16K floats,
  // 1.06x at 16M (1 thread, Zen 5, 3 and 4 alternated runs).
  static constexpr std::size_t kMaxBackwardBundle = 4;
  static constexpr float k2 = 2.0f * 0.797884560802865356f, c = 0.044715f;
  // -|2u| log2 e = -|x| (a1 + a3 x^2): the exponent in the log2 domain (Exp2NonPositive).
  static constexpr float a1 = float(2.0 * 0.797884560802865356 * 1.44269504088896341),
                         a3 = float(2.0 * 0.797884560802865356 * 0.044715 * 1.44269504088896341);
  template <class D, class V>
  HWY_INLINE V NegTwoULog2e(D d, V x, V x2) const {
    return vx::Mul(NegAbs(d, x), vx::MulAdd(vx::Set(d, a3), x2, vx::Set(d, a1)));
  }
  ACTLAB_FWD {
    const V e = Exp2NonPositive(d, NegTwoULog2e(d, x, vx::Mul(x, x)));  // e^-|2u|
    return vx::Mul(x, Sigmoid(d, x, e));  // 2u has x's sign
  }
  ACTLAB_BWD {
    const V x = ClampKeepNaN(d, in, -20.0f, 20.0f);
    const V x2 = vx::Mul(x, x);
    const SigmoidSlope<D, V> sig(d, x, Exp2NonPositive<true>(d, NegTwoULog2e(d, x, x2)));  // 2u has x's sign
    const V dudx = vx::MulAdd(vx::Set(d, 3.0f * k2 * c), x2, vx::Set(d, k2));  // d(2u)/dx
    return vx::Mul(dy, vx::MulAdd(vx::Mul(x, dudx), sig.slope, sig.s));
  }
};

// silu: x sigmoid(x), 4 ulp [0.74]; backward s + x s (1 - s): 4 ulp + 4 2^-24 abs [0.36]
// (cancellation near x = -1.28, where silu' = 0).
struct SiluOp {
  static constexpr bool kFromY = false;
  static constexpr bool kLongChains = true;
  ACTLAB_FWD { return vx::Mul(x, Sigmoid(d, x)); }
  ACTLAB_BWD {
    const SigmoidSlope<D, V> sig(d, in);
    return vx::Mul(dy, vx::MulAdd(in, sig.slope, sig.s));
  }
};

// mish: x tanh(softplus(x)), with tanh(log(1 + e)) = n / (n + 2), n = e (e + 2), e = e^x taken
// at min(x, 20) (beyond, t rounds to 1). Forward 5 ulp [0.79]. Backward t + x sigmoid(x) (1 - t^2)
// as one quotient: 1 - t^2 = 4 (n + 1) / (n + 2)^2 and n + 1 = (1 + e)^2, so
// x sigmoid(x) (1 - t^2) = 4 x e (1 + e) / (n + 2)^2 and mish' = (n (n + 2) + 4 x e (1 + e)) / (n + 2)^2:
// one division; the two terms cancel only near x = -1.19, where mish' = 0: 5 ulp + 5 2^-24 abs [0.39].
// Beyond x = 20 exactly 1, as in the table where t rounds to 1 (x 0 + 1: NaN at +inf, as there).
struct MishOp {
  static constexpr bool kFromY = false;
  static constexpr bool kLongChains = true;
  ACTLAB_FWD {
    const V e = Exp<20>(d, x);
    const V n = vx::Mul(e, vx::Add(e, vx::Set(d, 2.0f)));
    return vx::Mul(x, vx::Div(n, vx::Add(n, vx::Set(d, 2.0f))));
  }
  ACTLAB_BWD {
    const auto one = vx::Set(d, 1.0f);
    const V e = Exp<20>(d, in);
    const V ep1 = vx::Add(e, one);
    const V n = vx::MulAdd(e, ep1, e);  // e (e + 2)
    const V np2 = vx::Add(n, vx::Set(d, 2.0f));
    const V w = vx::Mul(vx::Mul(in, e), ep1);  // x e (1 + e)
    const V q = vx::Div(vx::MulAdd(w, vx::Set(d, 4.0f), vx::Mul(n, np2)), vx::Mul(np2, np2));
    return vx::Mul(dy, vx::IfThenElse(vx::Gt(in, vx::Set(d, 20.0f)), vx::MulAdd(in, vx::Zero(d), one), q));
  }
};

// softplus: beta x > threshold ? x : (max(bx, 0) + log1p(e^-|bx|)) / beta, the log1p term by
// Log1pExpNegAbs. Forward 3 ulp [0.54]; backward (from x) sigmoid(bx), 4 ulp [0.78]; 1 above the
// threshold. kUnitBeta: beta = 1 (the default) without the multiplication and division, which are
// exact then. With beta = 1 and a threshold >= 16 (the default is 20) the forward's select is left
// out: from x = 16 on, log1p(e^-x) < 1.2e-7 (and the AVX-512 table's 1.86e-7 for every x >= 15.5)
// is under half an ulp of x, so x plus it rounds to x anyway.
template <bool kUnitBeta, bool kSelectAbove = true>
struct SoftplusOp {
  static_assert(kUnitBeta || kSelectAbove);
  static constexpr bool kFromY = false;
  static constexpr bool kLongChains = true;
  // At 8 a step, the forward's table (12 registers) and the inputs kept for the rare fallback spill:
  // 1.3x slower than at 4 (2 and 6 about as 4). The backward keeps 8, and with it the prefetch.
  static constexpr std::size_t kMaxForwardBundle = 4;
  float beta, threshold;
  template <class D, class V>
  HWY_INLINE V Scaled(D d, V x) const { return kUnitBeta ? x : vx::Mul(vx::Set(d, beta), x); }
  ACTLAB_FWD {
    const V bx = Scaled(d, x);
    const V l = Log1pExpNegAbs(d, bx);
    V sp = vx::Add(MaxKeepNaN(d, bx, 0.0f), l);
    if (!kUnitBeta) sp = vx::Div(sp, vx::Set(d, beta));
    if (!kSelectAbove) return sp;
    return vx::IfThenElse(vx::Gt(bx, vx::Set(d, threshold)), x, sp);
  }
  ACTLAB_BWD {
    const V bx = Scaled(d, in);
    return vx::Mul(dy, vx::IfThenElse(vx::Gt(bx, vx::Set(d, threshold)), vx::Set(d, 1.0f), Sigmoid(d, bx)));
  }
};

// hardsigmoid, hardswish, softsign: exact (the table's divisions; hardsigmoid's by 6 as
// DivideBySix, which has the division's bits there).
struct HardsigmoidOp {
  static constexpr bool kFromY = false;
  ACTLAB_FWD {
    const V mid = DivideBySix(d, vx::Add(x, vx::Set(d, 3.0f)));  // x + 3 >= 2^-22 where kept
    const V r = vx::IfThenElse(vx::Ge(x, vx::Set(d, 3.0f)), vx::Set(d, 1.0f), mid);
    return vx::IfThenZeroElse(vx::Le(x, vx::Set(d, -3.0f)), r);
  }
  ACTLAB_BWD {
    const auto inside = vx::And(vx::Gt(in, vx::Set(d, -3.0f)), vx::Lt(in, vx::Set(d, 3.0f)));
    return vx::Mul(dy, vx::IfThenElseZero(inside, vx::Set(d, 1.0f / 6.0f)));
  }
};

struct HardswishOp {
  static constexpr bool kFromY = false;
  ACTLAB_FWD {
    const V mid = vx::Div(vx::Mul(x, vx::Add(x, vx::Set(d, 3.0f))), vx::Set(d, 6.0f));
    return vx::IfThenZeroElse(vx::Le(x, vx::Set(d, -3.0f)), vx::IfThenElse(vx::Ge(x, vx::Set(d, 3.0f)), x, mid));
  }
  ACTLAB_BWD {
    const V mid = vx::Div(vx::Add(vx::Add(in, in), vx::Set(d, 3.0f)), vx::Set(d, 6.0f));
    const V r = vx::IfThenElse(vx::Le(in, vx::Set(d, 3.0f)), mid, vx::Set(d, 1.0f));
    return vx::Mul(dy, vx::IfThenZeroElse(vx::Lt(in, vx::Set(d, -3.0f)), r));
  }
};

struct SoftsignOp {
  static constexpr bool kFromY = false;
  ACTLAB_FWD { return vx::Div(x, vx::Add(vx::Set(d, 1.0f), vx::Abs(x))); }
  ACTLAB_BWD {
    const V den = vx::Add(vx::Set(d, 1.0f), vx::Abs(in));
    return vx::Mul(dy, vx::Div(vx::Div(vx::Set(d, 1.0f), den), den));
  }
};

#undef ACTLAB_FWD
#undef ACTLAB_BWD

}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // ACTLAB_VECTOR_OPS_INL_H_
