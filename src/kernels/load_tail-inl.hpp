// Loading the first `count` lanes of a vector from memory that may be unaligned and may end before
// a whole vector (the tail of an array, a short row), for the kernels compiled per target under
// hwy/foreach_target.h (hence the toggling guard). Highway 1.0.3's MaskedLoad is no substitute on
// SSE4 and older: there it is an aligned full-vector load, which faults on an unaligned address.
#if defined(ACTLAB_LOAD_TAIL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ACTLAB_LOAD_TAIL_INL_H_
#undef ACTLAB_LOAD_TAIL_INL_H_
#else
#define ACTLAB_LOAD_TAIL_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Lanes [0, count) from p, the others zero; a plain unaligned load when count covers the vector.
// Reads nothing at or past p + count: for vectors of 128 bits or more on AVX2 and AVX-512 a masked
// load (vmaskmovps, or a zeroing mask), which touches no masked-off lane; elsewhere a copy lane by
// lane (on AVX2, FirstN of a shorter vector also sets the lanes past its own).
template <class D>
HWY_INLINE hn::VFromD<D> LoadFirstN(D d, const hn::TFromD<D>* HWY_RESTRICT p, std::size_t count) {
  if (count >= hn::Lanes(d)) return hn::LoadU(d, p);
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  if constexpr (hn::MaxLanes(D()) * sizeof(hn::TFromD<D>) >= 16)
    return hn::MaskedLoad(hn::FirstN(d, count), d, p);
#endif
  HWY_ALIGN_MAX hn::TFromD<D> lanes[HWY_MAX_BYTES / sizeof(hn::TFromD<D>)] = {};
  for (std::size_t i = 0; i < count; ++i) lanes[i] = p[i];
  return hn::Load(d, lanes);
}

}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // ACTLAB_LOAD_TAIL_INL_H_
