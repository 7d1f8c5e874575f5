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

// The evaluation-mode outputs [rows, out_features] for x [rows, in_features], computed in chunks of
// predict_chunk_rows() rows (each layer's output then stays in cache). What `actlab predict` runs,
// on a folded model; throws std::invalid_argument when x does not hold rows * in_features values.
// The chunk: 256 rows on OpenBLAS; 2048 where actlab's packed kernel runs the products, as it packs
// each layer's weights once per chunk (10,000 images, 1 thread: 22.5 ms in chunks of 256, 20.0 in
// chunks of 2560). With several OpenMP threads and at least predict_rows_per_thread() rows for
// each, each thread runs its own share of the rows through the whole model, on its own copy of its
// layers, in chunks of half that many rows. The outputs are the same bits on any thread count.
std::size_t predict_chunk_rows();
std::size_t predict_rows_per_thread();
std::vector<float> predict(Sequential& model, std::span<const float> x, std::size_t rows);

}  // namespace actlab
