// The BatchNorm API: checks shapes once, then runs the vector or the reference kernel.
#include "actlab/batchnorm.hpp"

#include "actlab/kernels.hpp"
#include "kernels/batchnorm_vector.hpp"

#include <fmt/format.h>
#include <stdexcept>

namespace actlab {
namespace {

void check(std::size_t size, std::size_t expected, const char* what) {
  if (size != expected)
    throw std::invalid_argument(fmt::format("batchnorm: {} has {} values, expected {}", what, size, expected));
}

// x, gamma, and a per-feature array: beta, or dbeta in the backward.
void check_common(BatchNormShape s, std::size_t x, std::size_t gamma, std::size_t beta,
                  const char* beta_name = "beta") {
  if (s.features == 0) throw std::invalid_argument("batchnorm: zero features");
  check(x, s.rows * s.features, "x");
  check(gamma, s.features, "gamma");
  check(beta, s.features, beta_name);
}

}  // namespace

void batchnorm_forward_train(std::span<float> y, std::span<float> mean, std::span<float> invstd,
                             std::span<float> running_mean, std::span<float> running_var,
                             std::span<const float> x, std::span<const float> gamma,
                             std::span<const float> beta, BatchNormShape s, float eps, float momentum) {
  check_common(s, x.size(), gamma.size(), beta.size());
  check(y.size(), s.rows * s.features, "y");
  check(mean.size(), s.features, "mean");
  check(invstd.size(), s.features, "invstd");
  check(running_mean.size(), s.features, "running_mean");
  check(running_var.size(), s.features, "running_var");
  if (s.rows < 2)
    throw std::invalid_argument(fmt::format(
        "batchnorm: a training batch needs more than 1 value per feature, got {} row(s)", s.rows));
  auto* kernel = kernel_mode() == KernelMode::vector ? vector_batchnorm_forward_train
                                                     : reference_batchnorm_forward_train;
  kernel(y.data(), mean.data(), invstd.data(), running_mean.data(), running_var.data(), x.data(), gamma.data(),
         beta.data(), s, eps, momentum);
}

void batchnorm_forward_eval(std::span<float> y, std::span<const float> x, std::span<const float> gamma,
                            std::span<const float> beta, std::span<const float> running_mean,
                            std::span<const float> running_var, BatchNormShape s, float eps) {
  check_common(s, x.size(), gamma.size(), beta.size());
  check(y.size(), s.rows * s.features, "y");
  check(running_mean.size(), s.features, "running_mean");
  check(running_var.size(), s.features, "running_var");
  auto* kernel = kernel_mode() == KernelMode::vector ? vector_batchnorm_forward_eval
                                                     : reference_batchnorm_forward_eval;
  kernel(y.data(), x.data(), gamma.data(), beta.data(), running_mean.data(), running_var.data(), s, eps);
}

void batchnorm_backward(std::span<float> dx, std::span<float> dgamma, std::span<float> dbeta,
                        std::span<const float> dy, std::span<const float> x, std::span<const float> gamma,
                        std::span<const float> mean, std::span<const float> invstd, BatchNormShape s) {
  check_common(s, x.size(), gamma.size(), dbeta.size(), "dbeta");
  if (!dx.empty()) check(dx.size(), s.rows * s.features, "dx");
  check(dy.size(), s.rows * s.features, "dy");
  check(dgamma.size(), s.features, "dgamma");
  check(mean.size(), s.features, "mean");
  check(invstd.size(), s.features, "invstd");
  if (s.rows < 2)  // as in the forward it differentiates (with no rows, dgamma was 0 / 0)
    throw std::invalid_argument(fmt::format(
        "batchnorm: a training batch needs more than 1 value per feature, got {} row(s)", s.rows));
  auto* kernel = kernel_mode() == KernelMode::vector ? vector_batchnorm_backward : reference_batchnorm_backward;
  kernel(dx.empty() ? nullptr : dx.data(), dgamma.data(), dbeta.data(), dy.data(), x.data(), gamma.data(),
         mean.data(), invstd.data(), s);
}

}  // namespace actlab
