// The BatchNorm kernels behind batchnorm.hpp's API (which checks shapes and picks one by
// kernel_mode()): the scalar reference, and the Highway vector version dispatched at run time.
#pragma once

#include "actlab/batchnorm.hpp"

namespace actlab {

// Work (rows * features) above which the vector kernels split feature blocks over OpenMP threads.
// Measured on the 2-core development VM, 2 threads against 1: 128x512 (64K) twice as slow,
// 512x1024 about even, 1024x1024 1.4x faster forward and 1.5x backward.
inline constexpr std::size_t parallel_threshold = std::size_t(1) << 20;

void vector_batchnorm_forward_train(float* y, float* mean, float* invstd, float* running_mean,
                                    float* running_var, const float* x, const float* gamma, const float* beta,
                                    BatchNormShape shape, float eps, float momentum);
void vector_batchnorm_forward_eval(float* y, const float* x, const float* gamma, const float* beta,
                                   const float* running_mean, const float* running_var, BatchNormShape shape,
                                   float eps);
// dx == nullptr computes only dgamma and dbeta.
void vector_batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                               const float* gamma, const float* mean, const float* invstd, BatchNormShape shape);

void reference_batchnorm_forward_train(float* y, float* mean, float* invstd, float* running_mean,
                                       float* running_var, const float* x, const float* gamma, const float* beta,
                                       BatchNormShape shape, float eps, float momentum);
void reference_batchnorm_forward_eval(float* y, const float* x, const float* gamma, const float* beta,
                                      const float* running_mean, const float* running_var, BatchNormShape shape,
                                      float eps);
void reference_batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                                  const float* gamma, const float* mean, const float* invstd, BatchNormShape shape);

}  // namespace actlab
