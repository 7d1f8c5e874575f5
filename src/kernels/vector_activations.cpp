// Loops, run-time dispatch and the registry of the vector activation kernels. The bodies are in
// vector_ops-inl.hpp (one per activation), the math in vector_math-inl.hpp; this file is compiled
// once per instruction set by hwy/foreach_target.h and the best one is chosen at run time.
#include "kernels/vector_activations.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/vector_activations.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "kernels/vector_ops-inl.hpp"

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace {

using DF = hn::ScalableTag<float>;

// For the per-vector lambdas: without it GCC calls each body out of line, once per vector, and
// reloads every constant of the body on each call (gelu-tanh backward measured 1.16x slower).
#define ACTLAB_VECTOR_BODY HWY_ATTR __attribute__((always_inline))

constexpr std::size_t kMaxLanes = HWY_MAX_BYTES / sizeof(float);
// Vectors per step of Loop, as one bundle (vector_bundle-inl.hpp): 4, and for the directions whose
// body is a long exp-based chain (kLongChains, and not a backward from y) 8 where there are 32
// vector registers (AVX-512); a body may ask for fewer in either direction (kMaxForwardBundle,
// kMaxBackwardBundle). Measured on Zen 5, 1 thread, against the former two vectors a step: at 4,
// the exp/erf bodies 1.1-1.3x faster on AVX3 and on AVX2, the memory-bound ones unchanged; on AVX3
// at 8 against 4 (cache-resident, the ninth session's bodies), gelu-tanh and softplus forward
// 1.16x, mish 1.09-1.12x, tanh 1.11x, sigmoid, silu and elu 1.06-1.08x, but exact gelu 1.06x slower
// (its values no longer fit the registers); it takes 6, 1.06x faster than 4 (medians of 4
// alternated runs). Since then softplus's forward (its table) and gelu-tanh's backward take 4.
// (AVX2 at 8 on the same CPU: mixed, and exact gelu 1.12x slower; 4 kept there.)
constexpr std::size_t kBundle = 4;
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
constexpr std::size_t kLongBundle = 8;
#else
constexpr std::size_t kLongBundle = 4;
#endif
// clang with AddressSanitizer (the fuzz preset: -O1, ASan, UBSan) spent over 10 minutes on this file
// with the bundles, against 10 s for g++ with the same sanitizers at -O0 (the debug preset, whose
// tests run the bundles): there the plain loop.
#if defined(__clang__) && defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ACTLAB_PLAIN_ACTIVATION_LOOPS 1
#endif
#endif
template <class Body, bool kForward>
constexpr std::size_t BundleFor() {
#if HWY_HAVE_SCALABLE || defined(ACTLAB_PLAIN_ACTIVATION_LOOPS)
  return 1;  // sizeless vectors (SVE, RVV) cannot be held in an array; or the build above
#endif
  std::size_t k = kBundle;
  if constexpr (requires { requires Body::kLongChains; })
    if (kForward || !Body::kFromY) k = kLongBundle;
  if constexpr (requires { Body::kMaxForwardBundle; })
    if (kForward) k = std::min(k, Body::kMaxForwardBundle);
  if constexpr (requires { Body::kMaxBackwardBundle; })
    if (!kForward) k = std::min(k, Body::kMaxBackwardBundle);
  return k;
}

// The last n < one vector of elements, through aligned stack buffers (never reads past the end).
// Padding lanes hold 0, which every body accepts.
template <class F>
HWY_INLINE void Partial(std::size_t n, float* out, const float* a, const float* b, F f) {
  const DF d;
  HWY_ALIGN float ba[kMaxLanes] = {}, bb[kMaxLanes] = {};
  std::memcpy(ba, a, n * sizeof(float));
  if (b) std::memcpy(bb, b, n * sizeof(float));
  hn::Store(f(hn::Load(d, ba), hn::Load(d, bb)), d, ba);
  std::memcpy(out, ba, n * sizeof(float));
}

// The elements before `out` reaches a vector-aligned address (at most n): the loops take them
// through Partial, so that their whole vectors are stored aligned.
HWY_INLINE std::size_t HeadBeforeAligned(const float* out, std::size_t n) {
  const std::size_t N = hn::Lanes(DF());
  const std::size_t misalign = (reinterpret_cast<std::uintptr_t>(out) / sizeof(float)) % N;
  return misalign ? HWY_MIN(N - misalign, n) : 0;
}

// Stores a whole aligned vector, with a non-temporal hint when streaming.
template <class V>
HWY_INLINE void Put(V v, float* p, bool stream) {
  if (stream) hn::Stream(v, DF(), p);
  else hn::Store(v, DF(), p);
}

// Floats ahead of the loads that the loop prefetches when streaming (DRAM-sized arrays), one 64-byte
// line at a time: in forwards, and in backwards at 8 vectors a step. At 8 a step, one step of an
// exp-based body fills the core's window, and the next step's loads issue too late for the hardware
// prefetcher to hide DRAM's latency: at 16M floats, 1 thread, elu forward took 0.20-0.33 ns and
// gelu-tanh backward (then at 8) 0.41-0.55 without this (0.145 and 0.23 at 4 vectors a step),
// 0.134 and 0.21 with it; 1024 floats ahead measured slower, 4096 the same. The light forwards
// gain too (hardswish 0.158 -> 0.137 ns, hardsigmoid and softsign 1.07-1.08x, relu unchanged);
// the light backwards, which read two arrays, ran slower prefetched and do not.
constexpr std::size_t kPrefetchAhead = 2048;

// out[i] = f(a[i], b[i]) for i < n. Whole vectors are stored at addresses aligned to the vector
// size (the head before goes through Partial): misaligned 64-byte stores cost twice, and
// std::vector's data is typically 16 bytes off. The inputs are usually just as misaligned as `out`,
// so this aligns them too. With `stream`, the stores carry non-temporal hints.
// Whole vectors go kB a step as one bundle, so that the kB dependency chains overlap in the core;
// kB = 1 keeps the plain loop of two a step, for bodies that are not written for bundles. f is
// inlined twice here (the bundle, kB copies of the body's operations, and the single vector), and
// the head and tail share one out-of-line copy: every inlined copy of every body on every target
// adds to the build (clang with sanitizers once took minutes over this file; with the bundles, g++
// compiles it in 13 s at -O3 and 10 s at -O0 with ASan and UBSan).
template <std::size_t kB, class F>
HWY_INLINE void Loop(float* out, const float* a, const float* b, std::size_t n, bool stream, F f) {
  const DF d;
  const std::size_t N = hn::Lanes(d);
  const float* bb = b ? b : a;  // loads of b only where the body uses it
  const auto partial = [&](std::size_t count, float* o, const float* pa, const float* pb)
                           HWY_ATTR __attribute__((noinline)) { Partial(count, o, pa, pb, f); };
  std::size_t i = HeadBeforeAligned(out, n);
  if (i) partial(i, out, a, b);
  if constexpr (kB > 1) {
    using V = hn::VFromD<DF>;
    // Prefetched addresses stay inside the arrays (the last kPrefetchAhead floats are not prefetched).
    const std::size_t prefetch_end = stream && (kB >= 8 || !b) && n > kPrefetchAhead ? n - kPrefetchAhead : 0;
    for (; i + kB * N <= n; i += kB * N) {
      Bundle<V, kB> va, vb;
      if (i + kB * N <= prefetch_end)
        for (std::size_t k = 0; k < kB * N; k += 64 / sizeof(float)) {  // each 64-byte line
          hwy::Prefetch(a + i + k + kPrefetchAhead);
          if (b) hwy::Prefetch(b + i + k + kPrefetchAhead);
        }
      for (std::size_t k = 0; k < kB; ++k) {
        va.part[k] = hn::LoadU(d, a + i + k * N);
        vb.part[k] = hn::LoadU(d, bb + i + k * N);
      }
      const auto y = f(va, vb);
      for (std::size_t k = 0; k < kB; ++k) Put(y.part[k], out + i + k * N, stream);
    }
  } else {
    for (; i + 2 * N <= n; i += 2 * N) {
      const auto y0 = f(hn::LoadU(d, a + i), hn::LoadU(d, bb + i));
      const auto y1 = f(hn::LoadU(d, a + i + N), hn::LoadU(d, bb + i + N));
      Put(y0, out + i, stream);
      Put(y1, out + i + N, stream);
    }
  }
  for (; i + N <= n; i += N) Put(f(hn::LoadU(d, a + i), hn::LoadU(d, bb + i)), out + i, stream);
  if (stream) hwy::FlushStream();
  if (i < n) partial(n - i, out + i, a + i, b ? b + i : nullptr);
}

// Calls f with the body of `op` at parameters p (as float, like the table's T(p[k])).
template <class F>
HWY_INLINE void WithOp(int op, const double* p, F&& f) {
  switch (static_cast<VectorOp>(op)) {
    case VectorOp::identity: return f(IdentityOp{});
    case VectorOp::sigmoid: return f(SigmoidOp{});
    case VectorOp::tanh: return f(TanhOp{});
    case VectorOp::relu: return f(ReluOp{});
    case VectorOp::leaky_relu:
    case VectorOp::prelu: return f(SlopeOp<false>{f32(p[0])});
    case VectorOp::rrelu: return f(SlopeOp<true>{f32((p[0] + p[1]) / 2)});
    case VectorOp::elu:
      if (p[0] >= 0) return f(EluOp<true>{f32(p[0])});
      return f(EluOp<false>{f32(p[0])});
    case VectorOp::selu: return f(SeluOp{});
    case VectorOp::celu: {
      const float alpha = f32(p[0]);
      int exponent;
      if (std::frexp(alpha, &exponent) == 0.5f) return f(CeluOp<true>{alpha, 1.0f / alpha});
      return f(CeluOp<false>{alpha, 0.0f});
    }
    case VectorOp::gelu:
      if (p[0] == 0) return f(GeluErfOp{});
      return f(GeluTanhOp{});
    case VectorOp::silu: return f(SiluOp{});
    case VectorOp::mish: return f(MishOp{});
    case VectorOp::softplus:
      if (p[0] == 1 && f32(p[1]) >= 16.0f) return f(SoftplusOp<true, false>{1.0f, f32(p[1])});
      if (p[0] == 1) return f(SoftplusOp<true>{1.0f, f32(p[1])});
      return f(SoftplusOp<false>{f32(p[0]), f32(p[1])});
    case VectorOp::hardsigmoid: return f(HardsigmoidOp{});
    case VectorOp::hardswish: return f(HardswishOp{});
    case VectorOp::softsign: return f(SoftsignOp{});
  }
}

}  // namespace

