// Softmax cross-entropy: the reference loop, and one Highway body for the vector version.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/loss_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/load_tail-inl.hpp"
#include "kernels/loss_kernels.hpp"
#include "kernels/vector_math-inl.hpp"

#include <cmath>
#include <limits>
#include <vector>

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// One row at a time, its classes in vectors (the last one masked): the maximum, then e = exp(z -
// max) summed (e goes into dlogits, which the last loop turns into the gradient in place).
double SoftmaxCrossEntropy(float* dlogits, const float* logits, const std::int32_t* labels, std::size_t rows,
                           std::size_t classes) {
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  const std::size_t lanes = hn::Lanes(d);
  const float inv_rows = 1.0f / float(rows);
  thread_local std::vector<float> row_exps;  // when no gradient is wanted; grows once
  if (!dlogits && row_exps.size() < classes) row_exps.resize(classes);
  double total = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* z = logits + r * classes;
    float* e = dlogits ? dlogits + r * classes : row_exps.data();
    auto vmax = hn::Set(d, -std::numeric_limits<float>::infinity());
    for (std::size_t c = 0; c < classes; c += lanes) {
      const auto mask = hn::FirstN(d, classes - c);
      vmax = hn::Max(vmax, hn::IfThenElse(mask, LoadFirstN(d, z + c, classes - c), vmax));
    }
    const float zmax = hn::GetLane(hn::MaxOfLanes(d, vmax));
    const std::int32_t label = labels[r];
    const double z_label = double(z[label]);  // before e, which may be z itself, is written
    const auto shift = hn::Set(d, zmax);
    auto vsum = hn::Zero(d);
    for (std::size_t c = 0; c < classes; c += lanes) {
      const auto mask = hn::FirstN(d, classes - c);
      // z - max <= 0, or NaN when z or the row holds NaN or inf (the loss is then NaN).
      const auto ev = hn::IfThenElseZero(mask, ExpNonPositive(d, hn::Sub(LoadFirstN(d, z + c, classes - c), shift)));
      hn::BlendedStore(ev, mask, d, e + c);
      vsum = hn::Add(vsum, ev);
    }
    const double sum = double(hn::GetLane(hn::SumOfLanes(d, vsum)));
    total += std::log(sum) - (z_label - double(zmax));
    if (!dlogits) continue;
    const auto inv_sum = hn::Set(d, float(1.0 / sum)), scale = hn::Set(d, inv_rows), one = hn::Set(d, 1.0f);
    for (std::size_t c = 0; c < classes; c += lanes) {
      const auto mask = hn::FirstN(d, classes - c);
      const auto p = hn::Mul(LoadFirstN(d, e + c, classes - c), inv_sum);
      const auto is_label = hn::RebindMask(d, hn::Eq(hn::Iota(di, std::int32_t(c)), hn::Set(di, label)));
      hn::BlendedStore(hn::Mul(hn::IfThenElse(is_label, hn::Sub(p, one), p), scale), mask, d, e + c);
    }
  }
  return total;
}

}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace actlab {

HWY_EXPORT(SoftmaxCrossEntropy);

double vector_softmax_cross_entropy(float* dlogits, const float* logits, const std::int32_t* labels,
                                    std::size_t rows, std::size_t classes) {
  return HWY_DYNAMIC_DISPATCH(SoftmaxCrossEntropy)(dlogits, logits, labels, rows, classes);
}

double reference_softmax_cross_entropy(float* dlogits, const float* logits, const std::int32_t* labels,
                                       std::size_t rows, std::size_t classes) {
  thread_local std::vector<float> exps;  // grows once; no allocation per training step after that
  if (exps.size() < classes) exps.resize(classes);
  const double inv_rows = 1.0 / double(rows);
  double total = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* z = logits + r * classes;
    const std::int32_t label = labels[r];
    float zmax = z[0];
    for (std::size_t c = 1; c < classes; ++c) zmax = std::fmax(zmax, z[c]);
    double sum = 0.0;
    for (std::size_t c = 0; c < classes; ++c) sum += (exps[c] = std::exp(z[c] - zmax));
    total += std::log(sum) - (double(z[label]) - zmax);
    if (!dlogits) continue;
    float* dz = dlogits + r * classes;
    const double inv_sum = 1.0 / sum;
    for (std::size_t c = 0; c < classes; ++c)
      dz[c] = float((exps[c] * inv_sum - (std::int32_t(c) == label ? 1.0 : 0.0)) * inv_rows);
  }
  return total;
}

}  // namespace actlab
#endif
