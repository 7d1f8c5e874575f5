// Column sums: the reference loop, and one Highway body for the vector version.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/linear_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/linear_kernels.hpp"

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Four vectors of columns at a time, their sums in registers down all rows (four independent
// chains of adds), then single vectors, then the columns left over one by one.
void ColumnSums(float* sums, const float* in, std::size_t rows, std::size_t cols) {
  const hn::ScalableTag<float> d;
  const std::size_t n = hn::Lanes(d);
  std::size_t c = 0;
  for (; c + 4 * n <= cols; c += 4 * n) {
    auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
    for (std::size_t r = 0; r < rows; ++r) {
      const float* row = in + r * cols + c;
      s0 = hn::Add(s0, hn::LoadU(d, row));
      s1 = hn::Add(s1, hn::LoadU(d, row + n));
      s2 = hn::Add(s2, hn::LoadU(d, row + 2 * n));
      s3 = hn::Add(s3, hn::LoadU(d, row + 3 * n));
    }
    hn::StoreU(s0, d, sums + c);
    hn::StoreU(s1, d, sums + c + n);
    hn::StoreU(s2, d, sums + c + 2 * n);
    hn::StoreU(s3, d, sums + c + 3 * n);
  }
  for (; c + n <= cols; c += n) {
    auto s = hn::Zero(d);
    for (std::size_t r = 0; r < rows; ++r) s = hn::Add(s, hn::LoadU(d, in + r * cols + c));
    hn::StoreU(s, d, sums + c);
  }
  for (; c < cols; ++c) {
    float s = 0.0f;
    for (std::size_t r = 0; r < rows; ++r) s += in[r * cols + c];
    sums[c] = s;
  }
}

}  // namespace actlab::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace actlab {

HWY_EXPORT(ColumnSums);

void vector_column_sums(float* sums, const float* in, std::size_t rows, std::size_t cols) {
  HWY_DYNAMIC_DISPATCH(ColumnSums)(sums, in, rows, cols);
}

void reference_column_sums(float* sums, const float* in, std::size_t rows, std::size_t cols) {
  for (std::size_t c = 0; c < cols; ++c) sums[c] = 0.0f;
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) sums[c] += in[r * cols + c];
}

}  // namespace actlab
#endif
