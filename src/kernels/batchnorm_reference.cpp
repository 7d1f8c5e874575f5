// Reference batch normalization, the specification: per-feature sums accumulated in double, two
// passes for the variance (sum of squared deviations) so that large means do not cancel.
// Shapes are checked by the API in batchnorm.cpp.
#include "kernels/batchnorm_vector.hpp"

#include <cmath>
#include <vector>

namespace actlab {

void reference_batchnorm_forward_train(float* y, float* mean, float* invstd, float* running_mean,
                                       float* running_var, const float* x, const float* gamma, const float* beta,
                                       BatchNormShape s, float eps, float momentum) {
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
    if (!std::isfinite(sum[c]) || !std::isfinite(sq[c])) continue;  // never learn statistics from NaN/inf
    running_mean[c] = float((1.0 - momentum) * running_mean[c] + momentum * sum[c]);
    running_var[c] = float((1.0 - momentum) * running_var[c] + momentum * sq[c] / double(n - 1));
  }
  // Normalize with the double mean: the float one is off by up to half its ulp, a visible shift of
  // xhat when |mean| >> std (mean 1000, std 0.05: 6e-4).
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < f; ++c)
      y[r * f + c] = float(gamma[c] * ((x[r * f + c] - sum[c]) * inv[c]) + beta[c]);
}

void reference_batchnorm_forward_eval(float* y, const float* x, const float* gamma, const float* beta,
                                      const float* running_mean, const float* running_var, BatchNormShape s,
                                      float eps) {
  const std::size_t f = s.features;
  for (std::size_t r = 0; r < s.rows; ++r)
    for (std::size_t c = 0; c < f; ++c) {
      const float inv = 1.0f / std::sqrt(running_var[c] + eps);
      y[r * f + c] = gamma[c] * ((x[r * f + c] - running_mean[c]) * inv) + beta[c];
    }
}

void reference_batchnorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                                  const float* gamma, const float* mean, const float* invstd, BatchNormShape s) {
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
  if (!dx) return;
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < f; ++c) {
      const std::size_t i = r * f + c;
      const double xhat = (double(x[i]) - exact_mean[c]) * invstd[c];
      const double k = double(gamma[c]) * invstd[c] / double(n);
      dx[i] = float(k * (double(n) * dy[i] - sum_dy[c] - xhat * sum_dy_xhat[c]));
    }
}

}  // namespace actlab
