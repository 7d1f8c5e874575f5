// Column sums: the reference loop, and one Highway body for the vector version.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/linear_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/linear_kernels.hpp"

HWY_BEFORE_NAMESPACE();
namespace actlab::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// kBlock vectors of columns at a time from column c, their sums in registers down all rows (kBlock
// independent chains of adds); returns the first column left.
template <std::size_t kBlock>
std::size_t ColumnSumBlocks(float* sums, const float* in, std::size_t rows, std::size_t cols, std::size_t c) {
  const hn::ScalableTag<float> d;
  const std::size_t n = hn::Lanes(d);
  for (; c + kBlock * n <= cols; c += kBlock * n) {
    hn::Vec<decltype(d)> s[kBlock];
    for (std::size_t k = 0; k < kBlock; ++k) s[k] = hn::Zero(d);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t k = 0; k < kBlock; ++k) s[k] = hn::Add(s[k], hn::LoadU(d, in + r * cols + c + k * n));
    for (std::size_t k = 0; k < kBlock; ++k) hn::StoreU(s[k], d, sums + c + k * n);
  }
  return c;
}

// Blocks of four vectors, then single vectors, then the columns left over one by one.
void ColumnSums(float* sums, const float* in, std::size_t rows, std::size_t cols) {
  std::size_t c = ColumnSumBlocks<1>(sums, in, rows, cols, ColumnSumBlocks<4>(sums, in, rows, cols, 0));
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