void ForwardChunk(int op, const double* p, float* y, const float* x, std::size_t n, bool stream) {
  WithOp(op, p, [&](const auto& body) HWY_ATTR {
    const DF d;
    constexpr std::size_t kB = BundleFor<std::remove_cvref_t<decltype(body)>, true>();
    Loop<kB>(y, x, nullptr, n, stream, [&](auto vin, auto) ACTLAB_VECTOR_BODY { return body.Fwd(d, vin); });
  });
}

void BackwardChunk(int op, const double* p, float* dx, const float* dy, const float* x, const float* y,
                   std::size_t n, bool stream) {
  WithOp(op, p, [&](const auto& body) HWY_ATTR {
    const DF d;
    const float* in = std::remove_cvref_t<decltype(body)>::kFromY ? y : x;
    constexpr std::size_t kB = BundleFor<std::remove_cvref_t<decltype(body)>, false>();
    Loop<kB>(dx, dy, in, n, stream, [&](auto vdy, auto vin) ACTLAB_VECTOR_BODY { return body.Bwd(d, vdy, vin); });
  });
}

// Adds the float products dy * x over x <= 0 into two double accumulators per lane pair.
template <class DD, class VD = hn::VFromD<DD>, class V>
HWY_INLINE void AccumulateNonPositive(DD dd, VD& lo, VD& hi, V dy, V x) {
  const DF d;
  const V prod = hn::IfThenZeroElse(hn::Gt(x, hn::Zero(d)), hn::Mul(dy, x));
#if HWY_TARGET == HWY_SCALAR
  (void)hi;  // one lane
  lo = hn::Add(lo, hn::PromoteTo(dd, prod));
#else
  const hn::Half<DF> dh;
  lo = hn::Add(lo, hn::PromoteTo(dd, hn::LowerHalf(dh, prod)));
  hi = hn::Add(hi, hn::PromoteTo(dd, hn::UpperHalf(dh, prod)));
#endif
}

