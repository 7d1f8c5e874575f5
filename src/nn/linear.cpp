// Linear layer on the matrix products of kernels/gemm.hpp (OpenBLAS): y = x W^T + b, dW = dy^T x, db = column sums of dy, dx = dy W.
#include "actlab/layers.hpp"

#include "actlab/kernels.hpp"
#include "kernels/gemm.hpp"
#include "kernels/linear_kernels.hpp"

#include <fmt/format.h>
#include <functional>
#include <stdexcept>

namespace actlab {

Linear::Linear(std::size_t in, std::size_t out)
    : in_features(in), out_features(out), weight(in * out, 0.0f), bias(out, 0.0f),
      dweight(in * out, 0.0f), dbias(out, 0.0f) {}

namespace {

void check_size(const char* what, std::size_t got, std::size_t rows, std::size_t width) {
  if (got != rows * width)
    throw std::invalid_argument(
        fmt::format("linear: {} has {} values, expected {} rows x {} features", what, got, rows, width));
}

}  // namespace

void Linear::forward(std::span<float> y, std::span<const float> x, std::size_t rows, Mode, Rng&) {
  check_size("x", x.size(), rows, in_features);
  check_size("y", y.size(), rows, out_features);
  if (weight.size() != in_features * out_features || bias.size() != out_features)
    throw std::invalid_argument(fmt::format("linear: {} weights and {} biases for {} x {} features", weight.size(),
                                            bias.size(), in_features, out_features));
  // y is written (the bias) before x is read: the two must not overlap.
  const std::less<const float*> before;
  if (before(x.data(), y.data() + y.size()) && before(y.data(), x.data() + x.size()))
    throw std::invalid_argument("linear: y overlaps x (pass a copy of the input)");
  const auto m = int(rows), n = int(out_features), k = int(in_features);
  for (std::size_t r = 0; r < rows; ++r)
    std::copy(bias.begin(), bias.end(), y.begin() + std::ptrdiff_t(r * out_features));
  gemm(false, true, m, n, k, 1.0f, x.data(), k, weight.data(), k, 1.0f, y.data(), n);
}

void Linear::backward(std::span<float> dx, std::span<const float> dy, std::span<const float> x,
                      std::span<const float>, std::size_t rows) {
  check_size("dy", dy.size(), rows, out_features);
  check_size("x", x.size(), rows, in_features);
  if (!dx.empty()) check_size("dx", dx.size(), rows, in_features);
  if (dweight.size() != weight.size() || dbias.size() != bias.size())
    throw std::invalid_argument("linear: gradient buffers do not match the parameters");
  const auto m = int(rows), n = int(out_features), k = int(in_features);
  gemm(true, false, n, k, m, 1.0f, dy.data(), n, x.data(), k, 0.0f, dweight.data(), k);
  (kernel_mode() == KernelMode::vector ? vector_column_sums : reference_column_sums)(dbias.data(), dy.data(), rows,
                                                                                  out_features);
  if (!dx.empty())
    gemm(false, false, m, k, n, 1.0f, dy.data(), n, weight.data(), k, 0.0f, dx.data(), k);
}

void Linear::parameters(std::vector<ParamRef>& out) {
  out.push_back({"weight", weight, dweight, true});
  out.push_back({"bias", bias, dbias, true});
}

}  // namespace actlab
