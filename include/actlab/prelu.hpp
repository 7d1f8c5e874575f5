// PReLU over [rows, channels] row-major arrays with one shared slope (weight.size() == 1) or one
// slope per channel (weight.size() == channels): y = x if x > 0, else weight[c] * x.
#pragma once

#include <cstddef>
#include <span>

namespace actlab {

// Assigns y; y may alias x.
void prelu_forward(std::span<float> y, std::span<const float> x, std::span<const float> weight,
                   std::size_t channels);

// Assigns dx = dy * (x > 0 ? 1 : weight[c]) and dweight[c] = sum over x <= 0 of dy * x
// (summed over all elements for a shared weight). dx may alias dy.
void prelu_backward(std::span<float> dx, std::span<float> dweight, std::span<const float> dy,
                    std::span<const float> x, std::span<const float> weight, std::size_t channels);

}  // namespace actlab