// PReLU's dx = dy * (x > 0 ? 1 : w), w the slopes of the vector.
template <class V>
HWY_INLINE V PreluDx(V dy, V x, V w) {
  const DF d;
  return hn::Mul(dy, hn::IfThenElse(hn::Gt(x, hn::Zero(d)), hn::Set(d, 1.0f), w));
}

double PreluParamGradChunk(const float* dy, const float* x, std::size_t n) {
  const DF d;
  const hn::Repartition<double, DF> dd;
  const std::size_t N = hn::Lanes(d);
  auto lo = hn::Zero(dd), hi = hn::Zero(dd);
  std::size_t i = 0;
  for (; i + N <= n; i += N) AccumulateNonPositive(dd, lo, hi, hn::LoadU(d, dy + i), hn::LoadU(d, x + i));
  if (i < n) {
    HWY_ALIGN float bdy[kMaxLanes] = {}, bx[kMaxLanes] = {};
    std::memcpy(bdy, dy + i, (n - i) * sizeof(float));
    std::memcpy(bx, x + i, (n - i) * sizeof(float));
    AccumulateNonPositive(dd, lo, hi, hn::Load(d, bdy), hn::Load(d, bx));
  }
  return hn::GetLane(hn::SumOfLanes(dd, hn::Add(lo, hi)));
}

