#include "actlab/fold.hpp"

#include <cmath>

namespace actlab {

Sequential fold_batchnorm(const Sequential& model) {
  std::vector<Layer> out;
  const auto& layers = model.layers();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto* lin = std::get_if<Linear>(&layers[i]);
    const auto* bn = i + 1 < layers.size() ? std::get_if<BatchNorm1d>(&layers[i + 1]) : nullptr;
    if (!lin || !bn) {
      out.push_back(layers[i]);
      continue;
    }
    Linear folded = *lin;
    for (std::size_t o = 0; o < lin->out_features; ++o) {
      // In double: the folded weights are then within one float rounding of the exact product.
      const double s = double(bn->weight[o]) / std::sqrt(double(bn->running_var[o]) + double(bn->eps));
      for (std::size_t k = 0; k < lin->in_features; ++k) {
        float& w = folded.weight[o * lin->in_features + k];
        w = float(s * double(w));
      }
      folded.bias[o] = float(s * (double(lin->bias[o]) - bn->running_mean[o]) + bn->bias[o]);
    }
    out.push_back(std::move(folded));
    ++i;  // the BatchNorm is now part of the Linear
  }
  return Sequential(model.in_features(), std::move(out));
}

}  // namespace actlab
