// Bundles of K vectors for the activation bodies, so that one body computes K independent vectors
// with its operations interleaved in program order: op 1 on vectors 0..K-1, then op 2, and so on.
//
// Why: an exp-based body is a dependency chain of 60-90 cycles of latency per vector. The core can
// only overlap the chains of vectors whose operations are already in its scheduler, and a body
// written one vector after the other fills the scheduler with one vector's waiting chain. Measured on
// Zen 5 (a 30-FMA chain per vector): 6.0 ns per vector in sequence, 4.2 ns with four interleaved,
// against 3.5 ns of FMA throughput.
//
// vx::Name is hn::Name for single vectors, and takes bundles too: bundles with single vectors
// (broadcast to every member, as the bodies' constants are), and bundles of masks. Each lane goes
// through the same operations as without bundles, so the bits are the same (a NaN's sign aside:
// which operand's NaN an x86 operation returns may follow the compiler's operand order).
#if defined(ACTLAB_VECTOR_BUNDLE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ACTLAB_VECTOR_BUNDLE_INL_H_
#undef ACTLAB_VECTOR_BUNDLE_INL_H_
#else
#define ACTLAB_VECTOR_BUNDLE_INL_H_
#endif

#include <cstddef>
#include <type_traits>

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// K vectors (or masks) handled as one value by the vx:: operations.
template <class T, std::size_t K>
struct Bundle {
  T part[K];
};

template <class T>
struct BundleTraits {
  static constexpr std::size_t size = 0;
};
template <class T, std::size_t K>
struct BundleTraits<Bundle<T, K>> {
  static constexpr std::size_t size = K;
};

// The bundle size of the first bundle among A (0 if none).
template <class... A>
constexpr std::size_t BundleSize() {
  std::size_t k = 0;
  ((k = k ? k : BundleTraits<std::remove_cvref_t<A>>::size), ...);
  return k;
}

// Member k of a bundle; anything else (a single vector, a tag) as it is.
template <class T>
HWY_INLINE const T& Part(const T& a, std::size_t) {
  return a;
}
template <class T, std::size_t K>
HWY_INLINE const T& Part(const Bundle<T, K>& a, std::size_t k) {
  return a.part[k];
}

namespace vx {

using hn::Set;
using hn::SignBit;
using hn::Zero;

// Name(args...): hn::Name(args...) where no argument is a bundle; otherwise hn::Name on member k of
// each bundle (and the other arguments as they are), k = 0..K-1, unrolled so that the K operations
// come one after another. (Not an overload beside hn::Name: Highway's generic templates, such as
// Add(V, V), would take bundles too.)
#define ACTLAB_BUNDLE_OP(Name)                                                                      \
  template <class... A>                                                                             \
  HWY_INLINE auto Name(const A&... a) {                                                             \
    constexpr std::size_t K = BundleSize<A...>();                                                   \
    if constexpr (K == 0) {                                                                         \
      return hn::Name(a...);                                                                        \
    } else {                                                                                        \
      Bundle<decltype(hn::Name(Part(a, 0)...)), K> r;                                               \
      _Pragma("GCC unroll 16") for (std::size_t k = 0; k < K; ++k) r.part[k] = hn::Name(Part(a, k)...); \
      return r;                                                                                     \
    }                                                                                               \
  }

ACTLAB_BUNDLE_OP(Abs)
ACTLAB_BUNDLE_OP(Add)
ACTLAB_BUNDLE_OP(And)
ACTLAB_BUNDLE_OP(BitCast)
ACTLAB_BUNDLE_OP(CopySignToAbs)
ACTLAB_BUNDLE_OP(Div)
ACTLAB_BUNDLE_OP(Ge)
ACTLAB_BUNDLE_OP(Gt)
ACTLAB_BUNDLE_OP(IfThenElse)
ACTLAB_BUNDLE_OP(IfThenElseZero)
ACTLAB_BUNDLE_OP(IfThenZeroElse)
ACTLAB_BUNDLE_OP(IsNaN)
ACTLAB_BUNDLE_OP(Le)
ACTLAB_BUNDLE_OP(Lt)
ACTLAB_BUNDLE_OP(Max)
ACTLAB_BUNDLE_OP(Min)
ACTLAB_BUNDLE_OP(Mul)
ACTLAB_BUNDLE_OP(MulAdd)
ACTLAB_BUNDLE_OP(MulSub)
ACTLAB_BUNDLE_OP(Neg)
ACTLAB_BUNDLE_OP(NegMulAdd)
ACTLAB_BUNDLE_OP(Or)
ACTLAB_BUNDLE_OP(Sub)
#undef ACTLAB_BUNDLE_OP

template <int kBits, class V>
HWY_INLINE V ShiftLeft(const V& a) {
  return hn::ShiftLeft<kBits>(a);
}
template <int kBits, class T, std::size_t K>
HWY_INLINE Bundle<T, K> ShiftLeft(const Bundle<T, K>& a) {
  Bundle<T, K> r;
#pragma GCC unroll 16
  for (std::size_t k = 0; k < K; ++k) r.part[k] = hn::ShiftLeft<kBits>(a.part[k]);
  return r;
}

// Whether every lane of m (every member's, for a bundle of masks) is true. Unlike the operations
// above it looks across lanes: callers use it only to skip work whose result a per-lane select would
// discard anyway, so that each lane's bits stay its own.
template <class D, class M>
HWY_INLINE bool AllTrue(D d, const M& m) {
  return hn::AllTrue(d, m);
}
template <class D, class M, std::size_t K>
HWY_INLINE bool AllTrue(D d, const Bundle<M, K>& m) {
  M all = m.part[0];
#pragma GCC unroll 16
  for (std::size_t k = 1; k < K; ++k) all = hn::And(all, m.part[k]);
  return hn::AllTrue(d, all);
}

}  // namespace vx
}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // ACTLAB_VECTOR_BUNDLE_INL_H_
