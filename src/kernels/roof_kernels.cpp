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

// Calls scalar(i) up to the first i where out + i is vector-aligned, vector(i) for each whole
// vector from there, and scalar(i) for the rest.
template <class Scalar, class Vector>
HWY_INLINE void AlignedStreamLoop(float* out, std::size_t n, std::size_t lanes, Scalar&& scalar, Vector&& vector) {
  std::size_t i = 0;
  while (i < n && reinterpret_cast<std::uintptr_t>(out + i) % (lanes * sizeof(float)) != 0) scalar(i++);
  for (; i + lanes <= n; i += lanes) vector(i);
  for (; i < n; ++i) scalar(i);
  hwy::FlushStream();
}

void StreamCopy(float* out, const float* in, std::size_t n) {
  const hn::ScalableTag<float> d;
  AlignedStreamLoop(
      out, n, hn::Lanes(d), [&](std::size_t i) { out[i] = in[i]; },
      [&](std::size_t i) { hn::Stream(hn::LoadU(d, in + i), d, out + i); });
}

void StreamTriad(float* out, const float* b, const float* c, float s, std::size_t n) {
  const hn::ScalableTag<float> d;
  const auto vs = hn::Set(d, s);
  AlignedStreamLoop(
      out, n, hn::Lanes(d), [&](std::size_t i) { out[i] = b[i] + s * c[i]; },
      [&](std::size_t i) { hn::Stream(hn::Add(hn::LoadU(d, b + i), hn::Mul(vs, hn::LoadU(d, c + i))), d, out + i); });
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
