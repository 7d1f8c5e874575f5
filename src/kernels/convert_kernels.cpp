// Byte-to-float conversion: the reference loop, and one Highway body for the vector version.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/convert_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/convert_kernels.hpp"

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

void ScaleBytes(float* out, const std::uint8_t* in, std::size_t n, float scale, float shift) {
  const hn::ScalableTag<float> d;
  const hn::Rebind<std::int32_t, decltype(d)> di;
  const hn::Rebind<std::uint8_t, decltype(d)> d8;
  const std::size_t lanes = hn::Lanes(d);
  const auto vscale = hn::Set(d, scale), vshift = hn::Set(d, shift);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto bytes = hn::ConvertTo(d, hn::PromoteTo(di, hn::LoadU(d8, in + i)));
    hn::StoreU(hn::Add(hn::Mul(bytes, vscale), vshift), d, out + i);
  }
  for (; i < n; ++i) out[i] = float(in[i]) * scale + shift;  // the tail, as the reference
}

}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace actlab {

HWY_EXPORT(ScaleBytes);

void vector_scale_bytes(float* out, const std::uint8_t* in, std::size_t n, float scale, float shift) {
  HWY_DYNAMIC_DISPATCH(ScaleBytes)(out, in, n, scale, shift);
}

void reference_scale_bytes(float* out, const std::uint8_t* in, std::size_t n, float scale, float shift) {
  for (std::size_t i = 0; i < n; ++i) out[i] = float(in[i]) * scale + shift;
}

}  // namespace actlab
#endif
