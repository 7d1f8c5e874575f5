// Reference batch normalization: per-feature sums accumulated in double, two passes for the
// variance (sum of squared deviations) so that large means do not cancel.
#include "actlab/batchnorm.hpp"

#include <cmath>
#include <fmt/format.h>
#include <stdexcept>
#include <vector>

namespace actlab {
namespace {

void check(std::size_t size, std::size_t expected, const char* what) {
  if (size != expected)
    throw std::invalid_argument(fmt::format("batchnorm: {} has {} values, expected {}", what, size, expected));
}

void check_shapes(BatchNormShape s, std::size_t x, std::size_t y, std::size_t gamma, std::size_t beta) {
  if (s.features == 0) throw std::invalid_argument("batchnorm: zero features");
  check(x, s.rows * s.features, "x");
  check(y, s.rows * s.features, "y");
  check(gamma, s.features, "gamma");
  check(beta, s.features, "beta");
}

}  // namespace

void batchnorm_forward_train(std::span<float> y, std::span<float> mean, std::span<float> invstd,
                             std::span<float> running_mean, std::span<float> running_var,
                             std::span<const float> x, std::span<const float> gamma,
                             std::span<const float> beta, BatchNormShape s, float eps, float momentum) {
  check_shapes(s, x.size(), y.size(), gamma.size(), beta.size());
  check(mean.size(), s.features, "mean");
  check(invstd.size(), s.features, "invstd");
  check(running_mean.size(), s.features, "running_mean");
  check(running_var.size(), s.features, "running_var");
  if (s.rows < 2)
    throw std::invalid_argument(fmt::format(
        "batchnorm: a training batch needs more than 1 value per feature, got {} row(s)", s.rows));

  const std::size_t n = s.rows, f = s.features;
  std::vector<double> sum(f, 0.0), sq(f, 0.0);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < f; ++c) sum[c] += x[r * f + c];
  for (std::size_t c = 0; c < f; ++c) sum[c] /= double(n);  // now the mean
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < f; ++c) {
      const double d = x[r * f + c] - sum[c];
      sq[c] += d * d;
    }
  std::vector<double> inv(f);
  for (std::size_t c = 0; c < f; ++c) {
    const double var = sq[c] / double(n);
    inv[c] = 1.0 / std::sqrt(var + double(eps));
    mean[c] = float(sum[c]);
    invstd[c] = float(inv[c]);
    running_mean[c] = float((1.0 - momentum) * running_mean[c] + momentum * sum[c]);
    running_var[c] = float((1.0 - momentum) * running_var[c] + momentum * sq[c] / double(n - 1));
  }
  // Normalize with the double mean: the float one is off by up to half its ulp, a visible shift of
  // xhat when |mean| >> std (mean 1000, std 0.05: 6e-4).
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < f; ++c)
      y[r * f + c] = float(gamma[c] * ((x[r * f + c] - sum[c]) * inv[c]) + beta[c]);
}

void batchnorm_forward_eval(std::span<float> y, std::span<const float> x, std::span<const float> gamma,
                            std::span<const float> beta, std::span<const float> running_mean,
                            std::span<const float> running_var, BatchNormShape s, float eps) {
  check_shapes(s, x.size(), y.size(), gamma.size(), beta.size());
  check(running_mean.size(), s.features, "running_mean");
  check(running_var.size(), s.features, "running_var");
  const std::size_t f = s.features;
  for (std::size_t r = 0; r < s.rows; ++r)
    for (std::size_t c = 0; c < f; ++c) {
      const float inv = 1.0f / std::sqrt(running_var[c] + eps);
      y[r * f + c] = gamma[c] * ((x[r * f + c] - running_mean[c]) * inv) + beta[c];
    }
}

void batchnorm_backward(std::span<float> dx, std::span<float> dgamma, std::span<float> dbeta,
                        std::span<const float> dy, std::span<const float> x, std::span<const float> gamma,
                        std::span<const float> mean, std::span<const float> invstd, BatchNormShape s) {
  check_shapes(s, x.size(), x.size(), gamma.size(), dbeta.size());
  if (!dx.empty()) check(dx.size(), s.rows * s.features, "dx");
  check(dy.size(), s.rows * s.features, "dy");
  check(dgamma.size(), s.features, "dgamma");
  check(mean.size(), s.features, "mean");
  check(invstd.size(), s.features, "invstd");
  const std::size_t n = s.rows, f = s.features;
  // The float mean is off by up to half its ulp, a shift of every xhat that matters when |mean| >> std.
  // The same pass refines it: true mean = mean + sum(x - mean) / n, the differences exact in double.
  std::vector<double> sum_dy(f, 0.0), sum_dy_d(f, 0.0), sum_d(f, 0.0);  // d = x - mean
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < f; ++c) {
      const double g = dy[r * f + c], d = double(x[r * f + c]) - mean[c];
      sum_dy[c] += g;
      sum_dy_d[c] += g * d;
      sum_d[c] += d;
    }
  std::vector<double> exact_mean(f), sum_dy_xhat(f);
  for (std::size_t c = 0; c < f; ++c) {
    const double shift = sum_d[c] / double(n);
    exact_mean[c] = double(mean[c]) + shift;
    sum_dy_xhat[c] = (sum_dy_d[c] - shift * sum_dy[c]) * invstd[c];
    dbeta[c] = float(sum_dy[c]);
    dgamma[c] = float(sum_dy_xhat[c]);
  }
  if (dx.empty()) return;
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < f; ++c) {
      const std::size_t i = r * f + c;
      const double xhat = (double(x[i]) - exact_mean[c]) * invstd[c];
      const double k = double(gamma[c]) * invstd[c] / double(n);
      dx[i] = float(k * (double(n) * dy[i] - sum_dy[c] - xhat * sum_dy_xhat[c]));
    }
}

}  // namespace actlab