// dx = dy * (x > 0 ? 1 : w), returning the sum over x <= 0 of dy * x: one pass for the layer. The
// vectors add into the sums one at a time, in order, so the bits do not depend on the unrolling. Its
// own loop rather than Loop's: Loop hands the body to an out-of-line copy for the head and tail, and
// the sums, reachable from there, then lived on the stack and each vector waited on the last one's
// store (AVX2, 256K values: 0.23 ns per value against 0.11 for relu's backward).
double PreluSharedBackwardChunk(float* dx, const float* dy, const float* x, float w, std::size_t n, bool stream) {
  const DF d;
  const hn::Repartition<double, DF> dd;
  const std::size_t N = hn::Lanes(d);
  auto lo = hn::Zero(dd), hi = hn::Zero(dd);
  const auto vw = hn::Set(d, w);
  const auto body = [&](auto vdy, auto vin) ACTLAB_VECTOR_BODY {
    AccumulateNonPositive(dd, lo, hi, vdy, vin);  // Partial's padding lanes add dy * x = 0
    return PreluDx(vdy, vin, vw);
  };
  std::size_t i = HeadBeforeAligned(dx, n);
  if (i) Partial(i, dx, dy, x, body);
  for (; i + N <= n; i += N) Put(body(hn::LoadU(d, dy + i), hn::LoadU(d, x + i)), dx + i, stream);
  if (stream) hwy::FlushStream();
  if (i < n) Partial(n - i, dx + i, dy + i, x + i, body);
  return hn::GetLane(hn::SumOfLanes(dd, hn::Add(lo, hi)));
}

