// Reference PReLU with a shared or per-channel slope.
#include "actlab/prelu.hpp"

#include <fmt/format.h>
#include <stdexcept>
#include <vector>

namespace actlab {
namespace {

void check_prelu(std::size_t n, std::size_t weights, std::size_t channels) {
  if (channels == 0 || n % channels != 0)
    throw std::invalid_argument(fmt::format("prelu: {} values do not split into {} channels", n, channels));
  if (weights != 1 && weights != channels)
    throw std::invalid_argument(
        fmt::format("prelu: {} weights for {} channels (need 1 or {})", weights, channels, channels));
}

}  // namespace

void prelu_forward(std::span<float> y, std::span<const float> x, std::span<const float> weight,
                   std::size_t channels) {
  check_prelu(x.size(), weight.size(), channels);
  if (y.size() != x.size()) throw std::invalid_argument("prelu_forward: y and x differ in length");
  const std::size_t step = weight.size() == 1 ? 0 : 1;  // shared slope: always weight[0]
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float a = weight[(i % channels) * step];
    y[i] = x[i] > 0.0f ? x[i] : a * x[i];
  }
}

void prelu_backward(std::span<float> dx, std::span<float> dweight, std::span<const float> dy,
                    std::span<const float> x, std::span<const float> weight, std::size_t channels) {
  check_prelu(x.size(), weight.size(), channels);
  if (dx.size() != x.size() || dy.size() != x.size() || dweight.size() != weight.size())
    throw std::invalid_argument("prelu_backward: array lengths disagree");
  const std::size_t step = weight.size() == 1 ? 0 : 1;
  std::vector<double> acc(weight.size(), 0.0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t w = (i % channels) * step;
    const float g = dy[i];
    if (x[i] > 0.0f) {
      dx[i] = g;
    } else {
      acc[w] += double(g) * x[i];
      dx[i] = g * weight[w];
    }
  }
  for (std::size_t w = 0; w < weight.size(); ++w) dweight[w] = float(acc[w]);
}

}  // namespace actlab
