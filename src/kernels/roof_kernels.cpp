// Streaming copy and triad: one Highway body each, dispatched at run time. Stores before the first
// vector-aligned output address and after the last whole vector are plain ones.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/roof_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/cache_control.h>
#include <hwy/highway.h>

#include "kernels/roof_kernels.hpp"

#include <cstdint>

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// From this many floats on, the copy prefetches its input 2048 floats ahead, one 64-byte line at a
// time, as the activation kernels' streaming loops do (vector_activations.cpp): the
// roof must be the best this core does, or a kernel that prefetches reads above 100% of it. 16M
// floats, 1 thread, Zen 5: the copy 57.0-57.3 GB/s without, 59.9-62.8 with; the triad's two inputs
// ran slower prefetched, so it does not.
constexpr std::size_t prefetch_from = std::size_t(1) << 20;
constexpr std::size_t prefetch_ahead = 2048;

// Calls scalar(i) up to the first i where out + i is vector-aligned, vector(i) for each whole
// vector from there (with prefetch(i) at each 64-byte line, for large n), and scalar(i) for the rest.
template <class Scalar, class Vector, class Prefetch>
HWY_INLINE void AlignedStreamLoop(float* out, std::size_t n, std::size_t lanes, Scalar&& scalar, Vector&& vector,
                                  Prefetch&& prefetch) {
  std::size_t i = 0;
  while (i < n && reinterpret_cast<std::uintptr_t>(out + i) % (lanes * sizeof(float)) != 0) scalar(i++);
  const std::size_t line = 64 / sizeof(float);
  if (n >= prefetch_from && lanes <= line) {
    for (; i + line <= n; i += line) {
      if (i + prefetch_ahead + line <= n) prefetch(i + prefetch_ahead);  // inside the arrays
      for (std::size_t k = 0; k < line; k += lanes) vector(i + k);
    }
  }
  for (; i + lanes <= n; i += lanes) vector(i);
  for (; i < n; ++i) scalar(i);
  hwy::FlushStream();
}

void StreamCopy(float* out, const float* in, std::size_t n) {
  const hn::ScalableTag<float> d;
  AlignedStreamLoop(
      out, n, hn::Lanes(d), [&](std::size_t i) { out[i] = in[i]; },
      [&](std::size_t i) { hn::Stream(hn::LoadU(d, in + i), d, out + i); },
      [&](std::size_t i) { hwy::Prefetch(in + i); });
}

void StreamTriad(float* out, const float* b, const float* c, float s, std::size_t n) {
  const hn::ScalableTag<float> d;
  const auto vs = hn::Set(d, s);
  AlignedStreamLoop(
      out, n, hn::Lanes(d), [&](std::size_t i) { out[i] = b[i] + s * c[i]; },
      [&](std::size_t i) { hn::Stream(hn::Add(hn::LoadU(d, b + i), hn::Mul(vs, hn::LoadU(d, c + i))), d, out + i); },
      [](std::size_t) {});  // prefetching b and c measured 8% slower (16M floats, 1 thread, Zen 5)
}

}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace actlab {

HWY_EXPORT(StreamCopy);
HWY_EXPORT(StreamTriad);

void stream_copy(float* out, const float* in, std::size_t n) { HWY_DYNAMIC_DISPATCH(StreamCopy)(out, in, n); }

void stream_triad(float* out, const float* b, const float* c, float s, std::size_t n) {
  HWY_DYNAMIC_DISPATCH(StreamTriad)(out, b, c, s, n);
}

}  // namespace actlab
#endif