// Per-channel PReLU over n values of [rows, channels] starting at channel 0, as one flat loop with
// aligned stores (like Loop). w_ext[k] = weight[k % channels] for k < channels + lanes, so that the
// slopes of a vector that wraps past a row's end are one load; acc_ext (channels + lanes doubles,
// folded by the caller) collects the backward's dy * x the same way. Head and tail go through
// zero-padded buffers (their padding lanes add dy * x = 0).
template <bool kBackward>
HWY_INLINE void PreluChannelsLoop(float* out, double* acc_ext, const float* dy, const float* x, const float* w_ext,
                                  std::size_t n, std::size_t channels, bool stream) {
  const DF d;
  const hn::Repartition<double, DF> dd;
  const std::size_t N = hn::Lanes(d), H = hn::Lanes(dd), step = N % channels;
  const bool two_halves = 2 * H == N;  // not on HWY_SCALAR (one lane)
  std::size_t c = 0;                   // channel of element i
  const auto body = [&](auto vdy, auto vx) ACTLAB_VECTOR_BODY {
    const auto vw = hn::LoadU(d, w_ext + c);
    if constexpr (!kBackward) {
      return hn::IfThenElse(hn::Gt(vx, hn::Zero(d)), vx, hn::Mul(vx, vw));
    } else {
      auto lo = hn::LoadU(dd, acc_ext + c), hi = two_halves ? hn::LoadU(dd, acc_ext + c + H) : hn::Zero(dd);
      AccumulateNonPositive(dd, lo, hi, vdy, vx);
      hn::StoreU(lo, dd, acc_ext + c);
      if (two_halves) hn::StoreU(hi, dd, acc_ext + c + H);
      return PreluDx(vdy, vx, vw);
    }
  };
  const float* a = kBackward ? dy : x;  // Partial's first input; x second (unused by the forward)
  std::size_t i = HeadBeforeAligned(out, n);
  if (i) {
    Partial(i, out, a, x, [&](auto va, auto vb) ACTLAB_VECTOR_BODY { return kBackward ? body(va, vb) : body(vb, va); });
    c = i % channels;
  }
  if (kBackward && step == 0 && i + N <= n) {
    // channels divides the lane count: every vector adds into the same accumulators, which then stay
    // in registers (through memory, each vector waited for the previous one's store: 16 channels,
    // 256K values, 0.28 ns per value against 0.16 for 64 channels). The same additions in the same
    // order, so the same bits.
    auto lo = hn::LoadU(dd, acc_ext + c), hi = two_halves ? hn::LoadU(dd, acc_ext + c + H) : hn::Zero(dd);
    const auto vw = hn::LoadU(d, w_ext + c);
    for (; i + N <= n; i += N) {
      const auto vdy = hn::LoadU(d, dy + i), vx = hn::LoadU(d, x + i);
      AccumulateNonPositive(dd, lo, hi, vdy, vx);
      Put(PreluDx(vdy, vx, vw), out + i, stream);
    }
    hn::StoreU(lo, dd, acc_ext + c);
    if (two_halves) hn::StoreU(hi, dd, acc_ext + c + H);
  }
  const auto one_vector = [&]() ACTLAB_VECTOR_BODY {
    if (!kBackward && stream && i + N + kPrefetchAhead <= n) hwy::Prefetch(x + i + kPrefetchAhead);  // as Loop's forwards
    Put(kBackward ? body(hn::LoadU(d, dy + i), hn::LoadU(d, x + i)) : body(hn::Zero(d), hn::LoadU(d, x + i)), out + i,
        stream);
  };
  if (channels >= N) {
    // In runs of vectors up to the one that reaches past the row's last channel, with no wrap-around
    // test between them: with that test after every vector, AVX2 (8 lanes) ran 256 channels 1.3x
    // slower than AVX-512.
    while (i + N <= n) {
      const std::size_t run = HWY_MIN((channels - c + N - 1) / N, (n - i) / N);
      for (std::size_t k = 0; k < run; ++k, i += N, c += N) one_vector();
      if (c >= channels) c -= channels;
    }
  }
  for (; i + N <= n; i += N) {
    one_vector();
    c += step;
    if (c >= channels) c -= channels;
  }
  if (i < n) Partial(n - i, out + i, a + i, x + i, [&](auto va, auto vb) ACTLAB_VECTOR_BODY { return kBackward ? body(va, vb) : body(vb, va); });
  if (stream) hwy::FlushStream();
}

void PreluChannelsForward(float* y, const float* x, const float* w_ext, std::size_t n, std::size_t channels,
                          bool stream) {
  PreluChannelsLoop<false>(y, nullptr, nullptr, x, w_ext, n, channels, stream);
}

