// Call the kernels directly on your own arrays: no layer, no model. Every kernel takes spans (any
// contiguous float storage), writes only into the spans you pass, allocates nothing, and says in
// its header whether it assigns or accumulates and which arguments may alias.
#include <actlab/activation.hpp>
#include <actlab/batchnorm.hpp>
#include <actlab/kernels.hpp>
#include <actlab/prelu.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  bool ok = true;
  const auto check = [&ok](bool good, const char* what) {
    if (!good) std::printf("MISMATCH: %s\n", what);
    ok = ok && good;
  };
  std::printf("kernels: %s, instruction set %s\n",
              actlab::kernel_mode() == actlab::KernelMode::vector ? "vector" : "reference",
              actlab::vector_isa().c_str());

  // 1. Any activation of the table: y = f(x), then dx = dy * f'(x). Arrays of any length and layout.
  const actlab::Activation leaky = actlab::parse_activation("leaky_relu");  // negative_slope 0.01
  std::array<float, 3> x{-1.0f, 0.0f, 1.0f}, y{}, dy{1.0f, 1.0f, 1.0f}, dx{};
  actlab::activation_forward(leaky, y, x);
  actlab::activation_backward(leaky, dx, dy, x, y);
  std::printf("leaky_relu([-1, 0, 1]) = [%g, %g, %g], derivative [%g, %g, %g]\n", y[0], y[1], y[2], dx[0],
              dx[1], dx[2]);
  check(y[0] == -0.01f && y[1] == 0.0f && y[2] == 1.0f, "leaky_relu values");
  check(dx[0] == 0.01f && dx[1] == 0.01f && dx[2] == 1.0f, "leaky_relu'(0) is the slope, as in PyTorch");

  // In place (y may alias x), on a std::vector.
  std::vector<float> buffer{-2.0f, -0.5f, 0.5f, 2.0f};
  actlab::activation_forward(actlab::parse_activation("gelu:approximate=tanh"), buffer, buffer);
  std::printf("gelu(tanh)([-2, -0.5, 0.5, 2]) = [%.5f, %.5f, %.5f, %.5f]\n", buffer[0], buffer[1], buffer[2],
              buffer[3]);
  check(std::fabs(buffer[3] - 1.95459769f) < 1e-5f, "gelu(2), tanh approximation");

  // 2. PReLU on [rows, channels] with one slope per channel; the backward also gives the slopes'
  //    gradient (summed over rows).
  const std::size_t rows = 2, channels = 3;
  std::vector<float> px{-1, 2, -3, 4, -5, 6}, py(rows * channels), pdy(rows * channels, 1.0f), pdx(rows * channels);
  std::vector<float> slope{0.1f, 0.2f, 0.3f}, dslope(channels);
  actlab::prelu_forward(py, px, slope, channels);
  actlab::prelu_backward(pdx, dslope, pdy, px, slope, channels);
  std::printf("prelu: y = [%g %g %g; %g %g %g], dweight = [%g %g %g]\n", py[0], py[1], py[2], py[3], py[4],
              py[5], dslope[0], dslope[1], dslope[2]);
  check(py[0] == -0.1f && py[4] == -1.0f && dslope[0] == -1.0f && dslope[1] == -5.0f && dslope[2] == -3.0f,
        "prelu per-channel values and slope gradients");

  // 3. BatchNorm over [rows, features]: training forward (batch statistics, updates the running ones),
  //    backward, then evaluation forward with the running statistics.
  const actlab::BatchNormShape shape{.rows = 4, .features = 2};
  std::vector<float> bx{1, 10, 2, 20, 3, 30, 4, 40}, by(8), gamma{1, 1}, beta{0, 0};
  std::vector<float> mean(2), invstd(2), running_mean{0, 0}, running_var{1, 1};
  actlab::batchnorm_forward_train(by, mean, invstd, running_mean, running_var, bx, gamma, beta, shape,
                                  /*eps=*/1e-5f, /*momentum=*/0.1f);
  std::printf("batchnorm: batch mean [%g, %g], running mean [%g, %g], running var [%g, %g]\n", mean[0], mean[1],
              running_mean[0], running_mean[1], running_var[0], running_var[1]);
  // running = 0.9 * running + 0.1 * batch, with the unbiased variance (PyTorch's convention):
  // feature 0 has mean 2.5, biased variance 1.25, unbiased 5/3.
  check(std::fabs(running_mean[0] - 0.25f) < 1e-6f && std::fabs(running_var[0] - (0.9f + 0.1f * 5 / 3)) < 1e-6f,
        "batchnorm running statistics");
  check(std::fabs(by[0] + 1.5f / std::sqrt(1.25f + 1e-5f)) < 1e-5f, "batchnorm output (biased variance)");

  std::vector<float> bdy{1, 0, 0, 0, 0, 0, 0, 0}, bdx(8), dgamma(2), dbeta(2);
  actlab::batchnorm_backward(bdx, dgamma, dbeta, bdy, bx, gamma, mean, invstd, shape);
  float column_sum = 0;  // the input gradient of a normalized column sums to zero
  for (std::size_t r = 0; r < shape.rows; ++r) column_sum += bdx[r * shape.features];
  std::printf("batchnorm backward: dgamma [%g, %g], dbeta [%g, %g], sum of dx over column 0 = %.2g\n", dgamma[0],
              dgamma[1], dbeta[0], dbeta[1], column_sum);
  check(dbeta[0] == 1.0f && std::fabs(column_sum) < 1e-6f, "batchnorm backward");

  actlab::batchnorm_forward_eval(by, bx, gamma, beta, running_mean, running_var, shape, 1e-5f);
  check(std::fabs(by[0] - (1 - 0.25f) / std::sqrt(running_var[0] + 1e-5f)) < 1e-5f, "batchnorm evaluation");

  std::printf(ok ? "all values as expected\n" : "some values differ\n");
  return ok ? 0 : 1;
}
