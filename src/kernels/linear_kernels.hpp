// The Linear layer's work besides its matrix products (kernels/gemm.hpp): the bias gradient, a sum
// over the batch of each output column. The reference loop is the specification; the vector
// version (Highway, dispatched at run time) adds each column's values in the same row order, so
// it gives the same bits.
#pragma once

#include <cstddef>

namespace actlab {

// sums[c] = sum over r of in[r * cols + c], added in row order; sums may not overlap in.
void reference_column_sums(float* sums, const float* in, std::size_t rows, std::size_t cols);
void vector_column_sums(float* sums, const float* in, std::size_t rows, std::size_t cols);

}  // namespace actlab