void PreluChannelsBackward(float* dx, double* acc_ext, const float* dy, const float* x, const float* w_ext,
                           std::size_t n, std::size_t channels, bool stream) {
  PreluChannelsLoop<true>(dx, acc_ext, dy, x, w_ext, n, channels, stream);
}

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }
std::size_t LaneCount() { return hn::Lanes(DF()); }

#undef ACTLAB_VECTOR_BODY
}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace actlab {

HWY_EXPORT(ForwardChunk);
HWY_EXPORT(BackwardChunk);
HWY_EXPORT(PreluParamGradChunk);
HWY_EXPORT(PreluSharedBackwardChunk);
HWY_EXPORT(PreluChannelsForward);
HWY_EXPORT(PreluChannelsBackward);
HWY_EXPORT(TargetName);
HWY_EXPORT(LaneCount);

namespace {
// The registry: table names with a vector body. transcendental: exp/erf/tanh inside.
constexpr VectorKernels registry[] = {
    {"identity", VectorOp::identity, false, false},   {"sigmoid", VectorOp::sigmoid, true, false},
    {"tanh", VectorOp::tanh, true, false},             {"relu", VectorOp::relu, false, false},
    {"leaky_relu", VectorOp::leaky_relu, false, false}, {"prelu", VectorOp::prelu, false, true},
    {"elu", VectorOp::elu, true, false},               {"selu", VectorOp::selu, true, false},
    {"celu", VectorOp::celu, true, false},             {"gelu", VectorOp::gelu, true, false},
    {"silu", VectorOp::silu, true, false},             {"mish", VectorOp::mish, true, false},
    {"softplus", VectorOp::softplus, true, false},     {"hardsigmoid", VectorOp::hardsigmoid, false, false},
    {"hardswish", VectorOp::hardswish, false, false},  {"softsign", VectorOp::softsign, false, false},
    {"rrelu", VectorOp::rrelu, false, false},
};
}  // namespace

const VectorKernels* find_vector_kernels(const ActivationInfo& info) {
  for (const VectorKernels& k : registry)
    if (std::strcmp(k.name, info.name) == 0) return &k;
  return nullptr;
}

void vector_forward(const VectorKernels& k, const ActivationParams& p, float* y, const float* x,
                    std::size_t n, bool stream) {
  HWY_DYNAMIC_DISPATCH(ForwardChunk)(static_cast<int>(k.op), p.data(), y, x, n, stream);
}

void vector_backward(const VectorKernels& k, const ActivationParams& p, float* dx, const float* dy,
                     const float* x, const float* y, std::size_t n, bool stream) {
  HWY_DYNAMIC_DISPATCH(BackwardChunk)(static_cast<int>(k.op), p.data(), dx, dy, x, y, n, stream);
}

double vector_param_grad(const VectorKernels& k, const ActivationParams&, const float* dy, const float* x,
                         std::size_t n) {
  (void)k;  // prelu is the only body with a learnable parameter
  return HWY_DYNAMIC_DISPATCH(PreluParamGradChunk)(dy, x, n);
}

double vector_prelu_shared_backward(float* dx, const float* dy, const float* x, float weight, std::size_t n,
                                    bool stream) {
  return HWY_DYNAMIC_DISPATCH(PreluSharedBackwardChunk)(dx, dy, x, weight, n, stream);
}

void vector_prelu_forward(float* y, const float* x, const float* weight_ext, std::size_t n, std::size_t channels,
                          bool stream) {
  HWY_DYNAMIC_DISPATCH(PreluChannelsForward)(y, x, weight_ext, n, channels, stream);
}

void vector_prelu_backward(float* dx, double* dweight_ext, const float* dy, const float* x, const float* weight_ext,
                           std::size_t n, std::size_t channels, bool stream) {
  HWY_DYNAMIC_DISPATCH(PreluChannelsBackward)(dx, dweight_ext, dy, x, weight_ext, n, channels, stream);
}

std::string vector_target_name() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }
std::size_t vector_lanes() { return HWY_DYNAMIC_DISPATCH(LaneCount)(); }

}  // namespace actlab
#endif  // HWY_ONCE
