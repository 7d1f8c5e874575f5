// Evaluation-time simplification: every BatchNorm1d that directly follows a Linear is folded into
// that Linear's weight and bias, using the running statistics:
//   s = gamma / sqrt(running_var + eps),  W' = diag(s) W,  b' = s (b - running_mean) + beta.
// The folded model computes the evaluation-mode outputs of the original with one pass less per
// BatchNorm; it is for inference only (it has no BatchNorm to train).
#pragma once

#include "actlab/model.hpp"

namespace actlab {

// A copy of `model` with foldable BatchNorm layers merged; other layers are kept as they are.
Sequential fold_batchnorm(const Sequential& model);

}  // namespace actlab
