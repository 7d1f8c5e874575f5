// Softmax cross-entropy over a batch of logit rows: the reference loop and the vector version
// (Highway, dispatched at run time). loss.cpp checks the shapes and labels and picks one by
// kernel_mode(). The vector version exponentiates with the activation kernels' exp (1.04 ulp) and
// sums a row's exponentials in float lanes; both agree to float rounding.
#pragma once

#include <cstddef>
#include <cstdint>

namespace actlab {

// Returns the sum over rows of -log softmax(z)[label]; when dlogits is not null, assigns
// dlogits = (softmax(z) - onehot(label)) / rows. Labels must be in [0, classes); classes >= 1.
double reference_softmax_cross_entropy(float* dlogits, const float* logits, const std::int32_t* labels,
                                       std::size_t rows, std::size_t classes);
double vector_softmax_cross_entropy(float* dlogits, const float* logits, const std::int32_t* labels,
                                    std::size_t rows, std::size_t classes);

}  // namespace actlab
