// Batch normalization kernels over [rows, features] row-major arrays, PyTorch's conventions:
//   y = gamma * (x - mean) / sqrt(var + eps) + beta
// Training normalizes with the batch's biased variance and folds the unbiased one into the running
// variance: running = (1 - momentum) * running + momentum * batch (momentum = 0.1, eps = 1e-5).
// Accuracy: the reference kernels sum in double; the vector kernels sum in float down the rows, so
// their error grows with the batch, as PyTorch's float BatchNorm's does (largest error in y against
// double, x = 3 + 2 N(0, 1): 1e5 rows 1.4e-4, PyTorch 7.2e-5; 1e6 rows 2.6e-3, PyTorch 1.2e-3;
// batches of up to 1000 rows within 2e-5).
#pragma once

#include <cstddef>
#include <span>

namespace actlab {

struct BatchNormShape {
  std::size_t rows = 0;      // batch size
  std::size_t features = 0;  // channels
};

// Training forward. Assigns y [rows, features], and the per-feature batch mean and inverse standard
// deviation 1/sqrt(var_biased + eps) [features] that the backward needs; updates running_mean and
// running_var [features] in place. Needs rows >= 2 (throws std::invalid_argument otherwise, as PyTorch
// does: the unbiased variance of one value is undefined). A feature whose batch contains NaN or inf
// keeps its running statistics unchanged. y may alias x.
void batchnorm_forward_train(std::span<float> y, std::span<float> mean, std::span<float> invstd,
                             std::span<float> running_mean, std::span<float> running_var,
                             std::span<const float> x, std::span<const float> gamma,
                             std::span<const float> beta, BatchNormShape shape, float eps, float momentum);

// Evaluation forward with the running statistics. Assigns y; y may alias x.
void batchnorm_forward_eval(std::span<float> y, std::span<const float> x, std::span<const float> gamma,
                            std::span<const float> beta, std::span<const float> running_mean,
                            std::span<const float> running_var, BatchNormShape shape, float eps);

// Training backward. Assigns dx [rows, features] and dgamma, dbeta [features], from dy, the forward's
// input x and the mean and invstd it wrote:
//   xhat = (x - mean) * invstd,  dbeta = sum dy,  dgamma = sum dy * xhat,
//   dx = gamma * invstd / rows * (rows * dy - dbeta - xhat * dgamma).
// dx may alias dy; an empty dx computes only dgamma and dbeta. Like the training forward, it needs
// at least 2 rows (std::invalid_argument otherwise).
void batchnorm_backward(std::span<float> dx, std::span<float> dgamma, std::span<float> dbeta,
                        std::span<const float> dy, std::span<const float> x, std::span<const float> gamma,
                        std::span<const float> mean, std::span<const float> invstd, BatchNormShape shape);

}  // namespace actlab
